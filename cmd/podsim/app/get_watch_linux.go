package app

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/podsim/podsim/sandbox"
)

// watchPods is kubectl get pods -w: the table, then a line for each pod
// whose row changed (READY, STATUS, RESTARTS, ...), in the table's column
// widths. It waits on Manager.WatchChanges — containerd's task events and
// inotify on the pod records — instead of polling.
func watchPods(e *env, m *sandbox.Manager, names []string, sel labels.Selector, output string, pods []*sandbox.PodState) error {
	head := "NAME\tREADY\tSTATUS\tRESTARTS\tAGE"
	if e.allNamespaces {
		head = "NAMESPACE\t" + head
	}
	if output == "wide" {
		head += "\tIP\tNODE\tNETNS"
	} else if output != "" {
		return fmt.Errorf("get pods -w prints a table only (-o %s is not supported with -w)", output)
	}
	rows := map[string]string{}
	var lines [][]string
	lines = append(lines, strings.Split(head, "\t"))
	for _, p := range pods {
		row := podRow(e, p, output)
		rows[p.Pod.Namespace+"/"+p.Pod.Name] = withoutAge(e, row)
		lines = append(lines, strings.Split(row, "\t"))
	}
	widths := columnWidths(lines)
	for _, l := range lines {
		fmt.Fprintln(e.out, padRow(l, widths))
	}
	changes, err := m.WatchChanges(e.ctx)
	if err != nil {
		return err
	}
	for range changes {
		now, err := selectPods(e, m, names, sel)
		if err != nil && len(names) == 0 {
			return err
		}
		for _, p := range now {
			row := podRow(e, p, output)
			if k := p.Pod.Namespace + "/" + p.Pod.Name; rows[k] != withoutAge(e, row) {
				rows[k] = withoutAge(e, row)
				fmt.Fprintln(e.out, padRow(strings.Split(row, "\t"), widths))
			}
		}
	}
	return e.ctx.Err()
}

// withoutAge drops the AGE cell: a row that only aged is no change.
func withoutAge(e *env, row string) string {
	cells := strings.Split(row, "\t")
	i := 4 // NAME READY STATUS RESTARTS AGE
	if e.allNamespaces {
		i++
	}
	if i < len(cells) {
		cells[i] = ""
	}
	return strings.Join(cells, "\t")
}

func columnWidths(lines [][]string) []int {
	var w []int
	for _, l := range lines {
		for i, c := range l {
			if i >= len(w) {
				w = append(w, 0)
			}
			w[i] = max(w[i], len(c))
		}
	}
	return w
}

// padRow aligns cells to the table's widths (3 spaces apart, as the table).
func padRow(cells []string, widths []int) string {
	var b strings.Builder
	for i, c := range cells {
		if i == len(cells)-1 {
			b.WriteString(c)
			break
		}
		w := len(c)
		if i < len(widths) {
			w = max(w, widths[i])
		}
		b.WriteString(c + strings.Repeat(" ", w-len(c)+3))
	}
	return b.String()
}
