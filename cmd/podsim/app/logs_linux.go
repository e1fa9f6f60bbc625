package app

import (
	"github.com/spf13/cobra"

	"github.com/podsim/podsim/sandbox"
)

func newLogsCommand(e *env) *cobra.Command {
	var container string
	o := sandbox.LogOptions{}
	cmd := &cobra.Command{
		Use:   "logs POD|deploy/NAME [CONTAINER] [-c CONTAINER] [-f] [--tail N]",
		Short: "Print a container's logs (like kubectl logs)",
		Long: `Print what a container wrote to stdout and stderr. The node agent reads each
container's stdout/stderr FIFOs (as containerd's CRI plugin does) and stores
the lines in CRI's format under /var/log/podsim/pods/.`,
		Example: `  podsim logs podtest c1
  podsim logs deploy/elasticsearch -c nginx-proxy -f`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				container = args[1]
			}
			m, err := e.manager()
			if err != nil {
				return err
			}
			pod, err := resolvePod(e, m, args[0])
			if err != nil {
				return err
			}
			return m.Logs(e.ctx, e.namespace, pod, container, o, e.out)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&container, "container", "c", "", "container name (default: the pod's first container)")
	f.BoolVarP(&o.Follow, "follow", "f", false, "keep printing new output until the container exits")
	f.IntVar(&o.Tail, "tail", -1, "number of recent lines to show (-1: all)")
	f.BoolVar(&o.Timestamps, "timestamps", false, "prefix each line with its time")
	f.BoolVarP(&o.Previous, "previous", "p", false, "print the logs of the previous attempt of a restarted container")
	return cmd
}
