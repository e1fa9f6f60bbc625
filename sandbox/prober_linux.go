package sandbox

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/containerd/containerd"
	corev1 "k8s.io/api/core/v1"
)

// prober is kubelet's prober manager (prober_manager.go) inside the node
// agent: a worker per container attempt and probe type, started when the
// container's task starts (containerd's /tasks/start event) and stopped
// when it exits (/tasks/exit), each sleeping on its own timer between
// runs. Results reach the prober's own goroutine through a set of changed
// pods (never blocking a worker), which writes each pod's probes.json and,
// when a pod's Ready condition flips, the hosts files of every pod (a
// Service resolves to ready pods only: the endpoints controller's part).
type prober struct {
	m       *Manager
	logf    func(string, ...any)
	ctx     context.Context
	mu      sync.Mutex
	workers map[string][]*probeWorker // by containerd container ID (one attempt)
	results map[string]*ProbeStatus   // by pod ID: the containers' verdicts
	dirty   map[string]bool           // pods whose status must be written
	kick    chan struct{}
	// transport is the httpGet probes' HTTP transport, one for all.
	transport *http.Transport
	// onStarted is called (in its own goroutine) with a pod whose container
	// just passed its startupProbe, once that is written: the agent syncs
	// the pod, as a native sidecar that has Started lets the next init
	// container start.
	onStarted func(podID string)
}

func newProber(ctx context.Context, m *Manager, logf func(string, ...any)) *prober {
	return &prober{m: m, logf: logf, ctx: ctx, workers: map[string][]*probeWorker{},
		results: map[string]*ProbeStatus{}, dirty: map[string]bool{}, kick: make(chan struct{}, 1),
		transport: newProbeTransport()}
}

// run writes the changed pods' status until ctx ends.
func (p *prober) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		}
		p.mu.Lock()
		ids := make([]string, 0, len(p.dirty))
		for id := range p.dirty {
			ids = append(ids, id)
		}
		p.dirty = map[string]bool{}
		p.mu.Unlock()
		for _, id := range ids {
			if err := p.flush(ctx, id); err != nil {
				p.logf("pod %s: writing its status: %v", id, err)
			}
		}
	}
}

