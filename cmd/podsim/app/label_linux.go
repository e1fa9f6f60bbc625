package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsim/podsim/sandbox"
)

// label and annotate change a running pod's metadata, as kubectl label and
// kubectl annotate do; kubelet then rewrites the downwardAPI files that
// show them.
func newLabelCommand(e *env) *cobra.Command {
	return newMetaCommand(e, "label", "labeled", "Change a pod's labels (like kubectl label); downwardAPI files follow",
		func(m *metav1.ObjectMeta) *map[string]string { return &m.Labels })
}

func newAnnotateCommand(e *env) *cobra.Command {
	return newMetaCommand(e, "annotate", "annotated", "Change a pod's annotations (like kubectl annotate); downwardAPI files follow",
		func(m *metav1.ObjectMeta) *map[string]string { return &m.Annotations })
}

func newMetaCommand(e *env, verb, done, short string, field func(*metav1.ObjectMeta) *map[string]string) *cobra.Command {
	var overwrite bool
	cmd := &cobra.Command{
		Use:   verb + " pod NAME KEY=VALUE... [KEY-]...",
		Short: short,
		Long: `Sets (KEY=VALUE) or removes (KEY-) ` + verb + `s of a running pod, with kubectl's
syntax: changing a key that has another value needs --overwrite. The pod
record keeps them, every downwardAPI (or projected downwardAPI) file that
shows the pod's labels or annotations is rewritten at once with kubelet's
..data symlink swap, and Services' hosts entries follow the new labels.
Environment variables keep the values the containers started with, as in
Kubernetes.`,
		Example: `  podsim ` + verb + ` pod downward-api tier=backend
  podsim ` + verb + ` --overwrite pod/downward-api tier=frontend
  podsim ` + verb + ` pod downward-api tier-`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, rest, err := metaTarget(args)
			if err != nil {
				return err
			}
			edits, err := sandbox.ParseMetaEdits(rest)
			if err != nil {
				return err
			}
			m, err := e.manager()
			if err != nil {
				return err
			}
			_, changed, err := m.UpdatePodMetadata(e.ctx, e.namespace, name, func(meta *metav1.ObjectMeta) error {
				p := field(meta)
				nm, _, err := sandbox.ApplyMetaEdits(*p, edits, overwrite)
				*p = nm
				return err
			})
			if errors.Is(err, sandbox.ErrPodNotFound) {
				return withHint(err, "list pods with 'podsim get pods'")
			}
			if err != nil {
				return err
			}
			if !changed {
				done = "not " + done
			}
			fmt.Fprintf(e.out, "pod/%s %s\n", name, done)
			return nil
		},
	}
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "allow changing a key that already has a value")
	return cmd
}

// metaTarget reads "pod NAME ..." or "pod/NAME ..." (pods only: podsim
// keeps no other object that runs).
func metaTarget(args []string) (name string, rest []string, err error) {
	kind, n, slash := strings.Cut(args[0], "/")
	rest = args[1:]
	if !slash {
		if len(args) < 3 {
			return "", nil, fmt.Errorf("give the pod and at least one KEY=VALUE or KEY-: pod NAME KEY=VALUE")
		}
		n, rest = args[1], args[2:]
	}
	switch strings.ToLower(kind) {
	case "pod", "pods", "po":
	default:
		return "", nil, fmt.Errorf("%q: only pods can be changed this way (podsim rebuilds a Deployment's pods from 'podsim apply')", kind)
	}
	return n, rest, nil
}
