package bench

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// The headline of a bench run is what a user sees: whole processes, timed
// from the outside (`podsim apply -f` until both containers run, against
// crictl's runp + create + start processes and `podman kube play`). Every
// round of the interleaved run builds the pod once through each system, so
// the systems of one round share the machine's noise; the ratio is taken
// per round (pairwise), and its distribution over the rounds is reported,
// not only its median: on a shared 2-core VM the median alone moves by
// ±0.05 between runs.

// HeadlineSystem is the podsim system the headline measures: its CLI as a
// user runs it. The in-process "podsim" is the breakdown below it.
const HeadlineSystem = "podsim-cli"

// HeadlinePeers are the systems the headline compares podsim with.
var HeadlinePeers = []string{"cri", "podman-net", "podman-none", "floor"}

// Spread is the distribution of a ratio over the rounds of one run.
type Spread struct {
	N      int       `json:"n"`
	Median JSONRatio `json:"median"`
	P25    JSONRatio `json:"p25"`
	P75    JSONRatio `json:"p75"`
	Min    JSONRatio `json:"min"`
	Max    JSONRatio `json:"max"`
}

// PairResult is the per-round ratio a/b of one metric (ready or teardown).
type PairResult struct {
	Metric string `json:"metric"` // "ready" or "teardown"
	A      string `json:"a"`
	B      string `json:"b"`
	Spread Spread `json:"spread"`
}

// SpreadOf summarizes ratios: the median (mean of the two middle values for
// an even count), the quartiles (nearest rank) and the extremes. NaN
// values are dropped; no values give N = 0 and NaN fields.
func SpreadOf(ratios []float64) Spread {
	var s []float64
	for _, r := range ratios {
		if !math.IsNaN(r) && !math.IsInf(r, 0) {
			s = append(s, r)
		}
	}
	nan := JSONRatio(math.NaN())
	if len(s) == 0 {
		return Spread{Median: nan, P25: nan, P75: nan, Min: nan, Max: nan}
	}
	sort.Float64s(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Spread{N: n, Median: JSONRatio(med), P25: JSONRatio(rankF(s, 25)), P75: JSONRatio(rankF(s, 75)),
		Min: JSONRatio(s[0]), Max: JSONRatio(s[n-1])}
}

// rankF is the nearest-rank percentile of sorted values (as Percentile).
func rankF(sorted []float64, p float64) float64 {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// String prints "0.62x (IQR 0.58-0.66, range 0.50-0.80, n 15)".
func (s Spread) String() string {
	if s.N == 0 {
		return "n/a"
	}
	f := func(r JSONRatio) string { return fmt.Sprintf("%.2f", float64(r)) }
	return fmt.Sprintf("%s (IQR %s-%s, range %s-%s, n %d)", FormatRatio(float64(s.Median)), f(s.P25), f(s.P75), f(s.Min), f(s.Max), s.N)
}

// RoundRatios pairs two systems' samples by round and returns a/b for
// every round in which both succeeded, in round order.
func RoundRatios(aRounds []int, a []time.Duration, bRounds []int, b []time.Duration) []float64 {
	byRound := map[int]time.Duration{}
	for i, r := range bRounds {
		if i < len(b) {
			byRound[r] = b[i]
		}
	}
	var out []float64
	for i, r := range aRounds {
		if i >= len(a) {
			break
		}
		if d, ok := byRound[r]; ok {
			if x := DurRatio(a[i], d); !math.IsNaN(x) {
				out = append(out, x)
			}
		}
	}
	return out
}

// computeHeadline fills the pairwise ratios of the case: the CLI (the
// headline) and the in-process system (the breakdown) against each peer.
func (c *CaseResult) computeHeadline() {
	c.Pairs = nil
	for _, a := range []string{HeadlineSystem, "podsim"} {
		ra := c.result(a)
		if ra == nil {
			continue
		}
		for _, b := range HeadlinePeers {
			rb := c.result(b)
			if rb == nil {
				continue
			}
			for _, metric := range []string{"ready", "teardown"} {
				ax, bx := ra.ready, rb.ready
				if metric == "teardown" {
					ax, bx = ra.teardown, rb.teardown
				}
				sp := SpreadOf(RoundRatios(ra.Rounds, ax, rb.Rounds, bx))
				if sp.N > 0 {
					c.Pairs = append(c.Pairs, PairResult{Metric: metric, A: a, B: b, Spread: sp})
				}
			}
		}
	}
}

// Pair returns the pairwise ratio a/b of metric, if it was measured.
func (c *CaseResult) Pair(metric, a, b string) (Spread, bool) {
	for _, p := range c.Pairs {
		if p.Metric == metric && p.A == a && p.B == b {
			return p.Spread, true
		}
	}
	return Spread{}, false
}

// ScalePoint is the create time per pod around a number of pods.
type ScalePoint struct {
	Label  string        `json:"label"`
	Median time.Duration `json:"medianNs"`
	N      int           `json:"n"`
}

// ScalePoints gives the time per pod at the start, at ~10 pods and at the
// end of a scale run: the 1st pod alone, the median of pods 1-10, and the
// median of the last ten (or fewer) pods. Linear means the last is close
// to the second.
func ScalePoints(create []time.Duration) []ScalePoint {
	n := len(create)
	if n == 0 {
		return nil
	}
	pts := []ScalePoint{{Label: "pod 1", Median: create[0], N: 1}}
	k := min(10, n)
	pts = append(pts, ScalePoint{Label: fmt.Sprintf("pods 1-%d", k), Median: Summarize(create[:k]).Median, N: k})
	if n > 10 {
		lo := max(10, n-10)
		pts = append(pts, ScalePoint{Label: fmt.Sprintf("pods %d-%d", lo+1, n), Median: Summarize(create[lo:]).Median, N: n - lo})
	}
	return pts
}

// CPUPercent is the share of one core used: cpu seconds over wall seconds.
func CPUPercent(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return math.NaN()
	}
	return 100 * float64(cpu) / float64(wall)
}
