package bench

import (
	"fmt"
	"sync"
	"time"

	"github.com/podsim/podsim/sandbox"
)

// TracedEvent is a sandbox.Event with the time it arrived. The event's own
// Duration ends at (about) its arrival, so a step started at At-Duration.
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

// Trace records one event.
func (t *Tracer) Trace(ev sandbox.Event) {
	now := time.Now()
	t.mu.Lock()
	t.evs = append(t.evs, TracedEvent{Step: ev.Step, Duration: ev.Duration, At: now})
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
// cgroup, netns, cni, "pod files" (hosts, resolv.conf, /dev/shm, volumes),
// pause, each init container, "app containers" (from the end of the pause or
// the last init container to the last app container running: podsim may
// create them concurrently), and "finish" (hosts refresh). Each app
// container's own time, from its creation to running, follows as an
// overlapping phase (Overlap set): with concurrent creation those add up to
// more than the wall time. Events of other steps (e.g. "mount", whose times
// overlap their container's) are ignored.
func CreatePhases(start, end time.Time, evs []TracedEvent, inits, apps []string) []Phase {
	var known []TracedEvent
	for _, e := range evs {
		switch e.Step {
		case "cgroup", "netns", "cni", "pause", "init", "app":
			known = append(known, e)
		}
	}
	if len(known) == 0 {
		return []Phase{{Name: "total (no trace events)", Duration: end.Sub(start)}}
	}
	out := []Phase{{Name: "prepare", Duration: known[0].start().Sub(start)}}
	var other time.Duration
	var prevEnd time.Time
	var appStart, appEnd time.Time
	var appOwn []Phase
	ni, na := 0, 0
	for i, e := range known {
		if e.Step == "app" {
			if appStart.IsZero() {
				appStart = prevEnd // the app phase starts where the previous step ended
			}
			if e.At.After(appEnd) {
				appEnd = e.At
			}
			name := fmt.Sprintf("container %d", na+1)
			if na < len(apps) {
				name = "container " + apps[na]
			}
			na++
			appOwn = append(appOwn, Phase{Name: name, Duration: e.Duration, Overlap: true})
			continue
		}
		if i > 0 {
			gap := e.start().Sub(prevEnd)
			if known[i-1].Step == "cni" {
				out = append(out, Phase{Name: "pod files", Duration: gap})
			} else if gap > 0 {
				other += gap
			}
		}
		name := e.Step
		if e.Step == "init" {
			name = fmt.Sprintf("init %d", ni+1)
			if ni < len(inits) {
				name = "init " + inits[ni]
			}
			ni++
		}
		out = append(out, Phase{Name: name, Duration: e.Duration})
		prevEnd = e.At
	}
	last := prevEnd
	if !appEnd.IsZero() {
		out = append(out, Phase{Name: "app containers", Duration: appEnd.Sub(appStart)})
		last = appEnd
	}
	out = append(out, Phase{Name: "finish", Duration: end.Sub(last)})
	if other > 0 {
		out = append(out, Phase{Name: "between steps", Duration: other})
	}
	return append(out, appOwn...)
}

// TeardownPhases splits podsim's teardown. Its "teardown" events come in
// this order: app containers stopped and removed, pause removed, CNI DEL and
// netns unpinned, and last the whole teardown. "lookup" is the time before
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
		{Name: "stop+remove containers", Duration: td[0].Duration},
		{Name: "remove pause", Duration: td[1].Duration},
		{Name: "CNI DEL + netns", Duration: td[2].Duration},
		{Name: "files, logs, cgroup", Duration: total.At.Sub(td[2].At)},
		{Name: "return", Duration: end.Sub(total.At)},
	}
}
