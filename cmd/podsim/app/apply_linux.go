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

	"github.com/podsim/podsim/objects"
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
			om, err := e.objectManager()
			if err != nil {
				return err
			}
			return applyObjects(e, om, objs)
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest file, directory, or - for stdin")
	return cmd
}

func applyObjects(e *env, om *objects.Manager, objs []sandbox.Object) error {
	return applyHint(om.Apply(e.ctx, objs, e.namespace, func(a objects.Applied) {
		for _, w := range a.Warnings {
			fmt.Fprintln(e.errOut, "Warning: "+w)
		}
		fmt.Fprintln(e.out, a.String())
	}))
}

// readManifests reads every -f argument: files, directories (their .yaml,
// .yml and .json files, sorted) and "-" for stdin.
func readManifests(e *env, args []string) ([]sandbox.Object, error) {
	var all []sandbox.Object
	for _, a := range args {
		var paths []string
		switch fi, err := e.stat(a); {
		case a == "-":
			paths = []string{"-"}
		case err != nil:
			return nil, fmt.Errorf("the path %q does not exist", a)
		case fi.IsDir():
			ents, _ := os.ReadDir(e.path(a))
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
				f, err := e.open(p)
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
