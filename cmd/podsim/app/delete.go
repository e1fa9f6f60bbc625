package app

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/podsim/podsim/sandbox"
)

func newDeleteCommand(e *env) *cobra.Command {
	var files []string
	var all, now bool
	var grace int
	cmd := &cobra.Command{
		Use:   "delete pod NAME... | deployment NAME... | -f FILE | pods --all",
		Short: "Delete pods or deployments, tearing down their kernel objects (like kubectl delete)",
		Long: `Delete stops the containers (SIGTERM, then SIGKILL after the grace period),
removes the pause container, runs CNI DEL, unpins the network namespace and
removes the pod cgroup and files. A container whose PID 1 has no SIGTERM
handler cannot be stopped by SIGTERM (the kernel drops it), so podsim sends
SIGKILL at once instead of waiting out the grace period.`,
		Example: `  podsim delete pod podtest
  podsim delete -f pod-multiple-containers.yaml
  podsim delete pods --all`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var gp *time.Duration
			if now {
				d := time.Second
				gp = &d
			}
			if grace >= 0 {
				d := time.Duration(grace) * time.Second
				gp = &d
			}
			type target struct{ kind, name string }
			var targets []target
			if len(files) > 0 {
				if len(args) > 0 {
					return errors.New("give either -f FILE or a resource type and names, not both")
				}
				objs, err := readManifests(e, files)
				if err != nil {
					return err
				}
				for _, o := range objs {
					targets = append(targets, target{strings.ToLower(o.Kind()), o.Name()})
				}
			} else {
				if len(args) == 0 {
					return errors.New("say what to delete: 'podsim delete pod NAME', 'podsim delete deployment NAME', 'podsim delete -f FILE' or 'podsim delete pods --all'")
				}
				kind, names := args[0], args[1:]
				if k, n, ok := strings.Cut(kind, "/"); ok {
					kind, names = k, append([]string{n}, names...)
				}
				switch kind {
				case "pod", "pods", "po":
					kind = "pod"
				case "deployment", "deployments", "deploy", "deployments.apps":
					kind = "deployment"
				default:
					return fmt.Errorf("unknown resource type %q: podsim deletes pods and deployments", kind)
				}
				if len(names) == 0 && !all {
					return fmt.Errorf("name the %s(s) to delete, or use --all", kind)
				}
				if all {
					m, err := e.manager()
					if err != nil {
						return err
					}
					if kind == "pod" {
						pods, err := m.List(e.ctx, e.namespace)
						if err != nil {
							return err
						}
						for _, p := range pods {
							targets = append(targets, target{"pod", p.Pod.Name})
						}
					} else {
						ds, err := m.Deployments(e.ctx, e.namespace)
						if err != nil {
							return err
						}
						for _, d := range ds {
							targets = append(targets, target{"deployment", d.Deployment.Name})
						}
					}
				}
				for _, n := range names {
					targets = append(targets, target{kind, n})
				}
			}
			m, err := e.manager()
			if err != nil {
				return err
			}
			var errs []error
			for _, t := range targets {
				switch t.kind {
				case "pod":
					g := 30 * time.Second
					if st, err := m.Get(e.ctx, e.namespace, t.name); err == nil {
						g = sandbox.GracePeriod(&st.Pod)
					}
					if gp != nil {
						g = *gp
					}
					if err := m.DeletePod(e.ctx, e.namespace, t.name, g); err != nil {
						errs = append(errs, err)
						continue
					}
					fmt.Fprintf(e.out, "pod %q deleted\n", t.name)
				case "deployment":
					if err := m.DeleteDeployment(e.ctx, e.namespace, t.name, gp); err != nil {
						errs = append(errs, err)
						continue
					}
					fmt.Fprintf(e.out, "deployment.apps %q deleted\n", t.name)
				}
			}
			return errors.Join(errs...)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&files, "filename", "f", nil, "delete the objects of this manifest")
	f.BoolVar(&all, "all", false, "delete every object of the type in the namespace")
	f.BoolVar(&now, "now", false, "signal the containers at once (grace period 1s)")
	f.IntVar(&grace, "grace-period", -1, "seconds to wait after SIGTERM before SIGKILL (default: the pod's terminationGracePeriodSeconds, 30)")
	return cmd
}
