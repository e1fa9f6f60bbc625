package bench

import (
	"testing"
	"time"

	"github.com/podsim/podsim/sandbox"
)

func TestCreatePhases(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	d := func(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
	evs := []TracedEvent{
		{Step: "cgroup", Duration: d(2), At: at(12)},  // starts at 10: prepare = 10
		{Step: "netns", Duration: d(3), At: at(15)},   // starts at 12
		{Step: "cni", Duration: d(20), At: at(35)},    // starts at 15
		{Step: "pause", Duration: d(40), At: at(80)},  // starts at 40: pod files = 5
		{Step: "mount", Duration: d(30), At: at(110)}, // ignored
		{Step: "app", Duration: d(30), At: at(110)},   // created from 80, running at 110
		{Step: "app", Duration: d(60), At: at(142)},   // created concurrently from 82, running at 142
	}
	ph := CreatePhases(t0, at(150), evs, nil, []string{"c1", "c2"})
	want := []Phase{
		{"prepare", d(10), false}, {"cgroup", d(2), false}, {"netns", d(3), false}, {"cni", d(20), false}, {"pod files", d(5), false},
		{"pause", d(40), false}, {"app containers", d(62), false}, {"finish", d(8), false},
		{"container c1", d(30), true}, {"container c2", d(60), true},
	}
	checkPhases(t, ph, want, d(150))
}

func TestCreatePhasesInitAndGaps(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	d := func(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
	ph := CreatePhases(t0, at(100), []TracedEvent{
		{Step: "cni", Duration: d(10), At: at(10)},
		{Step: "pause", Duration: d(20), At: at(32)},
		{Step: "init", Duration: d(30), At: at(65)}, // 3 ms gap before it
		{Step: "app", Duration: d(30), At: at(98)},
	}, []string{"setup"}, []string{"main"})
	names := map[string]time.Duration{}
	for _, p := range ph {
		names[p.Name] = p.Duration
	}
	if names["init setup"] != d(30) || names["between steps"] != d(3) || names["app containers"] != d(33) || names["pod files"] != d(2) {
		t.Fatalf("%+v", ph)
	}
}

func TestCreatePhasesNoEvents(t *testing.T) {
	t0 := time.Unix(0, 0)
	ph := CreatePhases(t0, t0.Add(time.Second), nil, nil, nil)
	if len(ph) != 1 || ph[0].Duration != time.Second {
		t.Fatalf("%+v", ph)
	}
}

func TestTeardownPhases(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	d := func(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
	evs := []TracedEvent{
		{Step: "teardown", Duration: d(50), At: at(55)},   // containers: teardown began at 5
		{Step: "teardown", Duration: d(20), At: at(75)},   // pause
		{Step: "teardown", Duration: d(15), At: at(90)},   // network
		{Step: "teardown", Duration: d(100), At: at(105)}, // total, started at 5
	}
	ph := TeardownPhases(t0, at(106), evs)
	want := []Phase{{"lookup", d(5), false}, {"stop containers", d(50), false}, {"remove containers + pause", d(20), false},
		{"CNI DEL + netns", d(15), false}, {"files, logs, cgroup", d(15), false}, {"return", d(1), false}}
	for i := range want {
		if ph[i] != want[i] {
			t.Errorf("phase %d: %+v, want %+v", i, ph[i], want[i])
		}
	}
}

func TestTracer(t *testing.T) {
	var tr Tracer
	tr.Trace(sandbox.Event{Step: "cgroup", Duration: time.Millisecond})
	if evs := tr.Take(); len(evs) != 1 || evs[0].Step != "cgroup" || evs[0].At.IsZero() {
		t.Fatalf("%+v", evs)
	}
	if len(tr.Take()) != 0 {
		t.Fatal("Take did not forget")
	}
}

// TestCreatePhasesOverlap: podsim runs CNI ADD while the pause starts; the
// two form one phase of their wall time, each listed on its own apart.
func TestCreatePhasesOverlap(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	d := func(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
	evs := []TracedEvent{
		{Step: "cgroup", Duration: d(2), At: at(12)},
		{Step: "netns", Duration: d(3), At: at(15)},
		{Step: "cni", Duration: d(20), At: at(40)},   // 20..40
		{Step: "pause", Duration: d(60), At: at(81)}, // 21..81, reported after cni
		{Step: "app", Duration: d(30), At: at(115)},  // 85..115
	}
	ph := CreatePhases(t0, at(120), evs, nil, []string{"c1"})
	want := []Phase{
		{"prepare", d(10), false}, {"cgroup", d(2), false}, {"netns", d(3), false}, {"pod files", d(5), false},
		{"cni + pause", d(61), false}, {"app containers", d(34), false}, {"finish", d(5), false},
		{"cni", d(20), true}, {"pause", d(60), true}, {"container c1", d(30), true},
	}
	checkPhases(t, ph, want, d(120))
}

// checkPhases compares phases one by one and checks that the ones that do
// not overlap add up to the whole time.
func checkPhases(t *testing.T, ph, want []Phase, whole time.Duration) {
	t.Helper()
	if len(ph) != len(want) {
		t.Fatalf("got %+v", ph)
	}
	var sum time.Duration
	for i := range want {
		if ph[i] != want[i] {
			t.Errorf("phase %d: %+v, want %+v", i, ph[i], want[i])
		}
		if !ph[i].Overlap {
			sum += ph[i].Duration
		}
	}
	if sum != whole {
		t.Errorf("phases add up to %v, want the whole %v", sum, whole)
	}
}
