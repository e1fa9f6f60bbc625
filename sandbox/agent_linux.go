package sandbox

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/events"
	"github.com/containerd/typeurl/v2"

	"github.com/podsim/podsim/sandbox/runtime"
)

// ExitFilter is the containerd event filter of the node agent: task exits
// in podsim's namespace, nothing else.
var ExitFilter = fmt.Sprintf(`topic=="/tasks/exit",namespace==%q`, runtime.Namespace)

// StartFilter adds task starts: a pod's first start is how the agent learns
// of a pod built while it runs (its activeDeadlineSeconds timer, an exit
// missed while the pod was being built), and a started container attempt
// gets its probe workers, as kubelet's prober manager adds workers when the
// pod worker sees the container running.
var StartFilter = fmt.Sprintf(`topic=="/tasks/start",namespace==%q`, runtime.Namespace)

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
//   - containerd's /tasks/exit and /tasks/start events (subscribed before
//     anything else, so no exit is missed), each mapped by the container's
//     labels to its pod, whose SyncPod is requested at once; starts also
//     give the prober its workers;
//   - one timer per pod in CrashLoopBackOff, set to the end of its wait.
//
// The loop only dispatches: each pod's SyncPod runs in that pod's worker
// (pod_workers.go, kubelet's pod workers), so a slow sync of one pod (a
// preStop hook, a grace period) does not hold up another pod's restart.
// On start it requests a sync of every recorded pod (what happened while
// no agent ran: exits, back-offs that ended), so it survives its own
// restart. It returns when ctx ends (after the syncs in progress), or with
// an error when containerd's event stream breaks (containerd stopped: the
// next podsim command starts a new agent).
func (m *Manager) RunAgent(ctx context.Context, pol BackoffPolicy, logf func(string, ...any), report func(AgentReport)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	evCh, errCh := m.client.EventService().Subscribe(ctx, ExitFilter, StartFilter)
	// Every container's stdout and stderr, into its CRI log.
	logs := m.startLogCollector(ctx, logf)
	defer logs.stop()
	a := &agentState{m: m, pol: pol, logf: logf, report: report, prober: newProber(ctx, m, logf)}
	a.workers = newPodWorkers(ctx, a.sync)
	defer a.workers.Wait() // after cancel: the syncs in progress end first
	defer cancel()
	a.prober.onStarted = a.workers.Update
	go a.prober.run(ctx)
	defer a.prober.stopAll()
	recs, err := m.Records()
	if err != nil {
		return err
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].ID < recs[j].ID })
	for _, r := range recs {
		if r.Built && agentKeeps(&r.Pod) {
			a.workers.Update(r.ID)
			a.prober.resync(ctx, r)
		}
	}
	a.publish()
	logf("watching task exits (%s) and starts", ExitFilter)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errCh:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("containerd's event stream ended: %w", err)
		case env := <-evCh:
			// The prober starts or stops the container's probe workers;
			// the pod's sync follows for starts too (deadline timers, exits
			// missed while the pod was being built).
			ev, ok := m.taskEventOf(ctx, env)
			if !ok {
				continue
			}
			a.prober.taskEvent(ctx, ev)
			if ev.podID == "" {
				continue // the container was removed meanwhile (delete, gc)
			}
			a.workers.Update(ev.podID)
		}
	}
}

// agentState is what the node agent keeps between events; its pods'
// workers call sync concurrently.
type agentState struct {
	m       *Manager
	pol     BackoffPolicy
	logf    func(string, ...any)
	report  func(AgentReport)
	workers *podWorkers // one per pod (pod_workers.go), with its back-off timer
	prober  *prober     // the probe workers (prober_linux.go)
	mu      sync.Mutex  // guards rep and serialises report
	rep     AgentReport
}

// syncErrorRetry is when a pod whose sync failed is synced again (kubelet's
// pod workers requeue a failed sync after workerBackOffPeriod, 10 s).
const syncErrorRetry = 10 * time.Second

// sync is a pod worker's sync: the pod's SyncPod, then the containers it
// restarted counted and logged and the pod's conditions recomputed. It
// returns the time SyncPod asks to be woken at (none when zero), and false
// once the pod has no record (deleted): its worker ends.
func (a *agentState) sync(ctx context.Context, id string) (time.Time, bool) {
	before := a.m.restartCounts(id)
	at, err := a.m.SyncPod(ctx, id, a.pol)
	after := a.m.restartCounts(id)
	if after > before {
		a.logf("pod %s: restarted %d container(s)", id, after-before)
	}
	if err != nil && !errors.Is(err, ErrSyncSkipped) && ctx.Err() == nil {
		a.logf("pod %s: %v", id, err)
		if at.IsZero() && !errors.Is(err, errPodGone) {
			// As kubelet's pod workers: a failed sync is tried again
			// after a back-off, not only on the pod's next event.
			at = time.Now().Add(syncErrorRetry)
		}
	}
	a.prober.podChanged(id) // its conditions (and Services) follow
	a.publish(max(after-before, 0))
	return at, !errors.Is(err, errPodGone)
}

// publish reports the agent's state (AgentReport) after a sync, adding
// the restarts it made.
func (a *agentState) publish(restarts ...int) {
	wake := a.workers.wakeTimes()
	watched := 0
	recs, _ := a.m.Records()
	for _, r := range recs {
		if r.Built && agentKeeps(&r.Pod) {
			watched++
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, n := range restarts {
		a.rep.Restarts += n
	}
	a.rep.Watched, a.rep.BackingOff, a.rep.NextWake = watched, len(wake), time.Time{}
	for _, t := range wake {
		if a.rep.NextWake.IsZero() || t.Before(a.rep.NextWake) {
			a.rep.NextWake = t
		}
	}
	a.report(a.rep)
}

// taskEvent is a container's task start or exit, with its pod.
type taskEvent struct {
	podID, containerID string
	started            bool // a /tasks/start; else a /tasks/exit
}

// taskEventOf decodes an event of the agent's subscription, once, into the
// container's task start or exit and its pod (podID "" when the container
// was removed meanwhile: its probe workers must still stop); false for
// anything else (an exec'd process's exit).
func (m *Manager) taskEventOf(ctx context.Context, env *events.Envelope) (taskEvent, bool) {
	if env == nil || env.Event == nil {
		return taskEvent{}, false
	}
	v, err := typeurl.UnmarshalAny(env.Event)
	if err != nil {
		return taskEvent{}, false
	}
	var ev taskEvent
	switch e := v.(type) {
	case *apievents.TaskExit:
		if e.ID != e.ContainerID { // an exec'd process (a probe's, say), not the container
			return taskEvent{}, false
		}
		ev.containerID = e.ContainerID
	case *apievents.TaskStart:
		ev.containerID, ev.started = e.ContainerID, true
	default:
		return taskEvent{}, false
	}
	ev.podID, _ = podOf(ctx, m.client, ev.containerID)
	return ev, true
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

// NeedsAgent reports whether a pod exists: then the node agent must run,
// as it writes every container's log (and restarts and probes them).
func (m *Manager) NeedsAgent() bool {
	recs, _ := m.Records()
	return len(recs) > 0
}
