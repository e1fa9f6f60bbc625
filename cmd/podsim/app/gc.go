package app

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newGCCommand(e *env) *cobra.Command {
	var dry bool
	cmd := &cobra.Command{
		Use:   "gc [--dry-run]",
		Short: "Remove every object podsim made (pods, containers, netns pins, cgroups, files), even after a crash",
		Long: `gc finds what podsim made by label and by name — not only from its records —
and removes it: pods, containerd containers/tasks/snapshots in the podsim
namespace, /run/netns/podsim-* pins, the podsim0 bridge, mounts, the /podsim
cgroup tree, pod files and logs. --dry-run only lists them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e.noAgent = true // gc removes pods; it never needs the agent
			m, err := e.manager()
			if err != nil {
				return err
			}
			if dry {
				inv, err := m.Inventory(e.ctx, e.netCfg.Bridge)
				for _, i := range inv {
					fmt.Fprintln(e.out, i)
				}
				if err == nil && len(inv) == 0 {
					fmt.Fprintln(e.out, "nothing: podsim has left no objects on this host")
				}
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
	cmd.Flags().BoolVar(&dry, "dry-run", false, "only list what podsim made")
	return cmd
}