// changed marks pod id's status to be written (the caller may hold p.mu).
func (p *prober) changedLocked(id string) {
	p.dirty[id] = true
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// PodChanged is called by the agent after a pod's containers changed
// (an exit, a restart): its conditions are recomputed.
func (p *prober) podChanged(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.changedLocked(id)
}

// flush writes pod id's probe results and conditions; when its Ready
// condition flipped, it rewrites the hosts files (under the pod lock, as
// every hosts refresh) so that Services follow readiness both ways.
func (p *prober) flush(ctx context.Context, id string) error {
	rec, err := p.m.loadRecord(id)
	if err != nil { // deleted: forget it
		p.mu.Lock()
		delete(p.results, id)
		p.mu.Unlock()
		return nil
	}
	old, _ := p.m.readProbeStatus(id)
	st := ProbeStatus{Containers: map[string]ProbedContainer{}, Conditions: old.Conditions}
	p.mu.Lock()
	if r := p.results[id]; r != nil {
		for k, v := range r.Containers {
			st.Containers[k] = v
		}
	}
	p.mu.Unlock()
	if err := p.m.writeProbeStatus(id, st); err != nil {
		return err
	}
	for name, c := range st.Containers {
		if c.Started && !old.Containers[name].Started && p.onStarted != nil {
			go p.onStarted(id)
			break
		}
	}
	ps := p.m.state(ctx, rec)
	st.Conditions = podConditions(ps, old.Conditions, time.Now())
	if err := p.m.writeProbeStatus(id, st); err != nil {
		return err
	}
	if conditionTrue(st.Conditions, corev1.PodReady) == conditionTrue(old.Conditions, corev1.PodReady) && len(old.Conditions) > 0 {
		return nil
	}
	p.logf("pod %s: Ready=%v", rec.Name(), conditionTrue(st.Conditions, corev1.PodReady))
	// Without a Service no hosts line can change: skip the refresh (and
	// the host-wide lock it takes).
	if svcs, err := p.m.store.ListServices(""); err == nil && len(svcs) == 0 {
		return nil
	}
	return p.m.Locked(ctx, func() error { return p.m.RefreshHosts(ctx) })
}

// resync starts the workers of every running probed container of a pod,
// the agent's start (it survives its own restart: results written before
// are taken over for the same container attempts, as kubelet restores a
// started container's startup result).
func (p *prober) resync(ctx context.Context, rec *Record) {
	if !HasProbes(&rec.Pod) {
		p.podChanged(rec.ID)
		return
	}
	for _, c := range probedContainers(&rec.Pod) {
		id := rec.containerID(c.Name)
		if isSidecar(c) {
			id = ContainerID(rec.ID, c.Name)
		}
		p.containerStarted(ctx, rec.ID, id)
	}
	p.podChanged(rec.ID)
}

// containerStarted starts the probe workers of a container attempt whose
// task runs (a no-op for one without probes or already probed).
func (p *prober) containerStarted(ctx context.Context, podID, cid string) {
	rec, err := p.m.loadRecord(podID)
	if err != nil {
		return
	}
	c, task, name, ok := p.m.runningTask(ctx, cid)
	if !ok {
		return
	}
	var spec *corev1.Container
	for _, pc := range probedContainers(&rec.Pod) {
		if pc.Name == name {
			spec = pc
		}
	}
	if spec == nil || (spec.StartupProbe == nil && spec.LivenessProbe == nil && spec.ReadinessProbe == nil) {
		return
	}
	started := time.Now()
	if info, err := c.Info(ctx, containerd.WithoutRefreshedMetadata); err == nil {
		started = info.CreatedAt
	}
	saved, _ := p.m.readProbeStatus(podID)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.workers[cid] != nil {
		return
	}
	if p.results[podID] == nil {
		p.results[podID] = &ProbeStatus{Containers: map[string]ProbedContainer{}}
	}
	v := ProbedContainer{ID: cid}
	if s := saved.Containers[name]; s.ID == cid {
		v = s // the agent restarted: carry on from what it knew
	}
	p.results[podID].Containers[name] = v
	for _, t := range []ProbeType{StartupProbe, LivenessProbe, ReadinessProbe} {
		if probeOf(spec, t) == nil {
			continue
		}
		w := newProbeWorker(p, rec, spec, t, cid, c, task, started)
		var wctx context.Context
		wctx, w.cancel = context.WithCancel(p.ctx)
		p.workers[cid] = append(p.workers[cid], w)
		go w.loop(wctx)
	}
	p.changedLocked(podID)
}

// containerExited stops the workers of a container attempt (found by its
// ID alone: a deleted pod's containers are gone from containerd by the time
// their exit is seen); it is neither started nor ready any more.
func (p *prober) containerExited(cid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ws := p.workers[cid]
	if len(ws) == 0 {
		return
	}
	delete(p.workers, cid)
	for _, w := range ws {
		w.cancel()
	}
	podID := ws[0].podID
	if r := p.results[podID]; r != nil {
		for name, v := range r.Containers {
			if v.ID == cid {
				r.Containers[name] = ProbedContainer{ID: cid}
			}
		}
	}
	p.changedLocked(podID)
}

// started reports whether the container attempt's startup probe succeeded
// (true when it has none).
func (p *prober) started(podID, name, cid string, hasStartup bool) bool {
	if !hasStartup {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.results[podID]
	return r != nil && r.Containers[name].ID == cid && r.Containers[name].Started
}

// setResult records a worker's verdict; the pod's status is written when
// it changed the container's Started or Ready.
func (p *prober) setResult(w *probeWorker, res ProbeResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.results[w.podID]
	if r == nil || r.Containers[w.name].ID != w.cid {
		return // a stale worker of an attempt that is gone
	}
	v := r.Containers[w.name]
	switch w.t {
	case StartupProbe:
		v.Started = res == ProbeSuccess
	case ReadinessProbe:
		v.Ready = res == ProbeSuccess
	default:
		return
	}
	if v != r.Containers[w.name] {
		r.Containers[w.name] = v
		p.changedLocked(w.podID)
	}
}

// stopAll ends every worker (the agent is exiting).
func (p *prober) stopAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, ws := range p.workers {
		for _, w := range ws {
			w.cancel()
		}
		delete(p.workers, id)
	}
}

// runningTask loads a container and its running task, with the container's
// name from its labels; ok is false when it does not run.
func (m *Manager) runningTask(ctx context.Context, cid string) (containerd.Container, containerd.Task, string, bool) {
	c, err := m.client.LoadContainer(ctx, cid)
	if err != nil {
		return nil, nil, "", false
	}
	l, err := c.Labels(ctx)
	if err != nil || l[LabelContainerName] == "" || strings.Contains(cid, "/") {
		return nil, nil, "", false
	}
	task, err := c.Task(ctx, nil)
	if err != nil {
		return nil, nil, "", false
	}
	st, err := task.Status(ctx)
	if err != nil || st.Status != containerd.Running {
		return nil, nil, "", false
	}
	return c, task, l[LabelContainerName], true
}
