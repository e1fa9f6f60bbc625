package app

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/podsim/podsim/sandbox"
	"github.com/podsim/podsim/sandbox/runtime"
)

func newSystemCommand(e *env) *cobra.Command {
	sys := &cobra.Command{
		Use:   "system",
		Short: "Manage podsim's own containerd and the node agent",
	}
	sys.AddCommand(&cobra.Command{
		Use:   "stop",
		Short: "Stop the node agent and podsim's own containerd (by their recorded PIDs) and remove the idle pod bridge; running pods' containers keep running",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e.noAgent = true
			// The agent first: it must not act on pods while containerd goes.
			if pid, err := runtime.StopAgent(e.ctx, runtime.Options{}); err != nil {
				return err
			} else if pid > 0 {
				fmt.Fprintf(e.out, "stopped the node agent (pid %d)\n", pid)
			}
			// The bridge stays between pods like a node's cni0; with the
			// runtime gone it goes too, unless a pod is still plugged in.
			br := sandbox.DefaultNetworkConfig().Bridge
			if removed, err := sandbox.RemoveIdleBridge(e.ctx, sandbox.DefaultPaths(), br); err != nil {
				return err
			} else if removed {
				fmt.Fprintf(e.out, "removed the idle bridge %s\n", br)
			}
			pid, running := runtime.EmbeddedStatus(runtime.Options{})
			if !running {
				fmt.Fprintln(e.out, "podsim's containerd is not running")
				return nil
			}
			if err := runtime.Stop(e.ctx, runtime.Options{}); err != nil {
				return err
			}
			fmt.Fprintf(e.out, "stopped podsim's containerd (supervisor pid %d)\n", pid)
			return nil
		},
	}, &cobra.Command{
		Use:   "status",
		Short: "Say whether podsim's own containerd and the node agent are running",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if pid, ok := runtime.EmbeddedStatus(runtime.Options{}); ok {
				fmt.Fprintf(e.out, "podsim's containerd is running (supervisor pid %d)\n", pid)
			} else {
				fmt.Fprintln(e.out, "podsim's containerd is not running")
			}
			fmt.Fprintln(e.out, agentLine())
			return nil
		},
	})
	sys.AddCommand(&cobra.Command{
		Use:   "info",
		Short: "Show which containerd podsim uses (starting its own if none answers)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := e.manager(); err != nil {
				return err
			}
			fmt.Fprintf(e.out, "kind: %s\naddress: %s\nversion: %s\nnamespace: %s\n", e.info.Kind, e.info.Address, e.info.Version, runtime.Namespace)
			if e.info.Kind == runtime.KindEmbedded {
				fmt.Fprintf(e.out, "supervisor-pid: %d\nlog: %s\n", e.info.PID, e.info.Log)
			}
			return nil
		},
	})
	var config string
	sup := &cobra.Command{
		Use:    "supervise-containerd",
		Hidden: true,
		Short:  "Run containerd as a child subreaper (started by podsim itself)",
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runtime.Supervise(cmd.Context(), config)
		},
	}
	sup.Flags().StringVar(&config, "config", "", "containerd config file")
	sys.AddCommand(sup, newAgentCommand(e))
	return sys
}
