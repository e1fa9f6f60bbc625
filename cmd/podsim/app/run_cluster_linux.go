package app

import (
	"errors"
	"fmt"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/cluster"
	"github.com/podsim/podsim/scenarios"
)

// clusterRun is `podsim run ... --kubeconfig FILE`: the scenarios on a
// Kubernetes cluster instead of podsim's own pods.
type clusterRun struct {
	kubeconfig, context, node, pull string
	namespace                       string // -n when given, else "" (a new one per scenario)
}

func (k *clusterRun) flags(f *pflag.FlagSet) {
	f.StringVar(&k.kubeconfig, "kubeconfig", "", "run the scenarios on the Kubernetes cluster of this kubeconfig instead of podsim's own pods")
	f.StringVar(&k.context, "context", "", "with --kubeconfig: the kubeconfig context (default: its current-context)")
	f.StringVar(&k.node, "node", "", "with --kubeconfig: bind the pods to this node (spec.nodeName); default: only on a cluster without scheduler and with one node")
	f.StringVar(&k.pull, "image-pull-policy", "IfNotPresent", "with --kubeconfig: imagePullPolicy of every container (the scenarios use podsim's images, which must be on the node)")
}

// runOnCluster runs each scenario in a namespace of its own on the cluster.
func runOnCluster(e *env, k *clusterRun, list []*scenarios.Scenario) error {
	switch corev1.PullPolicy(k.pull) {
	case corev1.PullAlways, corev1.PullNever, corev1.PullIfNotPresent:
	default:
		return fmt.Errorf("--image-pull-policy %q: use Always, IfNotPresent or Never", k.pull)
	}
	// client-go logs a cancelled exec stream (the scenarios' background
	// listeners end that way) through klog; the checks print what matters.
	klog.SetLogger(logr.Discard())
	c, err := cluster.Connect(e.ctx, cluster.Options{Kubeconfig: k.kubeconfig, Context: k.context, Namespace: k.namespace,
		Node: k.node, PullPolicy: corev1.PullPolicy(k.pull)})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.out, "running on %s\n", c.Name())
	for _, n := range c.Notes() {
		fmt.Fprintln(e.out, "note: "+n)
	}
	fmt.Fprintln(e.out)
	var outcomes []scenarios.Outcome
	for _, s := range list {
		b, err := c.ForScenario(e.ctx, s.Name)
		o := scenarios.Outcome{Scenario: s, Err: err}
		if err == nil {
			o = scenarios.RunOn(e.ctx, b, s, e.out)
		}
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
}

// summarize prints the summary table (for more than one scenario) and
// fails when a scenario failed; skipped checks do not fail a run.
func summarize(e *env, outcomes []scenarios.Outcome) error {
	if len(outcomes) > 1 {
		scenarios.Summary(e.out, outcomes)
	}
	failed := 0
	for _, o := range outcomes {
		if o.Result() == "FAIL" {
			failed++
		}
	}
	if failed > 0 {
		return errors.New(fmt.Sprintf("%d of %d scenario(s) failed", failed, len(outcomes)))
	}
	if err := e.ctx.Err(); err != nil {
		return fmt.Errorf("interrupted; the scenarios' objects were deleted: %w", err)
	}
	return nil
}
