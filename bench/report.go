package bench

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is everything one bench run measured.
type Report struct {
	Started  time.Time       `json:"started"`
	Elapsed  time.Duration   `json:"elapsedNs"`
	Machine  Machine         `json:"machine"`
	Runs     int             `json:"runs"`
	Systems  []SystemInfo    `json:"systems"`
	Cases    []*CaseResult   `json:"cases"`
	Floor    []NamedSummary  `json:"floorExtras,omitempty"`
	Tools    []NamedSummary  `json:"toolStartup,omitempty"`
	Scale    []*ScaleResult  `json:"scale,omitempty"`
	Notes    []string        `json:"notes,omitempty"`
	Leftover []string        `json:"leftover,omitempty"`
	Errors   []string        `json:"errors,omitempty"`
	Targets  []TargetVerdict `json:"targets,omitempty"`
}

// Machine describes where the numbers come from.
type Machine struct {
	OS         string `json:"os"`
	Kernel     string `json:"kernel"`
	CPUs       int    `json:"cpus"`
	MemoryMB   int64  `json:"memoryMB"`
	CgroupMode string `json:"cgroupMode"`
	Containerd string `json:"containerd"`
	Runc       string `json:"runc"`
	Podman     string `json:"podman,omitempty"`
	Crictl     string `json:"crictl,omitempty"`
	CPUModel   string `json:"cpuModel,omitempty"`
}

// SystemInfo says whether a system ran and what exactly it is.
type SystemInfo struct {
	Name      string `json:"name"`
	Label     string `json:"label"`
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"`
}

// NamedSummary is a labelled distribution.
type NamedSummary struct {
	Name    string  `json:"name"`
	Summary Summary `json:"summary"`
}

// CaseResult is one bench pod through every system.
type CaseResult struct {
	Case        string               `json:"case"`
	Description string               `json:"description"`
	Skipped     string               `json:"skipped,omitempty"`
	Results     []*SystemResult      `json:"results"`
	Ratios      map[string]JSONRatio `json:"ratios,omitempty"`
	// Pairs are the per-round ratios podsim/peer (headline.go).
	Pairs    []PairResult          `json:"pairwiseRatios,omitempty"`
	Phases   []PhaseSummary        `json:"podsimCreatePhases,omitempty"`
	Teardown []PhaseSummary        `json:"podsimTeardownPhases,omitempty"`
	Memory   map[string]*MemResult `json:"memory,omitempty"`
}

// PhaseSummary is one phase of podsim's create or teardown over the runs.
type PhaseSummary struct {
	Name    string  `json:"name"`
	Summary Summary `json:"summary"`
	Overlap bool    `json:"overlap,omitempty"` // overlaps the others (not part of the sum)
}

// SystemResult is one system's times for one case.
type SystemResult struct {
	System   string       `json:"system"`
	Ready    Summary      `json:"ready"`
	Teardown Summary      `json:"teardown"`
	Samples  [][2]float64 `json:"samplesMs,omitempty"` // [ready, teardown] per run
	Rounds   []int        `json:"rounds,omitempty"`    // the round of each sample (pairs them across systems)
	// Notes say how the times were taken when it was not the plain way
	// (the CLI returned before the pod ran and was followed by a wait).
	Notes    []string        `json:"notes,omitempty"`
	Errors   []string        `json:"errors,omitempty"`
	ready    []time.Duration `json:"-"`
	teardown []time.Duration `json:"-"`
}

// MemResult is the per-pod memory of one system.
type MemResult struct {
	Pods        int              `json:"pods"`
	RSSKBPerPod float64          `json:"rssKBPerPod"`
	PSSKBPerPod float64          `json:"pssKBPerPod"`
	ShimsPerPod float64          `json:"shimsPerPod"`
	ProcsPerPod float64          `json:"procsPerPod"`
	ByKind      map[string]int64 `json:"rssKBPerPodByKind"`
	// Agent is podsim's node agent while these pods ran; its RSS is shared
	// by every pod it serves. RSSKBPerPodWithAgent adds that share.
	Agent                *AgentUsage `json:"agent,omitempty"`
	RSSKBPerPodWithAgent float64     `json:"rssKBPerPodWithAgent,omitempty"`
	Error                string      `json:"error,omitempty"`
}

