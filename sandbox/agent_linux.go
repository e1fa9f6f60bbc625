package sandbox

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/typeurl/v2"

	"github.com/podsim/podsim/sandbox/runtime"
)

// ExitFilter is the containerd event filter of the node agent: task exits
// in podsim's namespace, nothing else.
var ExitFilter = fmt.Sprintf(`topic=="/tasks/exit",namespace==%q`, runtime.Namespace)

// AgentReport is what the agent tells about itself after each round
// (`podsim system status` reads it).
type AgentReport struct {
	Watched    int       `json:"watched"`    // built pods whose containers it may restart
	BackingOff int       `json:"backingOff"` // pods with a container in CrashLoopBackOff
	Restarts   int       `json:"restarts"`   // containers it restarted since it started
	NextWake   time.Time `json:"nextWake,omitempty"`
}

// RunAgent is the node agent's loop, kubelet's syncLoop reduced to what
// podsim needs. It is driven by two sources only — no loop polls pods:
//
//   - containerd's /tasks/exit events (subscribed before anything else,
//     so no exit is missed), each mapped by the container's labels to its
//     pod, whose SyncPod runs at once;
//   - one timer per pod in CrashLoopBackOff, set to the end of its wait.
//
// On start it syncs every recorded pod (what happened while no agent ran:
// exits, back-offs that ended), so it survives its own restart. It returns
// when ctx ends, or with an error when containerd's event stream breaks
// (containerd stopped: the next podsim command starts a new agent).
func (m *Manager) RunAgent(ctx context.Context, pol BackoffPolicy, logf func(string, ...any), report func(AgentReport)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	evCh, errCh := m.client.EventService().Subscribe(ctx, ExitFilter)
	wake := make(chan string, 16)
	timers := map[string]*time.Timer{}
	wakeAt := map[string]time.Time{}
	var rep AgentReport
	sync := func(id string) {
		before := m.restartCounts(id)
		at, err := m.SyncPod(ctx, id, pol)
		if after := m.restartCounts(id); after > before {
			rep.Restarts += after - before
			logf("pod %s: restarted %d container(s)", id, after-before)
		}
		if err != nil && !errors.Is(err, ErrSyncSkipped) {
			logf("pod %s: %v", id, err)
		}
		if t := timers[id]; t != nil {
			t.Stop()
			delete(timers, id)
			delete(wakeAt, id)
		}
		if !at.IsZero() {
			wakeAt[id] = at
			timers[id] = time.AfterFunc(time.Until(at)+10*time.Millisecond, func() {
				select {
				case wake <- id:
				case <-ctx.Done():
				}
			})
		}
	}
	publish := func() {
		rep.Watched, rep.BackingOff, rep.NextWake = 0, len(wakeAt), time.Time{}
		recs, _ := m.Records()
		for _, r := range recs {
			if r.Built && RestartsContainers(&r.Pod) {
				rep.Watched++
			}
		}
		for _, t := range wakeAt {
			if rep.NextWake.IsZero() || t.Before(rep.NextWake) {
				rep.NextWake = t
			}
		}
		report(rep)
	}
	recs, err := m.Records()
	if err != nil {
		return err
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].ID < recs[j].ID })
	for _, r := range recs {
		if r.Built && RestartsContainers(&r.Pod) {
			sync(r.ID)
		}
	}
	publish()
	logf("watching task exits (%s)", ExitFilter)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errCh:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("containerd's event stream ended: %w", err)
		case id := <-wake:
			sync(id)
		case env := <-evCh:
			if env == nil || env.Event == nil {
				continue
			}
			v, err := typeurl.UnmarshalAny(env.Event)
			if err != nil {
				continue
			}
			exit, ok := v.(*apievents.TaskExit)
			if !ok || exit.ID != exit.ContainerID { // an exec'd process, not the container
				continue
			}
			id, ok := podOf(ctx, m.client, exit.ContainerID)
			if !ok {
				continue // removed meanwhile (delete, gc)
			}
			sync(id)
		}
		publish()
	}
}

// restartCounts sums a pod's recorded restarts (0 when it has no record).
func (m *Manager) restartCounts(id string) int {
	r, err := m.loadRecord(id)
	if err != nil {
		return 0
	}
	n := 0
	for _, c := range r.Containers {
		n += c.RestartCount
	}
	return n
}

// NeedsAgent reports whether a built pod exists whose restartPolicy can
// restart a container: then the node agent must run.
func (m *Manager) NeedsAgent() bool {
	recs, _ := m.Records()
	for _, r := range recs {
		if r.Built && RestartsContainers(&r.Pod) {
			return true
		}
	}
	return false
}
