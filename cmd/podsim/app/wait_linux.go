package app

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/podsim/podsim/sandbox"
)

// newWaitCommand is kubectl wait for pods: --for=condition=NAME[=value]
// (Ready, ContainersReady, Initialized, PodScheduled, as the pod's status
// reports them) or --for=delete, with kubectl's --timeout (0: check once;
// negative: a week) and messages. It waits on the pods' changes
// (containerd's task events and the records, Manager.WatchChanges), not
// on a polling loop.
func newWaitCommand(e *env) *cobra.Command {
	var forCond string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "wait pod/NAME... --for=condition=Ready|delete [--timeout=30s]",
		Short: "Wait until pods have a condition or are deleted (like kubectl wait)",
		Long: `Wait until each pod has the condition (Ready, ContainersReady, Initialized,
PodScheduled; --for=condition=Ready=False waits for it to be false), or is
deleted. Prints "pod/NAME condition met" for each, as kubectl does; when the
timeout passes, prints "timed out waiting for the condition on pods/NAME" and
exits 1. --timeout=0 checks once; a negative timeout waits a week.`,
		Example: `  podsim wait --for=condition=Ready pod/web --timeout=60s
  podsim wait --for=delete pod/web`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := parseWaitFor(forCond)
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
			if timeout < 0 {
				timeout = 7 * 24 * time.Hour // kubectl: a negative timeout is a week
			}
			return waitPods(e, m, names, w, time.Now().Add(timeout))
		},
	}
	cmd.Flags().StringVar(&forCond, "for", "", "condition=Ready (or another condition, =False to wait for false) or delete")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for all pods (0: check once, negative: a week)")
	return cmd
}

// waitFor is a parsed --for: a deletion, or a condition and its value.
type waitFor struct {
	delete    bool
	condition string
	value     string
}

func parseWaitFor(s string) (waitFor, error) {
	if strings.EqualFold(s, "delete") {
		return waitFor{delete: true}, nil
	}
	cond, ok := strings.CutPrefix(s, "condition=")
	if !ok || cond == "" {
		return waitFor{}, fmt.Errorf("--for=%q is not supported: use --for=condition=Ready or --for=delete", s)
	}
	name, value, _ := strings.Cut(cond, "=")
	if value == "" {
		value = "True"
	}
	return waitFor{condition: name, value: value}, nil
}

// met reports whether the pod (nil: gone) has reached what w waits for.
// The condition comes from the pod's status (PodState.KubePod), compared
// as kubectl does: type and value case-insensitively.
func (w waitFor) met(ps *sandbox.PodState) bool {
	if w.delete || ps == nil {
		return w.delete && ps == nil
	}
	for _, c := range ps.KubePod().Status.Conditions {
		if strings.EqualFold(string(c.Type), w.condition) {
			return strings.EqualFold(string(c.Status), w.value)
		}
	}
	if strings.EqualFold(w.condition, "ContainersReady") { // a status without it: every container runs
		r, t := ps.Ready()
		return (r == t && t > 0) == strings.EqualFold(w.value, "True")
	}
	return false
}

// waitPods waits for each pod in turn until deadline, re-checking on every
// change the watch reports (and once more at the deadline).
func waitPods(e *env, m *sandbox.Manager, names []string, w waitFor, deadline time.Time) error {
	changes, err := m.WatchChanges(e.ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		for {
			ps, err := m.Get(e.ctx, e.namespace, name)
			if err != nil && !errors.Is(err, sandbox.ErrPodNotFound) {
				return err
			}
			if !w.delete && ps == nil {
				return fmt.Errorf("%w: pods %q not found", sandbox.ErrPodNotFound, name)
			}
			if w.met(ps) {
				break
			}
			left := time.Until(deadline)
			if left <= 0 {
				return fmt.Errorf("timed out waiting for the condition on pods/%s", name)
			}
			select {
			case <-e.ctx.Done():
				return e.ctx.Err()
			case _, ok := <-changes:
				if !ok {
					return fmt.Errorf("waiting for pods/%s: the watch on containerd ended", name)
				}
			case <-time.After(left):
			}
		}
		fmt.Fprintf(e.out, "pod/%s condition met\n", name)
	}
	return nil
}