// ScaleResult is many pods of one case through one system.
type ScaleResult struct {
	System        string          `json:"system"`
	Case          string          `json:"case"`
	Pods          int             `json:"pods"`
	Create        []time.Duration `json:"createNs"`
	Teardown      []time.Duration `json:"teardownNs"`
	Memory        []ScaleMem      `json:"memory"`
	SlopeMsPer100 JSONRatio       `json:"createSlopeMsPer100Pods"`
	FirstVsLast   JSONRatio       `json:"lastDecileOverFirstDecile"`
	TeardownTotal time.Duration   `json:"teardownTotalNs"`
	Points        []ScalePoint    `json:"perPodAt,omitempty"`
	AgentIdle     *AgentIdle      `json:"agentIdle,omitempty"`
	Stopped       string          `json:"stopped,omitempty"`
}

// ScaleMem is the memory per pod with a given number of pods running.
type ScaleMem struct {
	Pods        int     `json:"pods"`
	RSSKBPerPod float64 `json:"rssKBPerPod"`
	PSSKBPerPod float64 `json:"pssKBPerPod"`
	MemAvailMB  int64   `json:"memAvailableMB"`
	// Agent is podsim's node agent then (podsim's systems only).
	Agent *AgentUsage `json:"agent,omitempty"`
}

// TargetVerdict is one of the targets, met or not.
type TargetVerdict struct {
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      string `json:"met"` // yes, no, n/a
}

func (c *CaseResult) result(system string) *SystemResult {
	for _, r := range c.Results {
		if r.System == system {
			return r
		}
	}
	return nil
}

func (c *CaseResult) median(system string, teardown bool) time.Duration {
	r := c.result(system)
	if r == nil {
		return 0
	}
	if teardown {
		return r.Teardown.Median
	}
	return r.Ready.Median
}

// computeRatios fills the podsim/X ratios of medians.
func (c *CaseResult) computeRatios() {
	c.Ratios = map[string]JSONRatio{}
	for _, ref := range []string{"cri", "podman-net", "podman-none", "floor"} {
		c.Ratios["ready podsim/"+ref] = JSONRatio(DurRatio(c.median("podsim", false), c.median(ref, false)))
		c.Ratios["teardown podsim/"+ref] = JSONRatio(DurRatio(c.median("podsim", true), c.median(ref, true)))
		c.Ratios["ready podsim-cli/"+ref] = JSONRatio(DurRatio(c.median("podsim-cli", false), c.median(ref, false)))
		c.Ratios["teardown podsim-cli/"+ref] = JSONRatio(DurRatio(c.median("podsim-cli", true), c.median(ref, true)))
		if m := c.Memory; m != nil && m["podsim"] != nil && m[ref] != nil {
			c.Ratios["rss podsim/"+ref] = JSONRatio(Ratio(m["podsim"].RSSKBPerPod, m[ref].RSSKBPerPod))
			c.Ratios["pss podsim/"+ref] = JSONRatio(Ratio(m["podsim"].PSSKBPerPod, m[ref].PSSKBPerPod))
		}
	}
}

