// Package bench measures podsim against the real thing on the same machine,
// in the same run: containerd's CRI plugin driven by crictl, podman's
// `kube play`, and the floor no runc-based tool can beat (plain `runc run`
// and a bare network namespace). It also builds the same pod through podsim
// and through CRI and compares what the kernel got (see compare*.go).
//
// Absolute times on a shared 2-core machine are noise; ratios measured in one
// interleaved run are not. Every number here is a wall-clock time or a memory
// reading of real processes; a system that cannot run is reported as such,
// never estimated.
package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"
)

// Summary is the distribution of one measurement over repeated runs.
type Summary struct {
	N      int           `json:"n"`
	Min    time.Duration `json:"minNs"`
	Median time.Duration `json:"medianNs"`
	P95    time.Duration `json:"p95Ns"`
	Max    time.Duration `json:"maxNs"`
	Mean   time.Duration `json:"meanNs"`
}

// Summarize computes min, median, p95, max and mean. The median of an even
// number of samples is the mean of the two middle ones; p95 is the
// nearest-rank percentile (the smallest sample with at least 95% of the
// samples at or below it), so with fewer than 20 samples it is the maximum.
func Summarize(samples []time.Duration) Summary {
	if len(samples) == 0 {
		return Summary{}
	}
	s := append([]time.Duration(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Summary{N: n, Min: s[0], Median: med, P95: Percentile(s, 95), Max: s[n-1], Mean: sum / time.Duration(n)}
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of the
// samples (which need not be sorted): the value at rank ceil(p/100 * n).
func Percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if p <= 0 {
		return s[0]
	}
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	if rank < 1 {
		rank = 1
	}
	if rank > len(s) {
		rank = len(s)
	}
	return s[rank-1]
}

// Ratio is a/b, or NaN when either is missing (b == 0 or a == 0 means the
// measurement did not happen: a ratio then would be a made-up number).
func Ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 || math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}

// DurRatio is Ratio of two durations.
func DurRatio(a, b time.Duration) float64 { return Ratio(float64(a), float64(b)) }

// FormatRatio prints a ratio as "0.42x", or "n/a" when it is missing.
func FormatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) || r <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", r)
}

// FormatMS prints a duration in milliseconds with one decimal, or "-" for 0.
func FormatMS(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond))
}

// JSONRatio is a ratio that marshals NaN as null (JSON has no NaN).
type JSONRatio float64

func (r JSONRatio) MarshalJSON() ([]byte, error) {
	f := float64(r)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(math.Round(f*1000) / 1000)
}

// Slope fits y = a + b*x by least squares and returns b. Used to say whether
// the per-pod cost grows with the number of pods (b ~ 0: flat).
func Slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if len(xs) != len(ys) || len(xs) < 2 {
		return math.NaN()
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return math.NaN()
	}
	return (n*sxy - sx*sy) / den
}
