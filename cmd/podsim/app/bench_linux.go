package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/podsim/podsim/bench"
	"github.com/podsim/podsim/sandbox"
)

func newBenchCommand(e *env) *cobra.Command {
	var o bench.Options
	var asJSON bool
	var save, cpuProfile, pods, systems, scaleSystems string
	cmd := &cobra.Command{
		Use:   "bench [--runs N] [--json] [--scale N]",
		Short: "Measure podsim against containerd's CRI (crictl), podman and plain runc on this machine",
		Long: `bench builds the same pods again and again through podsim (in process, and
through its CLI), through containerd's CRI plugin with crictl, through podman
'kube play' (with a bridge network that has no gateway and no NAT, and with
--network none), and through the floor no runc-based tool can beat (a pinned
netns plus 'runc run -d' of the pause and each container). The systems take
turns within every round, so they share the machine's noise.

The headline is what a user sees: whole processes ('podsim apply -f' until
both containers run, 'podsim delete pod' until nothing is left) against
crictl's processes (runp, create + start per container; stopp, rmp) and
'podman kube play' / 'kube down', as ratios taken per round, with their
median, IQR and range. podsim in process (sandbox.Manager) and its phases
from the trace events are the breakdown. Memory per pod counts every
process a system adds per pod (shims, pause, log drivers, conmon,
catatonit: the shim's tree minus the containers' own processes) and, for
podsim, its node agent's RSS divided by the pods it serves. --scale N also
builds N pods one after another per system (time per pod at 1, 10 and N)
and samples the agent's CPU with them idle.

The reference containerd (CRI plugin on) runs under /run/podsim-bench and
/var/lib/podsim-bench with its own bridge (podsimbench0, 10.223.0.0/16) and
is stopped at the end; podman uses its own configuration and storage there
too. Everything the bench makes is removed afterwards, also on failure or
Ctrl-C, and anything left is reported. Install crictl and podman with
'sudo hack/bench/install-reference.sh'; a system that cannot run is reported
as not measured, never estimated.`,
		Example: `  sudo podsim bench --runs 5
  sudo podsim bench --runs 20 --scale 100 --json > bench.json
  sudo podsim bench --pods 2c --systems podsim,cri --cpuprofile cpu.out`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := e.manager(); err != nil {
				return err
			}
			exe, err := selfExe()
			if err != nil {
				return err
			}
			tracer := &bench.Tracer{}
			paths := sandbox.DefaultPaths()
			network, err := sandbox.NewCNINetwork(e.netCfg, filepath.Join(paths.State, "cni"))
			if err != nil {
				return err
			}
			o.Manager = sandbox.New(sandbox.Options{Client: e.client, Images: e.catalog, Network: network, Paths: paths,
				SelfExe: exe, NeedAgent: e.ensureAgent, Trace: tracer.Trace})
			o.Tracer, o.Client, o.Catalog, o.PodsimExe = tracer, e.client, e.catalog, exe
			o.Address, o.Version, o.CNIBinDirs = e.info.Address, e.info.Version, e.netCfg.BinDirs
			o.Layout = bench.DefaultLayout()
			o.Cases, o.Only, o.ScaleSystems = splitList(pods), splitList(systems), splitList(scaleSystems)
			o.Progress = func(s string) { fmt.Fprintln(e.errOut, "bench: "+s) }
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			rep, err := bench.Run(e.ctx, o)
			if rep != nil {
				if save != "" {
					if b, jerr := json.MarshalIndent(rep, "", "  "); jerr == nil {
						if werr := os.WriteFile(save, append(b, '\n'), 0o644); werr != nil {
							fmt.Fprintln(e.errOut, "error: saving "+save+": "+werr.Error())
						}
					}
				}
				if asJSON {
					enc := json.NewEncoder(e.out)
					enc.SetIndent("", "  ")
					if jerr := enc.Encode(rep); jerr != nil {
						return jerr
					}
				} else {
					rep.WriteText(e.out)
				}
			}
			if err != nil {
				return err
			}
			if len(rep.Leftover) > 0 {
				return fmt.Errorf("the bench could not remove everything it made: %s", strings.Join(rep.Leftover, "; "))
			}
			if len(rep.Errors) > 0 {
				return errors.New(strings.Join(rep.Errors, "; "))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Runs, "runs", 10, "timed iterations per pod and system")
	f.IntVar(&o.Warmup, "warmup", 1, "untimed iterations first")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.StringVar(&save, "save", "", "also write the JSON report to this file")
	f.IntVar(&o.Scale, "scale", 0, "also create this many pods one after another per scale system, then remove them (0: no scale run)")
	f.StringVar(&scaleSystems, "scale-systems", "podsim-cli,cri,podman-net", "systems of the scale run")
	f.DurationVar(&o.IdleWindow, "idle-window", 10*time.Second, "how long the node agent's CPU is sampled with the scale run's pods idle")
	f.StringVar(&o.ScaleCase, "scale-pod", "2c", "bench pod of the scale run")
	f.IntVar(&o.MemPods, "mem-pods", 5, "pods kept at once to read the per-pod memory")
	f.StringVar(&pods, "pods", "", "bench pods to run: 1c, 2c, 2c-gvisor (podsim only), ambassador (default all)")
	f.StringVar(&systems, "systems", "", "systems to run: podsim, podsim-cli, cri, podman-net, podman-none, floor (default all)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of this process (podsim's in-process part) to FILE")
	return cmd
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
