package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestSpreadOf(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		in                      []float64
		n                       int
		med, p25, p75, min, max float64
	}{
		{"odd", []float64{0.9, 0.5, 0.7, 0.6, 0.8}, 5, 0.7, 0.6, 0.8, 0.5, 0.9},
		{"even: median is the mean of the middle two", []float64{0.4, 0.8, 0.6, 0.5}, 4, 0.55, 0.4, 0.6, 0.4, 0.8},
		{"one", []float64{0.62}, 1, 0.62, 0.62, 0.62, 0.62, 0.62},
		{"NaN and Inf are dropped", []float64{math.NaN(), 0.5, math.Inf(1), 0.7}, 2, 0.6, 0.5, 0.7, 0.5, 0.7},
	} {
		s := SpreadOf(tc.in)
		got := []float64{float64(s.Median), float64(s.P25), float64(s.P75), float64(s.Min), float64(s.Max)}
		want := []float64{tc.med, tc.p25, tc.p75, tc.min, tc.max}
		if s.N != tc.n {
			t.Errorf("%s: n %d, want %d", tc.name, s.N, tc.n)
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-9 {
				t.Errorf("%s: [median p25 p75 min max] = %v, want %v", tc.name, got, want)
				break
			}
		}
	}
}

func TestSpreadOfNothingIsNotMeasured(t *testing.T) {
	s := SpreadOf(nil)
	if s.N != 0 || !math.IsNaN(float64(s.Median)) || s.String() != "n/a" {
		t.Fatalf("got %+v %q", s, s.String())
	}
	b, err := json.Marshal(s)
	if err != nil || !strings.Contains(string(b), `"median":null`) {
		t.Fatalf("JSON %s %v: a missing ratio must be null", b, err)
	}
}

func TestSpreadString(t *testing.T) {
	got := SpreadOf([]float64{0.5, 0.6, 0.7, 0.8}).String()
	if got != "0.65x (IQR 0.50-0.70, range 0.50-0.80, n 4)" {
		t.Fatalf("got %q", got)
	}
}

// Ratios pair samples of the same round; a round one system lost (an
// error) is left out rather than paired with another round.
func TestRoundRatiosPairByRound(t *testing.T) {
	a := msSamples(100, 200, 300)
	b := msSamples(400, 500)
	got := RoundRatios([]int{0, 1, 2}, a, []int{0, 2}, b)
	want := []float64{100.0 / 400, 300.0 / 500}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if r := RoundRatios([]int{0}, msSamples(10), []int{0}, msSamples(0)); len(r) != 0 {
		t.Fatalf("a zero peer time is no measurement, got %v", r)
	}
}

// The per-round median differs from the ratio of medians: with a peer that
// is slow exactly when podsim is, pairing shows the steady ratio.
func TestComputeHeadlinePairsRounds(t *testing.T) {
	c := &CaseResult{Case: "2c", Results: []*SystemResult{
		{System: HeadlineSystem, Rounds: []int{0, 1, 2}, ready: msSamples(100, 300, 110), teardown: msSamples(50, 150, 55)},
		{System: "cri", Rounds: []int{0, 1, 2}, ready: msSamples(200, 600, 220), teardown: msSamples(100, 300, 110)},
	}}
	c.computeHeadline()
	sp, ok := c.Pair("ready", HeadlineSystem, "cri")
	if !ok || sp.N != 3 || math.Abs(float64(sp.Median)-0.5) > 1e-9 || float64(sp.Min) != float64(sp.Max) {
		t.Fatalf("ready: %+v %v", sp, ok)
	}
	if _, ok := c.Pair("ready", HeadlineSystem, "podman-net"); ok {
		t.Fatal("a peer that did not run has no ratio")
	}
	if _, ok := c.Pair("teardown", "podsim", "cri"); ok {
		t.Fatal("the in-process system did not run")
	}
}

func TestScalePoints(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	p := ScalePoints(d)
	if len(p) != 3 || p[0].Median != time.Millisecond || p[1].Label != "pods 1-10" || p[1].Median != 5500*time.Microsecond ||
		p[2].Label != "pods 91-100" || p[2].Median != 95500*time.Microsecond || p[2].N != 10 {
		t.Fatalf("got %+v", p)
	}
	if p := ScalePoints(d[:3]); len(p) != 2 || p[1].Label != "pods 1-3" {
		t.Fatalf("3 pods: %+v", p)
	}
	if p := ScalePoints(d[:14]); len(p) != 3 || p[2].Label != "pods 11-14" || p[2].N != 4 {
		t.Fatalf("14 pods: the last points do not overlap the first ten: %+v", p)
	}
	if ScalePoints(nil) != nil {
		t.Fatal("no pods, no points")
	}
}