// WriteText prints the report as tables.
func (r *Report) WriteText(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "podsim bench: %d interleaved runs per pod and system (%s, %s)\n", r.Runs, r.Started.Format(time.RFC3339), r.Elapsed.Round(time.Second))
	fmt.Fprintf(w, "machine: %s, kernel %s, %d CPUs (%s), %d MB, cgroup %s; containerd %s, runc %s, podman %s, crictl %s\n\n",
		m.OS, m.Kernel, m.CPUs, m.CPUModel, m.MemoryMB, m.CgroupMode, m.Containerd, m.Runc, orNone(m.Podman), orNone(m.Crictl))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SYSTEM\tWHAT")
	for _, s := range r.Systems {
		what := s.Label
		if !s.Available {
			what = "NOT MEASURED: " + s.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\n", s.Name, what)
	}
	tw.Flush()
	for _, c := range r.Cases {
		fmt.Fprintf(w, "\n== pod %s: %s\n", c.Case, c.Description)
		if c.Skipped != "" {
			fmt.Fprintf(w, "   skipped: %s\n", c.Skipped)
			continue
		}
		writeHeadline(w, c)
		fmt.Fprintln(w, "   all systems (podsim = in process, the breakdown):")
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "system\tready min\tmedian\tp95\t\tteardown min\tmedian\tp95\t\tRSS/pod MB\tPSS/pod MB\tshims/pod\t")
		for _, res := range c.Results {
			mem := c.Memory[res.System]
			rss, pss, shims := "-", "-", "-"
			if mem != nil && mem.Error == "" {
				rss, pss, shims = fmt.Sprintf("%.1f", mem.RSSKBPerPod/1024), fmt.Sprintf("%.1f", mem.PSSKBPerPod/1024), fmt.Sprintf("%.1f", mem.ShimsPerPod)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\t%s\t%s\t%s\t\t%s\t%s\t%s\t\n", res.System,
				FormatMS(res.Ready.Min), FormatMS(res.Ready.Median), FormatMS(res.Ready.P95),
				FormatMS(res.Teardown.Min), FormatMS(res.Teardown.Median), FormatMS(res.Teardown.P95), rss, pss, shims)
		}
		tw.Flush()
		fmt.Fprintln(w, "   (times in ms)")
		for _, res := range c.Results {
			for _, e := range res.Errors {
				fmt.Fprintf(w, "   %s error: %s\n", res.System, e)
			}
			if mem := c.Memory[res.System]; mem != nil && mem.Error != "" {
				fmt.Fprintf(w, "   %s memory reading failed: %s\n", res.System, mem.Error)
			}
		}
		fmt.Fprintf(w, "   ratios of medians, podsim/CRI: ready %s, teardown %s, RSS %s | podsim/podman-net: ready %s, teardown %s, RSS %s | podsim/podman-none: ready %s | podsim/floor: ready %s\n",
			FormatRatio(float64(c.Ratios["ready podsim/cri"])), FormatRatio(float64(c.Ratios["teardown podsim/cri"])), FormatRatio(float64(c.Ratios["rss podsim/cri"])),
			FormatRatio(float64(c.Ratios["ready podsim/podman-net"])), FormatRatio(float64(c.Ratios["teardown podsim/podman-net"])), FormatRatio(float64(c.Ratios["rss podsim/podman-net"])),
			FormatRatio(float64(c.Ratios["ready podsim/podman-none"])), FormatRatio(float64(c.Ratios["ready podsim/floor"])))
		fmt.Fprintf(w, "   podsim CLI end to end, podsim-cli/CRI: ready %s, teardown %s\n",
			FormatRatio(float64(c.Ratios["ready podsim-cli/cri"])), FormatRatio(float64(c.Ratios["teardown podsim-cli/cri"])))
		if mem := c.Memory["podsim"]; mem != nil && len(mem.ByKind) > 0 {
			fmt.Fprintf(w, "   podsim RSS per pod by process: %s\n", kinds(mem.ByKind))
		}
		if mem := c.Memory["cri"]; mem != nil && len(mem.ByKind) > 0 {
			fmt.Fprintf(w, "   CRI RSS per pod by process: %s\n", kinds(mem.ByKind))
		}
		if mem := c.Memory["podman-net"]; mem != nil && len(mem.ByKind) > 0 {
			fmt.Fprintf(w, "   podman RSS per pod by process: %s\n", kinds(mem.ByKind))
		}
		if len(c.Phases) > 0 {
			fmt.Fprintln(w, "   podsim create phases (median ms): "+phaseLine(c.Phases))
			fmt.Fprintln(w, "   podsim teardown phases (median ms): "+phaseLine(c.Teardown))
		}
	}
	if len(r.Floor) > 0 || len(r.Tools) > 0 {
		fmt.Fprintln(w, "\n== floor pieces and tool start-up (ms)")
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "what\tmin\tmedian\tp95\t")
		for _, s := range append(append([]NamedSummary{}, r.Floor...), r.Tools...) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", s.Name, FormatMS(s.Summary.Min), FormatMS(s.Summary.Median), FormatMS(s.Summary.P95))
		}
		tw.Flush()
	}
	for _, s := range r.Scale {
		fmt.Fprintf(w, "\n== scale: %d pods of %s through %s\n", s.Pods, s.Case, s.System)
		if s.Stopped != "" {
			fmt.Fprintf(w, "   stopped early: %s\n", s.Stopped)
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "pods\tcreate median ms\tp95\t")
		for _, b := range deciles(s.Create) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", b.name, FormatMS(b.s.Median), FormatMS(b.s.P95))
		}
		tw.Flush()
		fmt.Fprintf(w, "   per-pod create time: last 10%% / first 10%% = %s; least-squares slope %s ms per 100 pods\n",
			FormatRatio(float64(s.FirstVsLast)), fmtFloat(float64(s.SlopeMsPer100)))
		var pts []string
		for _, p := range s.Points {
			pts = append(pts, fmt.Sprintf("%s %s", p.Label, FormatMS(p.Median)))
		}
		fmt.Fprintf(w, "   create time per pod (median ms): %s\n", strings.Join(pts, " | "))
		for _, m := range s.Memory {
			line := fmt.Sprintf("   %4d pods: RSS %.1f MB/pod, PSS %.1f MB/pod (MemAvailable %d MB)", m.Pods, m.RSSKBPerPod/1024, m.PSSKBPerPod/1024, m.MemAvailMB)
			if a := m.Agent; a != nil {
				line += fmt.Sprintf("; node agent RSS %.1f MB = %.2f MB/pod, with it %.1f MB/pod", float64(a.RSSKB)/1024, float64(a.RSSKBPerPod)/1024, (m.RSSKBPerPod+float64(a.RSSKBPerPod))/1024)
			}
			fmt.Fprintln(w, line)
		}
		if a := s.AgentIdle; a != nil {
			if a.Error != "" {
				fmt.Fprintf(w, "   node agent at rest: not measured: %s\n", a.Error)
			} else {
				fmt.Fprintf(w, "   node agent at rest with %d pods: CPU %s over %s (%.2f%% of one core), RSS %.1f MB\n", a.Pods, a.CPU, a.Window.Round(100*time.Millisecond), float64(a.CPUPercent), float64(a.RSSKB)/1024)
			}
		}
		td := Summarize(s.Teardown)
		fmt.Fprintf(w, "   teardown of all %d: %s s total, median %s ms per pod\n", len(s.Teardown), fmt.Sprintf("%.1f", s.TeardownTotal.Seconds()), FormatMS(td.Median))
	}
	if len(r.Targets) > 0 {
		fmt.Fprintln(w, "\n== issue 16's targets (benchmarks, not tests; on the 2c pod, whole processes)")
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "target\tmeasured\tmet")
		for _, t := range r.Targets {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Target, t.Measured, t.Met)
		}
		tw.Flush()
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note: "+n)
	}
	for _, e := range r.Errors {
		fmt.Fprintln(w, "error: "+e)
	}
	if len(r.Leftover) > 0 {
		fmt.Fprintln(w, "LEFT BEHIND (cleanup failed): "+strings.Join(r.Leftover, "; "))
	}
}

