package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/podsim/podsim/bench"
	"github.com/podsim/podsim/sandbox"
)

func newCompareCommand(e *env) *cobra.Command {
	var all, asJSON, strict bool
	var against, kubeconfig, kubeContext string
	cmd := &cobra.Command{
		Use:   "compare POD-MANIFEST",
		Short: "Build a pod with podsim and with containerd's CRI (crictl), and diff what the kernel got",
		Long: `compare builds the same pod twice: with podsim, and through containerd's CRI plugin
(a reference containerd that compare starts and stops, driven by crictl with the
sandbox and container configs kubelet would send for the manifest). Then it reads
both from the kernel and from the containers' OCI specs and prints them side by
side: the namespace sharing matrix (net, ipc, uts, pid, mnt, cgroup, user, time:
shared with the pause, own, or the host's), cgroup nesting and limits, capabilities,
seccomp, LSM label, no_new_privs, masked and read-only /proc paths, the /etc/hosts,
/etc/hostname, resolv.conf and /dev/shm mounts (and whether containers share them),
hostname, user and groups, rlimits, oom_score_adj and environment.

Each difference is marked and explained when it is a known one; the exit code is
2 when something essential (the namespace matrix) differs, or with --strict when a
difference is unexplained. Both pods are
built in the namespace "podsim-bench" and removed afterwards. Install crictl with
'sudo hack/bench/install-reference.sh'.

With --against kubelet --kubeconfig FILE the reference is a real kubelet: the pod
is created through that cluster's API server on the node that is this machine
(the local cluster of 'sudo make cluster-up'), with imagePullPolicy: Never, and
read from this host's kernel like podsim's.`,
		Example: `  sudo podsim compare pod-multiple-containers.yaml
  sudo podsim compare --all pod.yaml
  sudo podsim compare --against kubelet --kubeconfig /var/lib/podsim-cluster/kubeconfig pod.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			pod, err := bench.ParsePod(raw, args[0], "")
			if err != nil {
				return err
			}
			if _, err := e.manager(); err != nil {
				return err
			}
			if against != "cri" && against != "kubelet" {
				return fmt.Errorf("--against %q: use cri or kubelet", against)
			}
			if (against == "kubelet") != (kubeconfig != "") {
				return fmt.Errorf("--against kubelet and --kubeconfig FILE go together")
			}
			exe, err := selfExe()
			if err != nil {
				return err
			}
			paths := sandbox.DefaultPaths()
			network, err := sandbox.NewCNINetwork(e.netCfg, filepath.Join(paths.State, "cni"))
			if err != nil {
				return err
			}
			m := sandbox.New(sandbox.Options{Client: e.client, Images: e.catalog, Network: network, Paths: paths, SelfExe: exe, NeedAgent: e.ensureAgent})
			progress := func(s string) { fmt.Fprintln(e.errOut, "compare: "+s) }
			var res *bench.CompareResult
			if against == "kubelet" {
				res, err = bench.CompareKubelet(e.ctx, bench.KubeletOptions{Pod: pod, Kubeconfig: kubeconfig, Context: kubeContext,
					Manager: m, Client: e.client, Progress: progress})
			} else {
				res, err = bench.ComparePod(e.ctx, bench.CompareOptions{Pod: pod, Manager: m, Client: e.client, Catalog: e.catalog,
					PodsimExe: exe, Layout: bench.DefaultLayout(), CNIBin: e.netCfg.BinDirs, Progress: progress})
			}
			if err != nil {
				if res == nil {
					return err
				}
				fmt.Fprintln(e.errOut, "error: "+err.Error())
			}
			if asJSON {
				enc := json.NewEncoder(e.out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(map[string]any{"pod": res.Pod, "diffs": res.Diffs, "summary": bench.SummarizeDiffs(res.Diffs)}); err != nil {
					return err
				}
			} else {
				if against == "kubelet" {
					fmt.Fprintf(e.out, "pod %s: podsim vs a real kubelet (the cluster of %s); the CRI column is the kubelet's pod\n\n", res.Pod, kubeconfig)
				} else {
					fmt.Fprintf(e.out, "pod %s: podsim vs containerd CRI (kubelet's configs through crictl)\n\n", res.Pod)
				}
				bench.WriteCompare(e.out, res.Diffs, all)
				for _, n := range res.Notes {
					fmt.Fprintln(e.out, "note: "+n)
				}
			}
			s := bench.SummarizeDiffs(res.Diffs)
			if s.Essential > 0 || (strict && s.Unexplained > 0) {
				return exitError{code: 2}
			}
			if err != nil {
				return exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "print every compared item, not only the namespace matrix and the differences")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the comparison as JSON")
	cmd.Flags().StringVar(&against, "against", "cri", "the reference: cri (a containerd CRI plugin driven like kubelet, started by compare) or kubelet (a real cluster's, --kubeconfig)")
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "with --against kubelet: the cluster's kubeconfig (its node must be this machine)")
	cmd.Flags().StringVar(&kubeContext, "context", "", "with --against kubelet: the kubeconfig context (default: its current-context)")
	cmd.Flags().BoolVar(&strict, "strict", false, "also exit non-zero (2) when a difference has no explanation")
	return cmd
}
