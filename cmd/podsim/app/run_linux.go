package app

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/podsim/podsim/scenarios"
)

func newRunCommand(e *env) *cobra.Command {
	var keep bool
	var c clientPod
	var kc clusterRun
	cmd := &cobra.Command{
		Use:   "run SCENARIO... | all\n  podsim run NAME --image=IMAGE [-i] [-t] [--rm] [--restart=Never] [--env=K=V] [-- ARGS...]",
		Short: "Run the article's scenarios, or a one-off client pod like kubectl run",
		Long: `Scenarios: each creates its pod(s), runs its checks — commands in the containers,
as the article does with kubectl exec, and direct reads of the kernel
(/proc/<pid>/ns/* inodes, socket tables) — prints PASS or FAIL for each claim,
and deletes the pods (unless --keep). The exit code is non-zero if any check fails.

With --kubeconfig the same checks run against a Kubernetes cluster: the
manifests are applied with client-go (server-side apply) into a namespace
podsim creates (podsim-SCENARIO-xxxxxx, or -n NS) and deletes at the end, also
on failure and Ctrl-C; exec goes through the API server; kernel checks read
/proc and the cgroup files through a short-lived privileged pod on the node
with hostPID (the way 'kubectl debug node/NAME' works). A check the cluster
cannot do is SKIP with the reason (no Service DNS/NAT, podsim's own record),
never PASS. The images are podsim's (imagePullPolicy IfNotPresent): 'make
cluster-up' imports them into its cluster's containerd.

With --image, run creates a one-container pod exactly like kubectl run: the
arguments after -- replace the image's Cmd (or, with --command, its
Entrypoint); with -i the container's output is streamed and its exit code is
podsim's; --rm deletes the pod when it exits.`,
		Example: `  sudo podsim run shared-localhost
  sudo podsim run all
  podsim run all --kubeconfig /var/lib/podsim-cluster/kubeconfig     # the same checks on a cluster
  sudo podsim run -it --rm --image=curlimages/curl curl -- curl -k https://elasticsearch:9200`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if c.image != "" || cmd.Flags().Changed("image") {
				return runClientPod(e, cmd, &c, args)
			}
			var list []*scenarios.Scenario
			for _, a := range args {
				if a == "all" {
					list = append(list, scenarios.Registry()...)
					continue
				}
				s, err := scenarios.Find(a)
				if err != nil {
					return err
				}
				list = append(list, s)
			}
			if kc.kubeconfig != "" || kc.context != "" {
				kc.namespace = ""
				if f := cmd.Flag("namespace"); f != nil && f.Changed {
					kc.namespace = e.namespace
				}
				return runOnCluster(e, &kc, list)
			}
			m, err := e.manager()
			if err != nil {
				return err
			}
			var outcomes []scenarios.Outcome
			for _, s := range list {
				o := scenarios.RunScenario(e.ctx, m, s, e.namespace, keep, e.out)
				if o.Err != nil {
					fmt.Fprintf(e.out, "[FAIL] scenario %s could not run: %v\n", s.Name, o.Err)
				}
				fmt.Fprintln(e.out)
				outcomes = append(outcomes, o)
				if e.ctx.Err() != nil {
					break
				}
			}
			return summarize(e, outcomes)
		},
	}
	f := cmd.Flags()
	kc.flags(f)
	f.BoolVar(&keep, "keep", false, "keep the scenario's pods after the checks (delete them with 'podsim delete pod NAME')")
	f.StringVar(&c.image, "image", "", "client pod: the container image")
	f.BoolVarP(&c.stdin, "stdin", "i", false, "client pod: keep stdin open and stream the output")
	f.BoolVarP(&c.tty, "tty", "t", false, "client pod: allocate a terminal")
	f.BoolVar(&c.rm, "rm", false, "client pod: delete the pod when its container exits")
	f.StringVar(&c.restart, "restart", "Never", "client pod: restart policy: Never (the default here: a one-off pod runs once; kubectl run defaults to Always), OnFailure or Always (the node agent restarts the container)")
	f.StringArrayVar(&c.env, "env", nil, "client pod: environment variable K=V")
	f.StringVarP(&c.labels, "labels", "l", "", "client pod: labels k=v,k2=v2")
	f.BoolVar(&c.command, "command", false, "client pod: the arguments after -- replace the Entrypoint, not the Cmd")
	f.BoolVar(&c.attach, "attach", false, "client pod: stream the output and wait for the exit (implied by -i, -t)")
	return cmd
}

func newScenariosCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "scenarios",
		Short: "List the scenarios 'podsim run' knows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			tw := tabwriter.NewWriter(e.out, 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "SCENARIO\tWHAT IT SHOWS")
			for _, s := range scenarios.Registry() {
				fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Summary)
			}
			return tw.Flush()
		},
	}
}

func newExportCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "export SCENARIO",
		Short: "Print a scenario's manifests, to apply to a real cluster with kubectl",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := scenarios.Find(args[0])
			if err != nil {
				return err
			}
			fmt.Fprint(e.out, scenarios.Export(s))
			return nil
		},
	}
}