func orNone(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}

func fmtFloat(f float64) string {
	if math.IsNaN(f) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", f)
}

func kinds(m map[string]int64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != 0 {
			parts = append(parts, fmt.Sprintf("%s %.1f MB", k, float64(m[k])/1024))
		}
	}
	return strings.Join(parts, ", ")
}

func phaseLine(ps []PhaseSummary) string {
	var parts, own []string
	for _, p := range ps {
		if p.Overlap {
			own = append(own, fmt.Sprintf("%s %s", p.Name, FormatMS(p.Summary.Median)))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s", p.Name, FormatMS(p.Summary.Median)))
	}
	line := strings.Join(parts, " | ")
	if len(own) > 0 {
		line += "  (each on its own; containers: created to running: " + strings.Join(own, ", ") + ")"
	}
	return line
}

type bucket struct {
	name string
	s    Summary
}

// deciles groups samples in order into (up to) ten buckets.
func deciles(d []time.Duration) []bucket {
	n := len(d)
	if n == 0 {
		return nil
	}
	k := 10
	if n < k {
		k = n
	}
	var out []bucket
	for i := 0; i < k; i++ {
		lo, hi := i*n/k, (i+1)*n/k
		out = append(out, bucket{name: fmt.Sprintf("%d-%d", lo+1, hi), s: Summarize(d[lo:hi])})
	}
	return out
}

// analyseScale fills the linearity numbers of a scale run.
func analyseScale(s *ScaleResult) {
	b := deciles(s.Create)
	if len(b) >= 2 {
		s.FirstVsLast = JSONRatio(DurRatio(b[len(b)-1].s.Median, b[0].s.Median))
	} else {
		s.FirstVsLast = JSONRatio(math.NaN())
	}
	xs := make([]float64, len(s.Create))
	ys := make([]float64, len(s.Create))
	for i, d := range s.Create {
		xs[i], ys[i] = float64(i+1), float64(d)/float64(time.Millisecond)
	}
	s.SlopeMsPer100 = JSONRatio(Slope(xs, ys) * 100)
	s.Points = ScalePoints(s.Create)
}

// Issue 16's targets, evaluated on the headline (whole processes).
const (
	TargetReadyCRI     = 0.5 // podsim apply / CRI+crictl, pairwise median
	TargetReadyPodman  = 0.4 // podsim apply / podman kube play (bridge net)
	TargetTeardownCRI  = 0.5 // podsim delete / CRI stopp+rmp
	TargetLinear       = 1.5 // last 10 pods' create median / first 10's
	TargetIdleCPUPct   = 0.5 // agent CPU at rest, % of one core ("~0")
	targetMemoryIsPeer = "CRI's shim + pause"
	minLinearPods      = 20 // below this, deciles are single pods: no verdict
)

// scaleMemoryTarget is the memory target again with the scale run's pods:
// the agent's share shrinks as it serves more pods.
func scaleMemoryTarget(s *ScaleResult, cri *MemResult) (TargetVerdict, bool) {
	if len(s.Memory) == 0 || cri == nil || cri.Error != "" {
		return TargetVerdict{}, false
	}
	m := s.Memory[len(s.Memory)-1]
	if m.Agent == nil {
		return TargetVerdict{}, false
	}
	own := m.RSSKBPerPod + float64(m.Agent.RSSKBPerPod)
	return TargetVerdict{
		Target: fmt.Sprintf("memory per pod <= %s, with %d pods", targetMemoryIsPeer, m.Pods),
		Measured: fmt.Sprintf("%.1f MB (%.1f + agent %.1f MB / %d pods) vs %.1f MB: %s", own/1024, m.RSSKBPerPod/1024,
			float64(m.Agent.RSSKB)/1024, m.Agent.Pods, cri.RSSKBPerPod/1024, FormatRatio(Ratio(own, cri.RSSKBPerPod))),
		Met: verdict(Ratio(own, cri.RSSKBPerPod), 1)}, true
}

// verdict is "yes" when v <= limit, "no" when not, "n/a" when v is missing.
func verdict(v, limit float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case v <= limit:
		return "yes"
	}
	return "no"
}