func TestParseStatCPU(t *testing.T) {
	// The command name may hold spaces and parentheses.
	line := "1234 (podsim (x) y) S 1 1234 1234 0 -1 4194560 2000 0 0 0 250 75 0 0 20 0 8 0 100 800000000 7000 18446744073709551615"
	d, err := ParseStatCPU(line)
	if err != nil || d != 3250*time.Millisecond {
		t.Fatalf("got %v, %v; want 3.25s (325 ticks)", d, err)
	}
	for _, bad := range []string{"", "1234 (x) S 1 2", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 u s 0"} {
		if _, err := ParseStatCPU(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestCPUPercent(t *testing.T) {
	if got := CPUPercent(50*time.Millisecond, 10*time.Second); math.Abs(got-0.5) > 1e-9 {
		t.Fatalf("got %v", got)
	}
	if !math.IsNaN(CPUPercent(time.Second, 0)) {
		t.Fatal("no window, no percentage")
	}
}

func targetsOf(r *Report) map[string]TargetVerdict {
	out := map[string]TargetVerdict{}
	for _, t := range r.Targets {
		out[strings.Fields(t.Target)[0]+" "+strings.Fields(t.Target)[2]] = t
	}
	return out
}

func TestEvaluateTargets(t *testing.T) {
	rounds := []int{0, 1, 2}
	c := &CaseResult{Case: "2c", Results: []*SystemResult{
		{System: HeadlineSystem, Rounds: rounds, ready: msSamples(100, 100, 100), teardown: msSamples(100, 100, 100)},
		{System: "cri", Rounds: rounds, ready: msSamples(250, 200, 150), teardown: msSamples(150, 150, 150)},
		{System: "podman-net", Rounds: rounds, ready: msSamples(300, 300, 300), teardown: msSamples(300, 300, 300)},
	}, Memory: map[string]*MemResult{
		HeadlineSystem: {RSSKBPerPod: 15000, RSSKBPerPodWithAgent: 15500, Agent: &AgentUsage{RSSKB: 2500, Pods: 5}},
		"cri":          {RSSKBPerPod: 16000},
	}}
	c.computeHeadline()
	r := &Report{Cases: []*CaseResult{c}, Scale: []*ScaleResult{{System: HeadlineSystem, Pods: 100, FirstVsLast: 1.2,
		AgentIdle: &AgentIdle{Pods: 100, Window: 10 * time.Second, CPU: 200 * time.Millisecond, CPUPercent: 2}}}}
	r.evaluateTargets()
	got := targetsOf(r)
	for key, want := range map[string]string{
		"ready 0.5x":    "yes", // per-round 0.4, 0.5, 0.67: median 0.5
		"ready 0.4x":    "yes", // 0.33
		"teardown 0.5x": "no",  // 0.67
		"memory pod":    "yes", // 15.5 MB <= 16
		"100 through":   "yes", // 1.2 <= 1.5
		"agent at":      "no",  // 2 % of a core is not ~0
	} {
		if got[key].Met != want {
			t.Errorf("%s: met %q, want %q (%+v)", key, got[key].Met, want, got[key])
		}
	}
	if !strings.Contains(got["memory pod"].Measured, "15.1 MB (14.6 + agent 2.4 MB / 5 pods) vs 15.6 MB") {
		t.Errorf("memory measured: %q", got["memory pod"].Measured)
	}
	var buf bytes.Buffer
	r.WriteText(&buf)
	for _, want := range []string{"HEADLINE", "ready    podsim-cli/cri: 0.50x (IQR 0.40-0.67", "issue 16's targets", "agent CPU at rest"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestTargetsNotMeasuredAreNotMet(t *testing.T) {
	r := &Report{Cases: []*CaseResult{{Case: "2c"}}}
	r.evaluateTargets()
	if len(r.Targets) != 4 {
		t.Fatalf("want the 3 time targets and memory, got %+v", r.Targets)
	}
	for _, tv := range r.Targets {
		if tv.Met != "n/a" {
			t.Errorf("%s: %q without a measurement", tv.Target, tv.Met)
		}
	}
}

func TestScaleTargets(t *testing.T) {
	c := &CaseResult{Case: "2c", Memory: map[string]*MemResult{"cri": {RSSKBPerPod: 16 * 1024}}}
	small := &ScaleResult{System: HeadlineSystem, Pods: 3, FirstVsLast: 1.6}
	big := &ScaleResult{System: HeadlineSystem, Pods: 100, FirstVsLast: 1.1, Memory: []ScaleMem{
		{Pods: 10, RSSKBPerPod: 20 * 1024, Agent: &AgentUsage{RSSKB: 50 * 1024, Pods: 10, RSSKBPerPod: 5 * 1024}},
		{Pods: 100, RSSKBPerPod: 15 * 1024, Agent: &AgentUsage{RSSKB: 60 * 1024, Pods: 100, RSSKBPerPod: 0.6 * 1024}},
	}}
	r := &Report{Cases: []*CaseResult{c}, Scale: []*ScaleResult{small, big, {System: "cri", Pods: 100, FirstVsLast: 9}}}
	r.evaluateTargets()
	var lines []string
	for _, tv := range r.Targets {
		lines = append(lines, tv.Target+" | "+tv.Measured+" | "+tv.Met)
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{
		"3 pods through podsim-cli: linear (create median of the last 10% / first 10% <= 1.5) | 1.60x (slope 0.00 ms per 100 pods) | n/a (fewer than 20 pods)",
		"100 pods through podsim-cli: linear (create median of the last 10% / first 10% <= 1.5) | 1.10x (slope 0.00 ms per 100 pods) | yes",
		"memory per pod <= CRI's shim + pause, with 100 pods | 15.6 MB (15.0 + agent 60.0 MB / 100 pods) vs 16.0 MB: 0.97x | yes",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("targets lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "through cri") {
		t.Errorf("a peer's scale run is no target of podsim's:\n%s", all)
	}
}
