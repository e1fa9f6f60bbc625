package app

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/namespaces"
	"github.com/podsim/podsim/sandbox"
)

func newInspectCommand(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "inspect POD",
		Short: "Show the kernel objects of a pod: namespaces of every container, cgroup, netns, veth",
		Long: `Show what a pod is made of, read from the kernel: for the pause container and
each app container, the inode of each of its namespaces (/proc/<pid>/ns/*),
marked "shared" when it is the pause container's (the pod's), "own" when the
container has its own, and "host" when it is the host's; the pod cgroup, the
pinned network namespace and the veth pair that plugs it into the bridge.

With -o svg (or -o dot for Graphviz) it draws the pod instead: the pod
cgroup, the namespaces the pause container holds for the pod, each container
with its own mount and PID namespaces, the volumes and the containers that
mount them, eth0, the veth pair and the bridge.`,
		Example: `  podsim inspect podtest
  podsim inspect podtest -o svg > podtest.svg   # open it in a browser
  podsim inspect podtest -o dot | dot -Tpng > podtest.png`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkInspectOutput(output); err != nil {
				return err
			}
			m, err := e.manager()
			if err != nil {
				return err
			}
			pod, err := resolvePod(e, m, args[0])
			if err != nil {
				return err
			}
			in, err := m.Inspect(e.ctx, e.namespace, pod)
			if err != nil {
				return err
			}
			if output != "" {
				return writeInspectGraph(e.ctx, e.out, m, in, output)
			}
			st := in.State
			fmt.Fprintf(e.out, "Pod:        %s/%s (uid %s)\n", st.Pod.Namespace, st.Pod.Name, st.Pod.UID)
			fmt.Fprintf(e.out, "Status:     %s\n", st.StatusText())
			if st.Pod.Spec.HostNetwork {
				fmt.Fprintf(e.out, "IP:         %s, the node's (hostNetwork: true)\n", orNone(st.IP))
				fmt.Fprintf(e.out, "network:    host (hostNetwork: true): the host's network namespace %s and its interfaces; no pin, no CNI, no veth\n", in.Host["net"])
			} else {
				fmt.Fprintf(e.out, "IP:         %s on eth0 (MAC %s)\n", orNone(st.IP), orNone(st.MAC))
				fmt.Fprintf(e.out, "veth:       %s (host side, on bridge %s) <-> eth0 (in the pod's netns)\n", orNone(st.HostIf), orNone(st.Bridge))
				fmt.Fprintf(e.out, "netns pin:  %s  %s\n", orNone(st.NetNS), in.NetNSID)
			}
			fmt.Fprintf(e.out, "cgroup:     %s (cgroup %s; directories below)\n", orNone(st.Cgroup), cgroups.Mode())
			for _, d := range in.CgroupDirs {
				fmt.Fprintf(e.out, "            %s\n", d)
			}
			fmt.Fprintln(e.out, "\ncgroup tree (limits read from the kernel's files):")
			tw0 := tabwriter.NewWriter(e.out, 0, 8, 2, ' ', 0)
			files := cgroups.LimitFiles()
			fmt.Fprintln(tw0, "  CGROUP\t"+strings.Join(files, "\t"))
			row := func(label, path string) {
				cols := []string{label}
				for _, f := range files {
					v, err := cgroups.ReadFile(path, f)
					if err != nil {
						v = "-"
					}
					cols = append(cols, v)
				}
				fmt.Fprintln(tw0, strings.Join(cols, "\t"))
			}
			row("  "+st.Cgroup+" (pod)", st.Cgroup)
			row("  └ POD (pause)", st.Pause.Cgroup)
			for _, c := range append(append(append([]sandbox.ContainerState{}, st.Init...), st.Containers...), st.Ephemeral...) {
				row("  └ "+c.Name, c.Cgroup)
			}
			tw0.Flush()
			fmt.Fprintln(e.out)
			tw := tabwriter.NewWriter(e.out, 0, 8, 2, ' ', 0)
			head := []string{"CONTAINER", "PID"}
			for _, t := range namespaces.Types {
				head = append(head, strings.ToUpper(t))
			}
			fmt.Fprintln(tw, strings.Join(head, "\t"))
			for _, r := range in.Rows {
				name := r.Name
				if r.Role == sandbox.RoleEphemeral {
					name += " (ephemeral)"
				}
				cols := []string{name, fmt.Sprint(r.PID)}
				if r.Err != "" {
					cols = append(cols, "("+r.Err+")")
				} else {
					for _, t := range namespaces.Types {
						id, ok := r.NS[t]
						if !ok {
							cols = append(cols, "-")
							continue
						}
						cols = append(cols, fmt.Sprintf("%d %s", id.Inode, in.Label(r, t)))
					}
				}
				fmt.Fprintln(tw, strings.Join(cols, "\t"))
			}
			tw.Flush()
			fmt.Fprintln(e.out, "\nshared = same namespace as the pause container (the pod's); own = the container's alone; host = not isolated (the pod field that asked for it in brackets);")
			fmt.Fprintln(e.out, "target = an ephemeral container in its --target container's PID namespace.")
			fmt.Fprintln(e.out, "POD is the pause container: it holds the pod's net, ipc and uts namespaces for the app containers to join.")
			writeUserNS(e.out, in)
			writeGVisor(e.out, in, m.InspectGVisor(e.ctx, in))
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "draw the pod: "+inspectOutputs)
	return cmd
}
