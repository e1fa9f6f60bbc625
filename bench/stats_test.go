package bench

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func msSamples(v ...float64) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x * float64(time.Millisecond))
	}
	return out
}

func TestSummarizeOdd(t *testing.T) {
	s := Summarize(msSamples(30, 10, 20))
	if s.N != 3 || s.Min != 10*time.Millisecond || s.Median != 20*time.Millisecond || s.Max != 30*time.Millisecond {
		t.Fatalf("got %+v", s)
	}
	if s.P95 != 30*time.Millisecond {
		t.Fatalf("p95 of 3 samples is the max, got %v", s.P95)
	}
	if s.Mean != 20*time.Millisecond {
		t.Fatalf("mean %v", s.Mean)
	}
}

func TestSummarizeEvenMedian(t *testing.T) {
	s := Summarize(msSamples(4, 1, 3, 2))
	if s.Median != 2500*time.Microsecond {
		t.Fatalf("median of 1,2,3,4 is 2.5ms, got %v", s.Median)
	}
}

func TestSummarizeDoesNotReorderInput(t *testing.T) {
	in := msSamples(3, 1, 2)
	Summarize(in)
	if in[0] != 3*time.Millisecond {
		t.Fatal("Summarize sorted its input in place")
	}
}

func TestSummarizeEmpty(t *testing.T) {
	if s := Summarize(nil); s.N != 0 || s.Median != 0 {
		t.Fatalf("got %+v", s)
	}
}

func TestPercentileNearestRank(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{95, 95 * time.Millisecond}, {50, 50 * time.Millisecond}, {100, 100 * time.Millisecond}, {1, time.Millisecond}, {0, time.Millisecond}} {
		if got := Percentile(s, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	// 20 samples: rank ceil(0.95*20) = 19.
	if got := Percentile(s[:20], 95); got != 19*time.Millisecond {
		t.Errorf("p95 of 1..20 = %v, want 19ms", got)
	}
	// 10 samples: rank ceil(9.5) = 10, the maximum.
	if got := Percentile(s[:10], 95); got != 10*time.Millisecond {
		t.Errorf("p95 of 1..10 = %v, want 10ms", got)
	}
}

func TestRatio(t *testing.T) {
	if r := Ratio(50, 100); r != 0.5 {
		t.Fatalf("50/100 = %v", r)
	}
	for _, c := range [][2]float64{{0, 1}, {1, 0}, {math.NaN(), 1}, {-1, 2}} {
		if r := Ratio(c[0], c[1]); !math.IsNaN(r) {
			t.Errorf("Ratio(%v,%v) = %v, want NaN (missing measurement)", c[0], c[1], r)
		}
	}
	if r := DurRatio(30*time.Millisecond, 120*time.Millisecond); r != 0.25 {
		t.Fatalf("DurRatio = %v", r)
	}
	if FormatRatio(0.4249) != "0.42x" || FormatRatio(math.NaN()) != "n/a" {
		t.Fatalf("FormatRatio: %q %q", FormatRatio(0.4249), FormatRatio(math.NaN()))
	}
}

func TestJSONRatio(t *testing.T) {
	b, _ := json.Marshal(map[string]JSONRatio{"a": JSONRatio(0.123456), "b": JSONRatio(math.NaN())})
	if string(b) != `{"a":0.123,"b":null}` {
		t.Fatalf("got %s", b)
	}
}

func TestSlope(t *testing.T) {
	xs := []float64{1, 2, 3, 4}
	if s := Slope(xs, []float64{5, 5, 5, 5}); s != 0 {
		t.Fatalf("flat slope = %v", s)
	}
	if s := Slope(xs, []float64{2, 4, 6, 8}); math.Abs(s-2) > 1e-9 {
		t.Fatalf("slope = %v, want 2", s)
	}
	if s := Slope([]float64{1}, []float64{1}); !math.IsNaN(s) {
		t.Fatalf("one point: %v", s)
	}
}