// evaluateTargets checks the targets on the 2-container pod.
func (r *Report) evaluateTargets() {
	r.Targets = nil
	var c *CaseResult
	for _, x := range r.Cases {
		if x.Case == "2c" && x.Skipped == "" {
			c = x
		}
	}
	if c == nil {
		return
	}
	pair := func(target, metric, peer string, limit float64) {
		sp, ok := c.Pair(metric, HeadlineSystem, peer)
		if !ok {
			r.Targets = append(r.Targets, TargetVerdict{Target: target, Measured: "not measured", Met: "n/a"})
			return
		}
		r.Targets = append(r.Targets, TargetVerdict{Target: target, Measured: sp.String(), Met: verdict(float64(sp.Median), limit)})
	}
	pair(fmt.Sprintf("ready <= %.1fx CRI+crictl (podsim apply, per-round ratio, median)", TargetReadyCRI), "ready", "cri", TargetReadyCRI)
	pair(fmt.Sprintf("ready <= %.1fx podman kube play (bridge network)", TargetReadyPodman), "ready", "podman-net", TargetReadyPodman)
	pair(fmt.Sprintf("teardown <= %.1fx CRI+crictl (podsim delete pod)", TargetTeardownCRI), "teardown", "cri", TargetTeardownCRI)
	r.Targets = append(r.Targets, memoryTarget(c))
	for _, s := range r.Scale {
		if s.System != HeadlineSystem && s.System != "podsim" {
			continue
		}
		lin := TargetVerdict{
			Target:   fmt.Sprintf("%d pods through %s: linear (create median of the last 10%% / first 10%% <= %.1f)", s.Pods, s.System, TargetLinear),
			Measured: fmt.Sprintf("%s (slope %s ms per 100 pods)", FormatRatio(float64(s.FirstVsLast)), fmtFloat(float64(s.SlopeMsPer100))),
			Met:      verdict(float64(s.FirstVsLast), TargetLinear)}
		if s.Pods < minLinearPods {
			lin.Met = fmt.Sprintf("n/a (fewer than %d pods)", minLinearPods)
		}
		r.Targets = append(r.Targets, lin)
		if t, ok := scaleMemoryTarget(s, c.Memory["cri"]); ok {
			r.Targets = append(r.Targets, t)
		}
		if a := s.AgentIdle; a != nil {
			t := TargetVerdict{Target: fmt.Sprintf("agent CPU at rest with %d pods ~0 (<= %.1f%% of one core)", a.Pods, TargetIdleCPUPct), Met: "n/a", Measured: a.Error}
			if a.Error == "" {
				t.Measured = fmt.Sprintf("%.2f%% (%s in %s), agent RSS %.1f MB", float64(a.CPUPercent), a.CPU, a.Window.Round(100*time.Millisecond), float64(a.RSSKB)/1024)
				t.Met = verdict(float64(a.CPUPercent), TargetIdleCPUPct)
			}
			r.Targets = append(r.Targets, t)
		}
	}
}

