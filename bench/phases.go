package bench

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/podsim/podsim/sandbox"
)

// TracedEvent is a sandbox.Event with the time its step ended (At), so the
// step started at At-Duration.
type TracedEvent struct {
	Step     string
	Duration time.Duration
	At       time.Time
}

func (e TracedEvent) start() time.Time { return e.At.Add(-e.Duration) }

// Tracer collects podsim's Trace events; pass Tracer.Trace as the
// Manager's Trace option.
type Tracer struct {
	mu  sync.Mutex
	evs []TracedEvent
}

// Trace records one event. A step ends at its start plus its duration;
// events that report when they arrive (no start) end on arrival.
func (t *Tracer) Trace(ev sandbox.Event) {
	at := time.Now()
	if !ev.Time.IsZero() {
		at = ev.Time.Add(ev.Duration)
	}
	t.mu.Lock()
	t.evs = append(t.evs, TracedEvent{Step: ev.Step, Duration: ev.Duration, At: at})
	t.mu.Unlock()
}

// Take returns the events since the last Take and forgets them.
func (t *Tracer) Take() []TracedEvent {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.evs
	t.evs = nil
	return out
}

// CreatePhases splits podsim's manifest -> running time into the steps its
// Trace events name, in a way that adds up to the whole: "prepare" before
// the cgroup (manifest parsing, validation, the host lock, image checks),
// cgroup, netns, "pod files" (hosts, resolv.conf, /dev/shm, volumes: the
// gap before the pause), cni and pause, each init container, "app
// containers" (from the end of the pause or the last init container to the
// last app container running: podsim may create them concurrently), and
// "finish" (hosts refresh). Steps that ran at the same time (podsim runs
// CNI ADD while the pause starts) form one phase named "cni + pause",
// their wall time; each of them, and each app container's own time from
// its creation to running, follows as an overlapping phase (Overlap set).
// Events of other steps (e.g. "mount", whose times overlap their
// container's) are ignored.
func CreatePhases(start, end time.Time, evs []TracedEvent, inits, apps []string) []Phase {
	var steps, appEvs []TracedEvent
	for _, e := range evs {
		switch e.Step {
		case "cgroup", "netns", "cni", "pause", "init":
			steps = append(steps, e)
		case "app":
			appEvs = append(appEvs, e)
		}
	}
	if len(steps)+len(appEvs) == 0 {
		return []Phase{{Name: "total (no trace events)", Duration: end.Sub(start)}}
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].start().Before(steps[j].start()) })
	// Group steps whose times overlap.
	type group struct {
		evs        []TracedEvent
		start, end time.Time
	}
	var groups []group
	for _, e := range steps {
		if n := len(groups); n > 0 && e.start().Before(groups[n-1].end) {
			g := &groups[n-1]
			g.evs = append(g.evs, e)
			if e.At.After(g.end) {
				g.end = e.At
			}
			continue
		}
		groups = append(groups, group{evs: []TracedEvent{e}, start: e.start(), end: e.At})
	}
	first := end
	if len(groups) > 0 {
		first = groups[0].start
	}
	for _, e := range appEvs {
		if e.start().Before(first) {
			first = e.start()
		}
	}
	out := []Phase{{Name: "prepare", Duration: first.Sub(start)}}
	var other time.Duration
	var own []Phase
	prevEnd := first
	ni := 0
	for i, g := range groups {
		if i > 0 {
			gap := g.start.Sub(prevEnd)
			if hasStep(g.evs, "pause") {
				out = append(out, Phase{Name: "pod files", Duration: gap})
			} else if gap > 0 {
				other += gap
			}
		}
		var names []string
		for _, e := range g.evs {
			name := e.Step
			if e.Step == "init" {
				name = fmt.Sprintf("init %d", ni+1)
				if ni < len(inits) {
					name = "init " + inits[ni]
				}
				ni++
			}
			names = append(names, name)
			if len(g.evs) > 1 {
				own = append(own, Phase{Name: name, Duration: e.Duration, Overlap: true})
			}
		}
		out = append(out, Phase{Name: strings.Join(names, " + "), Duration: g.end.Sub(g.start)})
		prevEnd = g.end
	}
	last := prevEnd
	if len(appEvs) > 0 {
		appEnd := prevEnd
		for i, e := range appEvs {
			if e.At.After(appEnd) {
				appEnd = e.At
			}
			name := fmt.Sprintf("container %d", i+1)
			if i < len(apps) {
				name = "container " + apps[i]
			}
			own = append(own, Phase{Name: name, Duration: e.Duration, Overlap: true})
		}
		// The app phase starts where the previous step ended.
		out = append(out, Phase{Name: "app containers", Duration: appEnd.Sub(prevEnd)})
		last = appEnd
	}
	out = append(out, Phase{Name: "finish", Duration: end.Sub(last)})
	if other > 0 {
		out = append(out, Phase{Name: "between steps", Duration: other})
	}
	return append(out, own...)
}

func hasStep(evs []TracedEvent, step string) bool {
	for _, e := range evs {
		if e.Step == step {
			return true
		}
	}
	return false
}

// TeardownPhases splits podsim's teardown. Its "teardown" events come in
// this order: app containers stopped, app containers and the pause removed
// (together), CNI DEL and netns unpinned, and last the whole teardown. "lookup" is the time before
// the teardown started (the host lock and finding the pod's record);
// "files, cgroup" what followed the network.
func TeardownPhases(start, end time.Time, evs []TracedEvent) []Phase {
	var td []TracedEvent
	for _, e := range evs {
		if e.Step == "teardown" {
			td = append(td, e)
		}
	}
	if len(td) != 4 {
		out := []Phase{{Name: "total", Duration: end.Sub(start)}}
		for i, e := range td {
			out = append(out, Phase{Name: fmt.Sprintf("teardown step %d", i+1), Duration: e.Duration})
		}
		return out
	}
	total := td[3]
	return []Phase{
		{Name: "lookup", Duration: total.start().Sub(start)},
		{Name: "stop containers", Duration: td[0].Duration},
		{Name: "remove containers + pause", Duration: td[1].Duration},
		{Name: "CNI DEL + netns", Duration: td[2].Duration},
		{Name: "files, logs, cgroup", Duration: total.At.Sub(td[2].At)},
		{Name: "return", Duration: end.Sub(total.At)},
	}
}
