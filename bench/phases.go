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
// Trace events name (cgroup, netns, cni, pause, each init and app
// container) and the gaps between them: "prepare" before the cgroup
// (manifest parsing, validation, the host lock, image checks), "pod files"
// between CNI and the pause container (hosts, resolv.conf, /dev/shm,
// volumes), and "finish" after the last container (hosts refresh). inits and
// apps are the container names in pod order. Events of other steps (e.g.
// "mount", whose durations overlap their container's) are ignored.
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
	ni, na := 0, 0
	for i, e := range known {
		if i > 0 {
			gap := e.start().Sub(known[i-1].At)
			if known[i-1].Step == "cni" && e.Step != "cni" {
				out = append(out, Phase{Name: "pod files", Duration: gap})
			} else if gap > 0 {
				other += gap
			}
		}
		name := e.Step
		switch e.Step {
		case "init":
			name = fmt.Sprintf("init %d", ni+1)
			if ni < len(inits) {
				name = "init " + inits[ni]
			}
			ni++
		case "app":
			name = fmt.Sprintf("container %d", na+1)
			if na < len(apps) {
				name = "container " + apps[na]
			}
			na++
		}
		out = append(out, Phase{Name: name, Duration: e.Duration})
	}
	out = append(out, Phase{Name: "finish", Duration: end.Sub(known[len(known)-1].At)})
	if other > 0 {
		out = append(out, Phase{Name: "between steps", Duration: other})
	}
	return out
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
