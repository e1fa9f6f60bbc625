package app

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/podsim/podsim/sandbox"
)

// newWaitCommand is kubectl wait for pods: --for=condition=Ready (every
// container running: podsim has no readiness probes yet) or --for=delete.
func newWaitCommand(e *env) *cobra.Command {
	var forCond string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "wait pod/NAME... --for=condition=Ready|delete [--timeout=30s]",
		Short: "Wait until pods are Ready or deleted (like kubectl wait)",
		Long: `Wait until each pod has the condition Ready (all its containers run; podsim has
no readiness probes, so that is kubelet's Ready for a pod without them), or is
deleted. Prints "pod/NAME condition met" for each; exits 1 if the timeout passes.`,
		Example: `  podsim wait --for=condition=Ready pod/web --timeout=60s
  podsim wait --for=delete pod/web`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			del, err := parseWaitFor(forCond)
			if err != nil {
				return err
			}
			var names []string
			for _, a := range args {
				kind, name, ok := strings.Cut(a, "/")
				if !ok {
					return fmt.Errorf("%q: name the pod as pod/NAME", a)
				}
				if kind != "pod" && kind != "pods" && kind != "po" {
					return fmt.Errorf("%q: podsim waits for pods only", a)
				}
				names = append(names, name)
			}
			m, err := e.manager()
			if err != nil {
				return err
			}
			deadline := time.Now().Add(timeout)
			for _, name := range names {
				for {
					ps, err := m.Get(e.ctx, e.namespace, name)
					if err != nil && !errors.Is(err, sandbox.ErrPodNotFound) {
						return err
					}
					if del && ps == nil {
						break
					}
					if !del && ps == nil {
						return err // kubectl: a missing pod is an error for a condition
					}
					if r, t := ps.Ready(); !del && r == t && t > 0 {
						break
					}
					if time.Now().After(deadline) {
						return fmt.Errorf("timed out waiting for the condition on pods/%s", name)
					}
					select {
					case <-e.ctx.Done():
						return e.ctx.Err()
					case <-time.After(200 * time.Millisecond):
					}
				}
				fmt.Fprintf(e.out, "pod/%s condition met\n", name)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&forCond, "for", "", "condition=Ready or delete")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for all pods")
	return cmd
}

func parseWaitFor(s string) (del bool, err error) {
	switch {
	case strings.EqualFold(s, "delete"):
		return true, nil
	case strings.EqualFold(s, "condition=Ready"), strings.EqualFold(s, "condition=ContainersReady"):
		return false, nil
	}
	return false, fmt.Errorf("--for=%q is not supported: use --for=condition=Ready or --for=delete", s)
}
