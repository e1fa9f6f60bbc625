package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/podsim/podsim/sandbox"
)

func newApplyCommand(e *env) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|-",
		Short: "Create pods and deployments from YAML manifests (like kubectl apply)",
		Example: `  podsim apply -f pod-multiple-containers.yaml
  cat pod.yaml | podsim apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(files) == 0 {
				return errors.New("must specify -f FILE (a file, a directory of .yaml/.yml/.json files, or - for stdin)")
			}
			objs, err := readManifests(e, files)
			if err != nil {
				return err
			}
			m, err := e.manager()
			if err != nil {
				return err
			}
			return applyObjects(e, m, objs)
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest file, directory, or - for stdin")
	return cmd
}

// applyOrder: what pods mount (ConfigMaps, Secrets) first — podsim has no
// kubelet retry loop to wait for them — then workloads in file order, then
// Services, which resolve to the pods just made.
func applyOrder(kind string) int {
	switch kind {
	case "ConfigMap", "Secret":
		return 0
	case "Service":
		return 2
	}
	return 1
}

func applyObjects(e *env, m *sandbox.Manager, objs []sandbox.Object) error {
	sort.SliceStable(objs, func(i, j int) bool { return applyOrder(objs[i].Kind()) < applyOrder(objs[j].Kind()) })
	for _, o := range objs {
		if o.Meta().Namespace == "" {
			o.Meta().Namespace = e.namespace
		}
		switch {
		case o.Pod != nil:
			if st, err := m.Get(e.ctx, o.Pod.Namespace, o.Pod.Name); err == nil {
				// Pods are immutable: re-applying the same spec is a no-op, a different one an error.
				if equality.Semantic.DeepEqual(st.Pod.Spec, o.Pod.Spec) {
					fmt.Fprintf(e.out, "pod/%s unchanged\n", o.Pod.Name)
					continue
				}
				return fmt.Errorf("pod %q already exists with a different spec; pods cannot be changed in place: run 'podsim delete pod %s' first, or use a Deployment", o.Pod.Name, o.Pod.Name)
			}
			if _, err := m.CreatePod(e.ctx, o.Pod); err != nil {
				return err
			}
			fmt.Fprintf(e.out, "pod/%s created\n", o.Pod.Name)
		case o.Deployment != nil:
			res, err := m.ApplyDeployment(e.ctx, o.Deployment)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.out, "deployment.apps/%s %s\n", o.Deployment.Name, res.Action)
		case o.Service != nil:
			action, warns, err := m.ApplyService(e.ctx, o.Service)
			for _, w := range warns {
				fmt.Fprintln(e.errOut, "Warning: "+w)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.out, "service/%s %s\n", o.Service.Name, action)
		case o.ConfigMap != nil:
			action, err := m.ApplyConfigMap(e.ctx, o.ConfigMap)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.out, "configmap/%s %s\n", o.ConfigMap.Name, action)
		case o.Secret != nil:
			action, err := m.ApplySecret(e.ctx, o.Secret)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.out, "secret/%s %s\n", o.Secret.Name, action)
		}
	}
	return nil
}

// readManifests reads every -f argument: files, directories (their .yaml,
// .yml and .json files, sorted) and "-" for stdin.
func readManifests(e *env, args []string) ([]sandbox.Object, error) {
	var all []sandbox.Object
	for _, a := range args {
		var paths []string
		switch fi, err := os.Stat(a); {
		case a == "-":
			paths = []string{"-"}
		case err != nil:
			return nil, fmt.Errorf("the path %q does not exist", a)
		case fi.IsDir():
			ents, _ := os.ReadDir(a)
			for _, en := range ents {
				ext := strings.ToLower(filepath.Ext(en.Name()))
				if !en.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
					paths = append(paths, filepath.Join(a, en.Name()))
				}
			}
			sort.Strings(paths)
			if len(paths) == 0 {
				return nil, fmt.Errorf("directory %q has no .yaml, .yml or .json files", a)
			}
		default:
			paths = []string{a}
		}
		for _, p := range paths {
			var r io.Reader
			name := p
			if p == "-" {
				r, name = e.in, "stdin"
			} else {
				f, err := os.Open(p)
				if err != nil {
					return nil, err
				}
				defer f.Close()
				r = f
			}
			objs, err := sandbox.ParseManifests(r, name)
			if err != nil {
				return nil, err
			}
			all = append(all, objs...)
		}
	}
	return all, nil
}
