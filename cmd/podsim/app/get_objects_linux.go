package app

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/podsim/podsim/objects"
	"github.com/podsim/podsim/sandbox"
)

// getObjects prints Services, ConfigMaps and Secrets.
func getObjects(e *env, m *sandbox.Manager, kind string, names []string, sel labels.Selector, output string) error {
	type row struct {
		meta *metav1.ObjectMeta
		obj  runtime.Object
		cols []string
	}
	var rows []row
	var head string
	switch kind {
	case "service":
		head = "NAME\tTYPE\tCLUSTER-IP\tENDPOINTS (pod IPs)\tPORT(S)\tAGE"
		l, err := m.Store().ListServices(e.ns())
		if err != nil {
			return err
		}
		for _, s := range l {
			var ports []string
			for _, p := range s.Spec.Ports {
				ports = append(ports, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
			}
			eps := m.Endpoints(e.ctx, s)
			rows = append(rows, row{&s.ObjectMeta, s, []string{s.Name, "ClusterIP", "None", orNone(strings.Join(eps, ",")), strings.Join(ports, ","), age(s.CreationTimestamp.Time)}})
		}
	case "configmap":
		head = "NAME\tDATA\tAGE"
		l, err := m.Store().ListConfigMaps(e.ns())
		if err != nil {
			return err
		}
		for _, c := range l {
			rows = append(rows, row{&c.ObjectMeta, c, []string{c.Name, fmt.Sprint(len(c.Data) + len(c.BinaryData)), age(c.CreationTimestamp.Time)}})
		}
	case "runtimeclass.node.k8s.io":
		head = "NAME\tHANDLER\tAGE"
		l, err := objects.RuntimeClasses(m.Store())
		if err != nil {
			return err
		}
		for _, rc := range l {
			a := age(rc.CreationTimestamp.Time)
			if rc.Annotations["podsim.io/builtin"] == "true" {
				a = "<built-in>"
			}
			rows = append(rows, row{&rc.ObjectMeta, rc, []string{rc.Name, rc.Handler, a}})
		}
	case "secret":
		head = "NAME\tTYPE\tDATA\tAGE"
		l, err := m.Store().ListSecrets(e.ns())
		if err != nil {
			return err
		}
		for _, s := range l {
			rows = append(rows, row{&s.ObjectMeta, s, []string{s.Name, string(s.Type), fmt.Sprint(len(s.Data)), age(s.CreationTimestamp.Time)}})
		}
	}
	var kept []row
	for _, r := range rows {
		if (len(names) == 0 || contains(names, r.meta.Name)) && sel.Matches(labels.Set(r.meta.Labels)) {
			kept = append(kept, r)
		}
	}
	for _, n := range names {
		found := false
		for _, r := range kept {
			found = found || r.meta.Name == n
		}
		if !found {
			return fmt.Errorf("%s %q not found in namespace %q", kind, n, e.namespace)
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].meta.Name < kept[j].meta.Name })
	switch output {
	case "json", "yaml":
		var objs []runtime.Object
		for _, r := range kept {
			objs = append(objs, r.obj)
		}
		return printObjects(e, objs, len(names) == 1, output)
	case "name":
		for _, r := range kept {
			fmt.Fprintf(e.out, "%s/%s\n", kind, r.meta.Name)
		}
		return nil
	}
	if len(kept) == 0 {
		fmt.Fprintf(e.errOut, "No resources found in %s namespace.\n", e.namespace)
		return nil
	}
	tw := tabwriter.NewWriter(e.out, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, head)
	for _, r := range kept {
		fmt.Fprintln(tw, strings.Join(r.cols, "\t"))
	}
	return tw.Flush()
}
