package app

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newGCCommand(e *env) *cobra.Command {
	var dry, inv bool
	cmd := &cobra.Command{
		Use:   "gc [--dry-run | --inventory]",
		Short: "Remove every object podsim made (pods, containers, leases, snapshots, shims, netns pins, cgroups, files), even after a crash",
		Long: `gc finds what podsim made by label and by name — not only from its records —
and removes it: pods, containerd containers/tasks in the podsim namespace,
leases whose podsim process is gone (with the snapshots and content ingests
only they held), active snapshots no container uses, orphan runc shims of
the podsim namespace (shut down over their socket, as containerd does),
mounts, /run/netns/podsim-* pins, pod files and logs, the /podsim cgroup
tree, IPAM reservations and the idle podsim0 bridge. It returns once what it
removed is gone, and says what is still going away.

--dry-run lists exactly what gc would remove, one line each, as gc prints
them. Stored objects (Deployments, Services, ConfigMaps, Secrets) and the
leases of podsim commands that still run are kept; both forms mention them.
--inventory lists every object podsim made that exists now, kept ones too
(the leak check the integration tests compare before and after).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e.noAgent = true // gc removes pods; it never needs the agent
			m, err := e.manager()
			if err != nil {
				return err
			}
			if inv {
				lines, err := m.Inventory(e.ctx, e.netCfg.Bridge)
				for _, l := range lines {
					fmt.Fprintln(e.out, l)
				}
				return err
			}
			rep, err := m.GC(e.ctx, e.netCfg.Bridge, dry)
			if rep == nil {
				return err
			}
			verb := "removed "
			if dry {
				verb = ""
			}
			for _, d := range rep.Removed {
				fmt.Fprintln(e.out, verb+d)
			}
			for _, g := range rep.Going {
				fmt.Fprintln(e.out, "still going away: "+g)
			}
			for _, k := range rep.Kept {
				fmt.Fprintln(e.errOut, "kept: "+k)
			}
			if err == nil && len(rep.Removed) == 0 && len(rep.Going) == 0 {
				if dry {
					fmt.Fprintln(e.out, "nothing: gc has nothing to remove")
				} else {
					fmt.Fprintln(e.out, "nothing to remove")
				}
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&dry, "dry-run", false, "only list what gc would remove")
	cmd.Flags().BoolVar(&inv, "inventory", false, "only list every object podsim made, kept ones too")
	cmd.MarkFlagsMutuallyExclusive("dry-run", "inventory")
	return cmd
}
