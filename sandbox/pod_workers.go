package sandbox

import (
	"context"
	"sync"
	"time"
)

// podWorkers is kubelet's pod workers (pkg/kubelet/pod_workers.go) reduced
// to what the node agent needs: one goroutine per pod, so that a slow sync
// of one pod (a preStop hook, a grace period, a postStart hook, an image)
// never delays another pod's restart.
//
//   - Syncs of one pod never overlap: its worker runs them one after the
//     other.
//   - Requests coalesce: kubelet's podUpdates channel holds one pending
//     update; a request made while the pod's sync runs leaves exactly one
//     more sync to run after it, however many requests came (each sync
//     reads the latest state anyway: computePodActions is level-based).
//   - Each pod has its own back-off timer: a sync returns when it wants to
//     run again (the end of a CrashLoopBackOff, the active deadline) and
//     the worker requests itself then, as kubelet's workQueue requeue.
//   - A worker ends when its sync reports the pod gone (deleted), unless a
//     new request came meanwhile; the next request for the pod starts a
//     new one.
//
// The sync function is passed in, so the dispatch is tested without
// containerd (pod_workers_test.go).
type podWorkers struct {
	ctx    context.Context
	sync   podSyncFunc
	mu     sync.Mutex
	pods   map[string]*podWorker
	closed bool // Wait was called: no new workers
	wg     sync.WaitGroup
}

// podSyncFunc syncs one pod: it returns when the pod wants another sync
// without an event (zero: none), and false when the pod is gone, which
// ends its worker.
type podSyncFunc func(ctx context.Context, id string) (wakeAt time.Time, keep bool)

// podWorker is one pod's worker: its pending request (a channel of one,
// kubelet's podUpdates) and its back-off timer.
type podWorker struct {
	pending chan struct{}
	timer   *time.Timer
	wakeAt  time.Time
}

func newPodWorkers(ctx context.Context, sync podSyncFunc) *podWorkers {
	return &podWorkers{ctx: ctx, sync: sync, pods: map[string]*podWorker{}}
}

// Update asks for one more sync of pod id (kubelet's UpdatePod): its
// worker is started if it has none; a request already pending absorbs
// this one. It never blocks.
func (w *podWorkers) Update(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.ctx.Err() != nil {
		return
	}
	pw := w.pods[id]
	if pw == nil {
		pw = &podWorker{pending: make(chan struct{}, 1)}
		w.pods[id] = pw
		w.wg.Add(1)
		go w.loop(id, pw)
	}
	select {
	case pw.pending <- struct{}{}:
	default: // one is pending already: coalesced
	}
}

// loop is one pod's worker (kubelet's podWorkerLoop): it waits for a
// request, syncs, sets the pod's timer, and ends with the pod.
func (w *podWorkers) loop(id string, pw *podWorker) {
	defer w.wg.Done()
	for {
		select {
		case <-w.ctx.Done():
			w.forget(id, pw)
			return
		case <-pw.pending:
		}
		at, keep := w.sync(w.ctx, id)
		if !keep && w.end(id, pw) {
			return
		}
		w.setTimer(id, pw, at)
	}
}

// end removes a gone pod's worker, unless a request came while its last
// sync ran (then that request is served first: the pod may be back).
func (w *podWorkers) end(id string, pw *podWorker) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(pw.pending) > 0 {
		return false
	}
	w.stopTimerLocked(pw)
	delete(w.pods, id)
	return true
}

func (w *podWorkers) forget(id string, pw *podWorker) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopTimerLocked(pw)
	if w.pods[id] == pw {
		delete(w.pods, id)
	}
}

// setTimer (re)arms the pod's own timer for at (none when zero).
func (w *podWorkers) setTimer(id string, pw *podWorker, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopTimerLocked(pw)
	if at.IsZero() {
		return
	}
	pw.wakeAt = at
	// A little past the end, so that the sync sees the back-off over.
	pw.timer = time.AfterFunc(time.Until(at)+10*time.Millisecond, func() { w.Update(id) })
}

func (w *podWorkers) stopTimerLocked(pw *podWorker) {
	if pw.timer != nil {
		pw.timer.Stop()
		pw.timer = nil
	}
	pw.wakeAt = time.Time{}
}

// wakeTimes returns each pod's pending timer (pods backing off or with a
// deadline), for the agent's report.
func (w *podWorkers) wakeTimes() map[string]time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]time.Time{}
	for id, pw := range w.pods {
		if !pw.wakeAt.IsZero() {
			out[id] = pw.wakeAt
		}
	}
	return out
}

// Len is the number of pods with a worker.
func (w *podWorkers) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pods)
}

// Wait returns when every worker has ended (after ctx ended): a sync in
// progress finishes first, as kubelet lets a pod worker finish its sync.
func (w *podWorkers) Wait() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.wg.Wait()
}
