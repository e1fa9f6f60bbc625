package bench

import (
	"fmt"
	"io"
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
	{"env HOSTNAME", "containerd's CRI adds HOSTNAME=<pod hostname> to every container's environment; podsim does not (kubelet does not either: it is the CRI runtime's addition)"},
	{"oom_score_adj", "kubelet sends oom_score_adj by QoS class (BestEffort 1000, Guaranteed -997, clamped by restrict_oom_score_adj); podsim sets none, so containers keep the score they inherit"},
	{"spec oomScoreAdj", "kubelet sends oom_score_adj by QoS class and CRI writes it into the spec (the sandbox gets -998, clamped here to containerd's 0 by restrict_oom_score_adj); podsim leaves it unset"},
	{"cgroup path", "same nesting (the pod cgroup holds one child per container, the sandbox's too); only the parent differs: kubelet's /kubepods/<qos>/pod<uid> (here /podsimbench/pod<uid>) vs podsim's /podsim/pod<uid>, and CRI names children by container ID"},
	{"spec cgroupsPath", "same nesting under a pod cgroup; the parent and the child names differ (podsim: /podsim/pod<uid>/<sandbox-id>-<name>, CRI: <cgroup_parent>/<container-id>)"},
	{"mount /etc/hostname", "CRI bind-mounts its sandbox hostname file into every container; podsim writes one per pod too — a difference here is in the mount source or options"},
	{"mount /etc/resolv.conf", "both bind-mount a per-pod resolv.conf; a difference is in mount options"},
	{"mount /etc/hosts", "kubelet bind-mounts its managed hosts file, podsim its own; a difference is in mount options"},
	{"mount /dev/shm", "CRI mounts the sandbox's shm tmpfs into every container, podsim the pod's shm tmpfs; a difference is in size or options"},
	{"file /etc/hosts", "kubelet's managed hosts file vs podsim's: the same entries, podsim's first comment line differs; podsim also adds the names of the Services it resolves (it has no cluster DNS)"},
	{"file /etc/resolv.conf", "kubelet's DNS config vs podsim's resolv.conf"},
	{"spec annotations", "runtime-specific annotations (io.kubernetes.cri.*, podsim's shim group) name the same things differently"},
	{"spec hostname", "CRI sets the hostname only in the sandbox's spec (containers join its UTS namespace); podsim also only for the pause"},
	{"spec mounts count", "see the mount rows: the runtimes add their mounts in a different order or number"},
	{"spec rlimits", "containerd's default spec has RLIMIT_NOFILE 1024:1024; CRI drops the default rlimits so containers inherit containerd's"},
	{"limit", "CRI containers inherit containerd's rlimits (its default spec's RLIMIT_NOFILE is dropped); podsim's spec keeps containerd's default RLIMIT_NOFILE 1024:1024"},
	{"spec process.user.additionalGids", "CRI adds the image user's supplementary groups from /etc/group (root: 0 and its groups); podsim sets the uid/gid only"},
	{"groups", "CRI adds the image user's supplementary groups from the image's /etc/group; podsim sets uid and gid only"},
	{"spec linux.resources", "kubelet sends cpu shares (2 for BestEffort) and an OOM score; podsim writes only the limits the pod has"},
	{"cpu.shares", "kubelet sets cpu.shares 2 for containers without a CPU request (BestEffort); podsim leaves the cgroup default (1024)"},
	{"spec linux.devices", "CRI allows the default device list explicitly; both end with the same device cgroup rules in effect"},
	{"spec process.capabilities", "both use containerd's default capability set; a difference comes from the securityContext handling"},
	{"spec linux.seccomp", "kubelet asks for Unconfined (SeccompDefault off); podsim sets no seccomp profile either"},
	{"spec linux.sysctl", "CRI sets no sysctls unless asked"},
	{"spec process.env", "see the env rows"},
	{"spec mount /dev/shm", "CRI mounts the pod's shm tmpfs into the sandbox too (the object the containers then share); podsim's pause keeps the default private /dev/shm and the pod's shm tmpfs lives on the host — the app containers share one object either way (see the mount rows)"},
	{"spec mount /etc/resolv.conf", "CRI also mounts the pod's resolv.conf into the pause container, which never reads it; podsim mounts it into the app containers only"},
	{"spec maskedPaths", "the sandbox's spec comes from the daemon's own defaults (containerd 1.6's list, without /sys/devices/virtual/powercap), podsim's from its containerd 1.7 client's defaults, which mask it too; app containers get kubelet's list on both sides"},
	{"NoNewPrivs", "TO FIX in podsim: containerd's default spec sets no_new_privs, and podsim keeps it; kubelet + CRI set it only when allowPrivilegeEscalation is false, so setuid programs gain privileges in a cluster's container but not in podsim's"},
	{"spec process.noNewPrivileges", "TO FIX in podsim: see NoNewPrivs (podsim should clear it unless allowPrivilegeEscalation is false)"},
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
		keys := sortedKeys(items)
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
