package app

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/podsim/podsim/scenarios"
)

func newRunCommand(e *env) *cobra.Command {
	var keep bool
	cmd := &cobra.Command{
		Use:   "run SCENARIO... | all",
		Short: "Run the article's multi-container pod scenarios and check what the kernel did",
		Long: `Each scenario creates its pod(s), runs its checks — commands in the containers,
as the article does with kubectl exec, and direct reads of the kernel
(/proc/<pid>/ns/* inodes, socket tables) — prints PASS or FAIL for each claim,
and deletes the pods (unless --keep). The exit code is non-zero if any check fails.`,
		Example: `  sudo podsim run shared-localhost
  sudo podsim run all`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
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
			failed := 0
			if len(outcomes) > 1 {
				tw := tabwriter.NewWriter(e.out, 0, 8, 3, ' ', 0)
				fmt.Fprintln(tw, "SCENARIO\tCHECKS\tRESULT\tTIME")
				for _, o := range outcomes {
					pass := 0
					for _, r := range o.Results {
						if r.Pass {
							pass++
						}
					}
					res := "PASS"
					if !o.Passed() {
						res = "FAIL"
					}
					fmt.Fprintf(tw, "%s\t%d/%d\t%s\t%s\n", o.Scenario.Name, pass, len(o.Results), res, o.Duration.Round(10e6))
				}
				tw.Flush()
			}
			for _, o := range outcomes {
				if !o.Passed() {
					failed++
				}
			}
			if failed > 0 {
				return errors.New(fmt.Sprintf("%d of %d scenario(s) failed", failed, len(outcomes)))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the scenario's pods after the checks (delete them with 'podsim delete pod NAME')")
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
