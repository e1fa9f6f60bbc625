package app

import (
	"errors"
	"fmt"
	"sort"
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
		Use:   "delete pod|deployment|service|configmap|secret NAME... | -f FILE | TYPE --all",
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
				// Services and workloads before the ConfigMaps and Secrets they mount.
				rank := map[string]int{"Service": 0, "Pod": 1, "Deployment": 1, "ConfigMap": 2, "Secret": 2}
				sort.SliceStable(objs, func(i, j int) bool { return rank[objs[i].Kind()] < rank[objs[j].Kind()] })
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
				k, err := normalizeKind(kind)
				if err != nil {
					return err
				}
				kind = k
				if len(names) == 0 && !all {
					return fmt.Errorf("name the %s(s) to delete, or use --all", kind)
				}
				if all {
					m, err := e.manager()
					if err != nil {
						return err
					}
					names, err := allNames(e, m, kind)
					if err != nil {
						return err
					}
					for _, n := range names {
						targets = append(targets, target{kind, n})
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
				case "service":
					if err := m.DeleteService(e.ctx, e.namespace, t.name); err != nil {
						errs = append(errs, err)
						continue
					}
					fmt.Fprintf(e.out, "service %q deleted\n", t.name)
				case "configmap":
					if err := m.DeleteConfigMap(e.namespace, t.name); err != nil {
						errs = append(errs, err)
						continue
					}
					fmt.Fprintf(e.out, "configmap %q deleted\n", t.name)
				case "secret":
					if err := m.DeleteSecret(e.namespace, t.name); err != nil {
						errs = append(errs, err)
						continue
					}
					fmt.Fprintf(e.out, "secret %q deleted\n", t.name)
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

// normalizeKind maps kubectl's resource names and short names to podsim's kinds.
func normalizeKind(kind string) (string, error) {
	switch strings.ToLower(kind) {
	case "pod", "pods", "po":
		return "pod", nil
	case "deployment", "deployments", "deploy", "deployments.apps", "deployment.apps":
		return "deployment", nil
	case "service", "services", "svc":
		return "service", nil
	case "configmap", "configmaps", "cm":
		return "configmap", nil
	case "secret", "secrets":
		return "secret", nil
	}
	return "", fmt.Errorf("the server doesn't have a resource type %q: podsim knows pods, deployments, services, configmaps and secrets", kind)
}

// allNames lists the names of every object of a kind in the namespace.
func allNames(e *env, m *sandbox.Manager, kind string) ([]string, error) {
	var out []string
	switch kind {
	case "pod":
		pods, err := m.List(e.ctx, e.namespace)
		for _, p := range pods {
			out = append(out, p.Pod.Name)
		}
		return out, err
	case "deployment":
		ds, err := m.Deployments(e.ctx, e.namespace)
		for _, d := range ds {
			out = append(out, d.Deployment.Name)
		}
		return out, err
	case "service":
		l, err := m.Services(e.namespace)
		for _, x := range l {
			out = append(out, x.Name)
		}
		return out, err
	case "configmap":
		l, err := m.ConfigMaps(e.namespace)
		for _, x := range l {
			out = append(out, x.Name)
		}
		return out, err
	case "secret":
		l, err := m.Secrets(e.namespace)
		for _, x := range l {
			out = append(out, x.Name)
		}
		return out, err
	}
	return nil, nil
}
