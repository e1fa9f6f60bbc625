package app

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/podsim/podsim/sandbox"
)

// newDescribeCommand is kubectl describe pod: the pod, its containers'
// state, last state, restart counts and probes, its conditions, volumes and
// events, in kubectl's layout (sandbox.DescribePod).
func newDescribeCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "describe pod NAME... | pod/NAME",
		Short: "Show a pod's details and events (like kubectl describe pod)",
		Long: `Show a pod as kubectl describe does: node, start time, labels, IP; each init and
app container with its containerd ID, image, state (Running, Waiting with its
reason, Terminated with exit code), last state, readiness, restart count,
probes, environment and mounts; the pod's conditions, volumes, QoS class, and
the events kubelet records (Scheduled, Pulled, Created, Started, Killing,
BackOff, SandboxChanged, ...), repeats folded as "(xN over T)".
Without a name, every pod of the namespace.`,
		Example: `  podsim describe pod podtest
  podsim describe pod/web -n shop`,
		Args: cobra.RangeArgs(1, 16),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, names := args[0], args[1:]
			if k, n, ok := strings.Cut(kind, "/"); ok {
				kind, names = k, append([]string{n}, names...)
			}
			if kind != "pod" && kind != "pods" && kind != "po" {
				return fmt.Errorf("podsim describes pods only, not %q: use 'podsim describe pod NAME'", kind)
			}
			m, err := e.manager()
			if err != nil {
				return err
			}
			var pods []*sandbox.PodState
			if len(names) == 0 {
				if pods, err = m.List(e.ctx, e.namespace); err != nil {
					return err
				}
			}
			for _, n := range names {
				p, err := m.Get(e.ctx, e.namespace, n)
				if err != nil {
					return err
				}
				pods = append(pods, p)
			}
			node, _ := os.Hostname()
			for i, p := range pods {
				if i > 0 {
					fmt.Fprint(e.out, "\n\n")
				}
				evs, err := m.PodEvents(p.ID)
				if err != nil {
					return err
				}
				if err := sandbox.DescribePod(e.out, p.KubePod(), node, evs, time.Now()); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
