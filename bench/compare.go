package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// Facts are what one runtime built for one pod, read from the kernel
// (/proc/<pid>/...) and from the containers' OCI specs. Each container row
// ("POD" is the sandbox) maps item names to values; items are grouped by
// area: namespaces, cgroup, security, mounts, files, process, spec.
type Facts struct {
	Runtime string
	Rows    []string // POD first, then init and app containers in pod order
	Items   map[string]map[string]Fact
}

// Fact is one observed value.
type Fact struct {
	Area  string
	Value string
}

// Set records a fact for a row.
func (f *Facts) Set(row, area, item, value string) {
	if f.Items == nil {
		f.Items = map[string]map[string]Fact{}
	}
	if f.Items[row] == nil {
		f.Items[row] = map[string]Fact{}
		f.Rows = append(f.Rows, row)
	}
	f.Items[row][item] = Fact{Area: area, Value: value}
}

// Diff is one compared item.
type Diff struct {
	Area        string `json:"area"`
	Row         string `json:"container"`
	Item        string `json:"item"`
	Podsim      string `json:"podsim"`
	CRI         string `json:"cri"`
	Equal       bool   `json:"equal"`
	Essential   bool   `json:"essential"`
	Explanation string `json:"explanation,omitempty"`
}

// Explanation says why podsim differs from CRI for an item, and whether
// that is on purpose. Items are matched by prefix (e.g. "env HOSTNAME").
type Explanation struct {
	Prefix string
	Text   string
}

// Explanations are the known, understood differences between a podsim
// pod and a kubelet + containerd CRI pod. An item that differs and has none
// is "unexplained".
var Explanations = []Explanation{
	{"cgroup path", "same nesting (QoS tier, the pod cgroup, one child per container, the sandbox's too); only the parent differs: kubelet's /kubepods/<tier>/pod<uid> (here /podsimbench/<tier>/pod<uid>) vs podsim's /podsim/<tier>/pod<uid>, and CRI names children by container ID"},
	{"file /etc/hosts", "kubelet's managed hosts file vs podsim's: the same entries, podsim's first comment line differs; podsim also adds the names of the Services it resolves (it has no cluster DNS)"},
	{"spec linux.seccomp", "the sandbox's RuntimeDefault profile is containerd's contrib/seccomp DefaultProfile of whichever containerd builds the spec: the reference daemon's (1.6) for CRI, podsim's containerd 1.7 client's, whose lists differ; the kernel holds a filter on both sides (status Seccomp 2), and app containers are unconfined on both"},
	{"spec mount destinations", "containerd 1.6's sandbox spec keeps the default /dev/shm tmpfs under the pod's /dev/shm bind (containerd 1.7 removes it first, as podsim does); the pause sees the same mounts on both sides (the mount items)"},
	{"spec maskedPaths", "the sandbox's spec comes from the daemon's own defaults (containerd 1.6's list, without /sys/devices/virtual/powercap), podsim's from its containerd 1.7 client's defaults, which mask it too; app containers get kubelet's list on both sides"},
}

// Essential items: the namespace sharing matrix. A difference there means
// podsim does not build the pod model CRI builds.
func essential(area string) bool { return area == "namespaces" }

// Compare diffs podsim's facts with CRI's, row by row and item by item.
func Compare(p, c *Facts) []Diff {
	rows := append([]string{}, p.Rows...)
	for _, r := range c.Rows {
		if _, ok := p.Items[r]; !ok {
			rows = append(rows, r)
		}
	}
	var out []Diff
	for _, r := range rows {
		items := map[string]string{}
		for k, f := range p.Items[r] {
			items[k] = f.Area
		}
		for k, f := range c.Items[r] {
			items[k] = f.Area
		}
		keys := slices.Sorted(maps.Keys(items))
		sort.SliceStable(keys, func(i, j int) bool { return areaRank(items[keys[i]]) < areaRank(items[keys[j]]) })
		for _, k := range keys {
			pv, pok := p.Items[r][k]
			cv, cok := c.Items[r][k]
			pval, cval := pv.Value, cv.Value
			if !pok {
				pval = "(absent)"
			}
			if !cok {
				cval = "(absent)"
			}
			d := Diff{Area: items[k], Row: r, Item: k, Podsim: pval, CRI: cval, Equal: pok == cok && pval == cval}
			if !d.Equal {
				d.Essential = essential(d.Area)
				d.Explanation = explain(k)
			}
			out = append(out, d)
		}
	}
	return out
}

func areaRank(a string) int {
	for i, x := range []string{"namespaces", "cgroup", "process", "security", "mounts", "files", "spec"} {
		if a == x {
			return i
		}
	}
	return 99
}

func explain(item string) string {
	for _, e := range Explanations {
		if strings.HasPrefix(item, e.Prefix) {
			return e.Text
		}
	}
	return ""
}

// CompareSummary counts the diffs.
type CompareSummary struct {
	Items, Equal, Different, Essential, Unexplained int
}

// Summarize counts equal, different, essential and unexplained items.
func SummarizeDiffs(ds []Diff) CompareSummary {
	var s CompareSummary
	for _, d := range ds {
		s.Items++
		if d.Equal {
			s.Equal++
			continue
		}
		s.Different++
		if d.Essential {
			s.Essential++
		}
		if d.Explanation == "" {
			s.Unexplained++
		}
	}
	return s
}

// WriteCompare prints the side-by-side table: every item, = or ≠, and for
// each difference its explanation (or UNEXPLAINED). all=false prints only
// the namespace matrix and the differences.
func WriteCompare(w io.Writer, ds []Diff, all bool) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AREA\tCONTAINER\tITEM\tPODSIM\tCRI\t")
	area := ""
	for _, d := range ds {
		if !all && d.Equal && d.Area != "namespaces" {
			continue
		}
		mark := "="
		if !d.Equal {
			mark = "≠"
			if d.Essential {
				mark = "≠ ESSENTIAL"
			}
		}
		a := d.Area
		if a == area {
			a = ""
		}
		area = d.Area
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a, d.Row, d.Item, clip(d.Podsim, 60), clip(d.CRI, 60), mark)
	}
	tw.Flush()
	var expl []string
	seen := map[string]bool{}
	for _, d := range ds {
		if d.Equal {
			continue
		}
		e := d.Explanation
		if e == "" {
			e = "UNEXPLAINED"
		}
		line := fmt.Sprintf("  ≠ %s %s: %s", d.Row, d.Item, e)
		if d.Explanation != "" {
			// One line per explanation and item kind, not per container.
			k := d.Item + "|" + e
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		expl = append(expl, line)
	}
	if len(expl) > 0 {
		fmt.Fprintln(w, "\ndifferences:")
		for _, l := range expl {
			fmt.Fprintln(w, l)
		}
	}
	s := SummarizeDiffs(ds)
	fmt.Fprintf(w, "\n%d items: %d equal, %d different (%d essential, %d unexplained)\n", s.Items, s.Equal, s.Different, s.Essential, s.Unexplained)
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", "\\n")
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// NSRelation says how a row's namespace relates to the pod: "host" (the
// host's), "pause" (the sandbox row itself), "shared" (the sandbox's),
// "own" (a namespace of its own).
func NSRelation(row, sandbox, host string, isSandbox bool) string {
	switch {
	case row == "":
		return "-"
	case row == host:
		return "host"
	case isSandbox:
		return "pause"
	case row == sandbox:
		return "shared"
	}
	return "own"
}
