package app

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"

	"github.com/podsim/podsim/objects"
	"github.com/podsim/podsim/sandbox"
)

func newGetCommand(e *env) *cobra.Command {
	var output, selector string
	cmd := &cobra.Command{
		Use:   "get pods|events|deployments|services|configmaps|secrets|runtimeclasses [NAME...]",
		Short: "List pods or deployments (like kubectl get)",
		Example: `  podsim get pods
  podsim get pods -o wide
  podsim get pod podtest -o json
  podsim get pods -w
  podsim get events -A
  podsim get deployments`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, names := args[0], args[1:]
			if k, n, ok := strings.Cut(kind, "/"); ok {
				kind, names = k, append([]string{n}, names...)
			}
			switch output {
			case "", "wide", "json", "yaml", "name":
			default:
				return fmt.Errorf("unknown output format %q: use wide, json, yaml or name", output)
			}
			sel, err := labels.Parse(selector)
			if err != nil {
				return fmt.Errorf("invalid label selector %q: %w", selector, err)
			}
			m, err := e.manager()
			if err != nil {
				return err
			}
			k, err := objects.KindOf(kind)
			if isEvents(kind) {
				err = nil
			}
			if err != nil {
				return err
			}
			if isEvents(kind) {
				return getEvents(e, m, output)
			}
			switch k.Kind {
			case "Pod":
				return getPods(e, m, names, sel, output)
			case "Deployment":
				return getDeployments(e, objects.New(m), names, sel, output)
			}
			return getObjects(e, m, k.Resource, names, sel, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: wide, json, yaml or name")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "label selector, e.g. app=web")
	cmd.Flags().BoolVarP(&e.allNamespaces, "all-namespaces", "A", false, "list objects of every namespace")
	cmd.Flags().BoolVarP(&e.watch, "watch", "w", false, "after listing, print a line per change (pods, events)")
	return cmd
}

func getPods(e *env, m *sandbox.Manager, names []string, sel labels.Selector, output string) error {
	pods, err := selectPods(e, m, names, sel)
	if err != nil {
		return err
	}
	if e.watch {
		return watchPods(e, m, names, sel, output, pods)
	}
	return printPods(e, pods, names, output)
}

// selectPods reads the pods named, or those the selector matches.
func selectPods(e *env, m *sandbox.Manager, names []string, sel labels.Selector) ([]*sandbox.PodState, error) {
	var pods []*sandbox.PodState
	if len(names) > 0 {
		for _, n := range names {
			p, err := m.Get(e.ctx, e.namespace, n)
			if err != nil {
				return nil, err
			}
			pods = append(pods, p)
		}
	} else {
		all, err := m.List(e.ctx, e.ns())
		if err != nil {
			return nil, err
		}
		for _, p := range all {
			if sel.Matches(labels.Set(p.Pod.Labels)) {
				pods = append(pods, p)
			}
		}
	}
	return pods, nil
}

func printPods(e *env, pods []*sandbox.PodState, names []string, output string) error {
	switch output {
	case "json", "yaml":
		var objs []runtime.Object
		for _, p := range pods {
			objs = append(objs, p.KubePod())
		}
		return printObjects(e, objs, len(names) == 1, output)
	case "name":
		for _, p := range pods {
			fmt.Fprintln(e.out, "pod/"+p.Pod.Name)
		}
		return nil
	}
	if len(pods) == 0 {
		where := "in " + e.namespace + " namespace"
		if e.allNamespaces {
			where = ""
		}
		fmt.Fprintln(e.errOut, strings.TrimSpace("No resources found "+where+"."))
		return nil
	}
	tw := tabwriter.NewWriter(e.out, 0, 8, 3, ' ', 0)
	head := "NAME\tREADY\tSTATUS\tRESTARTS\tAGE"
	if e.allNamespaces {
		head = "NAMESPACE\t" + head
	}
	if output == "wide" {
		head += "\tIP\tNODE\tNETNS"
	}
	fmt.Fprintln(tw, head)
	for _, p := range pods {
		fmt.Fprintln(tw, podRow(e, p, output))
	}
	return tw.Flush()
}

// podRow is one pod's line of the table, cells separated by tabs.
func podRow(e *env, p *sandbox.PodState, output string) string {
	r, t := p.Ready()
	row := fmt.Sprintf("%s\t%d/%d\t%s\t%d\t%s", p.Pod.Name, r, t, p.StatusText(), p.Restarts(), age(p.Created))
	if e.allNamespaces {
		row = p.Pod.Namespace + "\t" + row
	}
	if output == "wide" {
		netns := orNone(p.NetNS)
		if p.Pod.Spec.HostNetwork {
			netns = "host (hostNetwork: true)"
		}
		node, _ := os.Hostname()
		row += fmt.Sprintf("\t%s\t%s\t%s", orNone(p.IP), node, netns)
	}
	return row
}

func getDeployments(e *env, om *objects.Manager, names []string, sel labels.Selector, output string) error {
	all, err := om.Deployments(e.ctx, e.ns())
	if err != nil {
		return err
	}
	var ds []*objects.DeploymentState
	for _, d := range all {
		if len(names) > 0 && !contains(names, d.Deployment.Name) {
			continue
		}
		if sel.Matches(labels.Set(d.Deployment.Labels)) {
			ds = append(ds, d)
		}
	}
	if len(names) > 0 && len(ds) == 0 {
		return fmt.Errorf("deployment %q not found in namespace %q", names[0], e.namespace)
	}
	switch output {
	case "json", "yaml":
		var objs []runtime.Object
		for _, d := range ds {
			dep := d.Deployment.DeepCopy()
			r := int32(0)
			for _, p := range d.Pods {
				if p.StatusText() == "Running" {
					r++
				}
			}
			dep.Status.Replicas, dep.Status.ReadyReplicas, dep.Status.AvailableReplicas = int32(len(d.Pods)), r, r
			objs = append(objs, dep)
		}
		return printObjects(e, objs, len(names) == 1, output)
	case "name":
		for _, d := range ds {
			fmt.Fprintln(e.out, "deployment.apps/"+d.Deployment.Name)
		}
		return nil
	}
	if len(ds) == 0 {
		fmt.Fprintf(e.errOut, "No resources found in %s namespace.\n", e.namespace)
		return nil
	}
	tw := tabwriter.NewWriter(e.out, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tREADY\tUP-TO-DATE\tAVAILABLE\tAGE")
	for _, d := range ds {
		want := 1
		if d.Deployment.Spec.Replicas != nil {
			want = int(*d.Deployment.Spec.Replicas)
		}
		ready, current := 0, 0
		hash := objects.TemplateHash(&d.Deployment.Spec.Template)
		var oldest time.Time
		for _, p := range d.Pods {
			if p.StatusText() == "Running" {
				ready++
			}
			if p.Pod.Labels["pod-template-hash"] == hash {
				current++
			}
			if oldest.IsZero() || p.Created.Before(oldest) {
				oldest = p.Created
			}
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%d\t%d\t%s\n", d.Deployment.Name, ready, want, current, ready, age(oldest))
	}
	return tw.Flush()
}

// printObjects prints one object, or a v1 List of them, as kubectl does.
func printObjects(e *env, objs []runtime.Object, single bool, format string) error {
	var v any
	if single && len(objs) == 1 {
		v = objs[0]
	} else {
		items := make([]runtime.RawExtension, 0, len(objs))
		for _, o := range objs {
			items = append(items, runtime.RawExtension{Object: o})
		}
		v = &metav1.List{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}, Items: items}
	}
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	if format == "yaml" {
		if b, err = yaml.JSONToYAML(b); err != nil {
			return err
		}
		_, err = e.out.Write(b)
		return err
	}
	_, err = fmt.Fprintln(e.out, string(b))
	return err
}

func age(t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t))
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
