package app

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newGCCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "gc",
		Short: "Remove every object podsim made (pods, containers, netns pins, cgroups, files), even after a crash",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := e.manager()
			if err != nil {
				return err
			}
			done, err := m.GC(e.ctx, e.netCfg.Bridge)
			for _, d := range done {
				fmt.Fprintln(e.out, "removed "+d)
			}
			if err == nil && len(done) == 0 {
				fmt.Fprintln(e.out, "nothing to remove")
			}
			return err
		},
	}
}
