package app

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/podsim/podsim/sandbox"
	"github.com/podsim/podsim/scenarios"
)

func newTourCommand(e *env) *cobra.Command {
	var yes, patterns bool
	cmd := &cobra.Command{
		Use:   "tour [--yes] [--patterns]",
		Short: "A guided tour of the article: why c2 reaches c1 on localhost but cannot see its processes",
		Long: `The tour walks through the article's section "How do multi-container pods
work?" with the article's own pod (podtest: two busybox containers and an
emptyDir). For each step it prints the article's kubectl command, the podsim
command it runs instead, the output, and what the output proves: which
namespace or cgroup made it so, with the inodes read from /proc/<pid>/ns/*.

Then it shows shareProcessNamespace and the port conflict, tears the pods down
and points to the pattern scenarios (ambassador, adapter, sidecar, init);
with --patterns it runs those whose images podsim can build here.

On a terminal it waits for Enter between steps (q quits); --yes runs
straight through, as CI does. It deletes every pod it made, also when a step
fails or on Ctrl-C.`,
		Example: `  sudo podsim tour
  sudo podsim tour --yes
  sudo podsim tour --yes --trace      # and every kernel step of building the pods`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := e.manager()
			if err != nil {
				return err
			}
			tr := &scenarios.Tour{M: m, Namespace: e.namespace, In: e.in, Out: e.out,
				Interactive: !yes && isTerminal(e.in), Patterns: patterns}
			if cat, err := e.images(); err == nil {
				tr.Images = cat
			}
			e.traceTap = tr.Observe
			defer func() { e.traceTap = nil }()
			err = tr.Run(e.ctx)
			if errors.Is(err, sandbox.ErrPodExists) {
				return fmt.Errorf("%w\n(the tour makes its own podtest: delete yours, or run the tour in another namespace: podsim tour -n tour)", err)
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not wait for Enter between steps")
	cmd.Flags().BoolVar(&patterns, "patterns", false, "also run the pattern scenarios whose images podsim can build here")
	return cmd
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
