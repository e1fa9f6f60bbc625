package app

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/podsim/podsim/sandbox"
)

// writeGVisor prints, for a pod of the runsc handler, both sides of the
// kernel boundary: what the host kernel runs for the pod (one gVisor Sentry,
// a gofer per container: their threads, memory, namespaces and cgroup) next
// to what each container sees when asked (its kernel release, its PID 1,
// its /proc).
func writeGVisor(out io.Writer, in *sandbox.Inspection, v *sandbox.GVisorView) {
	if v == nil {
		return
	}
	host, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Fprintf(out, "\ngVisor (runtimeClassName %s, handler runsc): the pod is one gVisor sandbox. One Sentry, a kernel in user space,\n", sandbox.RuntimeClassName(&in.State.Pod))
	fmt.Fprintln(out, "runs every container of the pod (the pause is its first): that is why every row of the table above has the same PID.")
	fmt.Fprintln(out, "The namespaces there are the Sentry's own, as the host kernel sees them; the containers' namespaces are the Sentry's,")
	fmt.Fprintln(out, "inside it. The Sentry's network stack (netstack) owns the pod's eth0 in the pinned netns, so localhost is one.")
	if v.Sentry.PID != 0 {
		fmt.Fprintf(out, "  host sees the Sentry (runsc-sandbox): %s\n", procText(v.Sentry))
		fmt.Fprintf(out, "    in the pod cgroup %s (runsc runs the whole sandbox there); it runs in a user namespace runsc made, mapping %q\n", v.Cgroup, v.UIDMap)
	}
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  CONTAINER\tHOST SEES: GOFER (runsc-gofer)\tCONTAINER SEES: KERNEL\tPID 1\tPIDS IN ITS /proc (ls included)")
	for _, r := range v.Rows {
		switch {
		case r.Err != "":
			fmt.Fprintf(tw, "  %s\t%s\t(%s)\t\t\n", r.Name, procText(r.Gofer), r.Err)
		case r.Kernel == "":
			fmt.Fprintf(tw, "  %s\t%s\t(the pause image has no programs to ask with)\t\t\n", r.Name, procText(r.Gofer))
		default:
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", r.Name, procText(r.Gofer), r.Kernel, r.PID1, strings.Join(r.PIDs, " "))
		}
	}
	tw.Flush()
	fmt.Fprintf(out, "The host kernel is %s; the containers' is the Sentry's. Each container's PID 1 is its command, a process only the\n", strings.TrimSpace(string(host)))
	fmt.Fprintln(out, "Sentry knows: no host process runs it, and its /proc lists its own processes in the Sentry, not the host's.")
	fmt.Fprintln(out, "Each gofer has a network namespace with no network (runsc's null-netns): it only serves its container's files.")
}

func procText(p sandbox.HostProc) string {
	if p.PID == 0 {
		return "-"
	}
	return fmt.Sprintf("pid %d, %d threads, %.1f MB RSS, net %d", p.PID, p.Threads, float64(p.RSSKB)/1024, p.NS["net"].Inode)
}