// memoryTarget compares podsim's per-pod RSS, every process it adds
// (shim, pause, log drivers, the agent's share), with CRI's shim + pause.
func memoryTarget(c *CaseResult) TargetVerdict {
	t := TargetVerdict{Target: "memory per pod <= " + targetMemoryIsPeer + " (RSS; podsim incl. its agent's share)", Met: "n/a", Measured: "not measured"}
	m := c.Memory[HeadlineSystem]
	if m == nil || m.Error != "" {
		m = c.Memory["podsim"]
	}
	cri := c.Memory["cri"]
	if m == nil || m.Error != "" || cri == nil || cri.Error != "" {
		return t
	}
	own := m.RSSKBPerPodWithAgent
	agent := "no agent running"
	if m.Agent != nil {
		agent = fmt.Sprintf("agent %.1f MB / %d pods", float64(m.Agent.RSSKB)/1024, m.Agent.Pods)
	}
	if own == 0 {
		own = m.RSSKBPerPod
	}
	t.Measured = fmt.Sprintf("%.1f MB (%.1f + %s) vs %.1f MB: %s", own/1024, m.RSSKBPerPod/1024, agent, cri.RSSKBPerPod/1024, FormatRatio(Ratio(own, cri.RSSKBPerPod)))
	t.Met = verdict(Ratio(own, cri.RSSKBPerPod), 1)
	return t
}

// writeHeadline prints the whole-process figures of a case: times per
// system, the per-round ratios against each peer, memory per pod.
func writeHeadline(w io.Writer, c *CaseResult) {
	cli := c.result(HeadlineSystem)
	if cli == nil {
		return
	}
	fmt.Fprintf(w, "   HEADLINE: whole processes as a user runs them (%s = `podsim apply -f` / `podsim delete pod`), ms\n", HeadlineSystem)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "   system\tready median\tmin-max\t\tteardown median\tmin-max\t")
	for _, name := range append([]string{HeadlineSystem}, HeadlinePeers...) {
		if res := c.result(name); res != nil && res.Ready.N > 0 {
			fmt.Fprintf(tw, "   %s\t%s\t%s-%s\t\t%s\t%s-%s\t\n", name, FormatMS(res.Ready.Median), FormatMS(res.Ready.Min), FormatMS(res.Ready.Max),
				FormatMS(res.Teardown.Median), FormatMS(res.Teardown.Min), FormatMS(res.Teardown.Max))
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "   per-round ratios podsim/peer: median (IQR, range, rounds)")
	for _, a := range []string{HeadlineSystem, "podsim"} {
		for _, p := range c.Pairs {
			if p.A == a {
				fmt.Fprintf(w, "     %-8s %s/%s: %s\n", p.Metric, p.A, p.B, p.Spread)
			}
		}
		if a == HeadlineSystem {
			fmt.Fprintln(w, "   breakdown: podsim in process (no CLI start, no manifest parsing in a new process):")
		}
	}
	for _, n := range cli.Notes {
		fmt.Fprintln(w, "   note: "+n)
	}
	if m := c.Memory[HeadlineSystem]; m != nil && m.Error == "" {
		line := fmt.Sprintf("   memory per pod (RSS, every process podsim adds): %.1f MB [%s]", m.RSSKBPerPod/1024, kinds(m.ByKind))
		if a := m.Agent; a != nil {
			line += fmt.Sprintf(" + node agent %.1f MB / %d pods = %.1f MB per pod", float64(a.RSSKB)/1024, a.Pods, m.RSSKBPerPodWithAgent/1024)
		}
		fmt.Fprintln(w, line)
	}
}
