package app

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/podsim/podsim/objects"
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
			var o objects.DeleteOptions
			if now {
				d := time.Second
				o.Grace = &d
			}
			if grace >= 0 {
				d := time.Duration(grace) * time.Second
				o.Grace = &d
			}
			refs, err := deleteTargets(e, files, args, all)
			if err != nil {
				return err
			}
			om, err := e.objectManager()
			if err != nil {
				return err
			}
			var errs []error // every error reaches the report, where it gets its hint
			_ = om.Delete(e.ctx, e.namespace, refs, o, func(r objects.Ref, err error) {
				if err != nil {
					errs = append(errs, notFoundHint(r.Kind, err))
					return
				}
				fmt.Fprintf(e.out, "%s %q deleted\n", r.Kind.Resource, r.Name)
			})
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

// deleteTargets are the objects delete's arguments name: those of the
// -f manifests, or TYPE NAME..., TYPE/NAME, or every one of TYPE (--all).
func deleteTargets(e *env, files, args []string, all bool) ([]objects.Ref, error) {
	var refs []objects.Ref
	if len(files) > 0 {
		if len(args) > 0 {
			return nil, errors.New("give either -f FILE or a resource type and names, not both")
		}
		objs, err := readManifests(e, files)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			refs = append(refs, objects.RefOf(o))
		}
		return refs, nil
	}
	if len(args) == 0 {
		return nil, errors.New("say what to delete: 'podsim delete pod NAME', 'podsim delete deployment NAME', 'podsim delete -f FILE' or 'podsim delete pods --all'")
	}
	kind, names := args[0], args[1:]
	if k, n, ok := strings.Cut(kind, "/"); ok {
		kind, names = k, append([]string{n}, names...)
	}
	k, err := objects.KindOf(kind)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 && !all {
		return nil, fmt.Errorf("name the %s(s) to delete, or use --all", strings.ToLower(k.Kind))
	}
	if all {
		om, err := e.objectManager()
		if err != nil {
			return nil, err
		}
		every, err := om.Names(e.ctx, e.namespace, k)
		if err != nil {
			return nil, err
		}
		names = append(every, names...)
	}
	for _, n := range names {
		refs = append(refs, objects.Ref{Kind: k, Name: n})
	}
	return refs, nil
}
