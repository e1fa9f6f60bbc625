package sandbox

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeSyncs is a sync function that records its calls and can be held.
type fakeSyncs struct {
	mu      sync.Mutex
	calls   map[string]int
	running map[string]int // syncs of each pod in progress now
	overlap bool           // two syncs of one pod ran at once
	hold    map[string]chan struct{}
	entered chan string
	keep    func(id string, call int) bool
	wake    func(id string, call int) time.Time
}

func newFakeSyncs() *fakeSyncs {
	return &fakeSyncs{calls: map[string]int{}, running: map[string]int{}, hold: map[string]chan struct{}{}, entered: make(chan string, 100)}
}

func (f *fakeSyncs) sync(ctx context.Context, id string) (time.Time, bool) {
	f.mu.Lock()
	f.calls[id]++
	call := f.calls[id]
	f.running[id]++
	if f.running[id] > 1 {
		f.overlap = true
	}
	h := f.hold[id]
	f.mu.Unlock()
	// Never block a sync on a test that does not read entered (many
	// syncs): a full buffer would hold the worker for ever, and the
	// test's cleanup (w.Wait) with it.
	select {
	case f.entered <- id:
	default:
	}
	if h != nil {
		select {
		case <-h:
		case <-ctx.Done():
		}
	}
	f.mu.Lock()
	f.running[id]--
	f.mu.Unlock()
	var at time.Time
	if f.wake != nil {
		at = f.wake(id, call)
	}
	return at, f.keep == nil || f.keep(id, call)
}

func (f *fakeSyncs) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

// waitEntered waits for a sync of id to begin; the bound only catches a
// dispatch that never runs it.
func waitEntered(t *testing.T, f *fakeSyncs, id string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-f.entered:
			if got == id {
				return
			}
		case <-deadline:
			t.Fatalf("no sync of pod %s began", id)
		}
	}
}

func startWorkers(t *testing.T, f *fakeSyncs) *podWorkers {
	ctx, cancel := context.WithCancel(context.Background())
	w := newPodWorkers(ctx, f.sync)
	t.Cleanup(func() { cancel(); w.Wait() })
	return w
}

// Requests made while a pod's sync runs leave exactly one more sync.
func TestPodWorkersCoalesce(t *testing.T) {
	f := newFakeSyncs()
	gate := make(chan struct{})
	f.hold["a"] = gate
	w := startWorkers(t, f)
	w.Update("a")
	waitEntered(t, f, "a")
	for range 10 {
		w.Update("a")
	}
	f.mu.Lock()
	delete(f.hold, "a")
	f.mu.Unlock()
	close(gate)
	waitEntered(t, f, "a")            // the one coalesced sync
	time.Sleep(50 * time.Millisecond) // room for a wrong third sync to show
	if n := f.count("a"); n != 2 {
		t.Fatalf("pod a was synced %d times, want 2 (one, then one for the 10 requests made during it)", n)
	}
}

// Many requests for few pods: a pod's syncs never overlap, and each
// request made is served by a sync that began after it.
func TestPodWorkersSerialisePerPod(t *testing.T) {
	f := newFakeSyncs()
	w := startWorkers(t, f)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				w.Update(fmt.Sprintf("pod-%d", (g+i)%3))
			}
		}()
	}
	wg.Wait()
	for i := range 3 {
		id := fmt.Sprintf("pod-%d", i)
		before := f.count(id)
		w.Update(id)
		deadline := time.Now().Add(10 * time.Second)
		for f.count(id) == before && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if f.count(id) == before {
			t.Fatalf("the last request for %s was never served", id)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.overlap {
		t.Fatal("two syncs of one pod ran at the same time")
	}
	for id, n := range f.calls {
		if n > 8*200 {
			t.Fatalf("pod %s synced %d times for at most %d requests", id, n, 8*200)
		}
	}
}

// A pod whose sync is held (a grace period) does not delay another pod's
// sync: pod b is synced, and re-synced on request, while a's sync runs.
func TestPodWorkersParallelAcrossPods(t *testing.T) {
	f := newFakeSyncs()
	gate := make(chan struct{})
	f.hold["slow"] = gate
	w := startWorkers(t, f)
	w.Update("slow")
	waitEntered(t, f, "slow")
	for range 3 {
		w.Update("fast")
		waitEntered(t, f, "fast") // a serialised agent would wait for "slow" forever
	}
	if n := f.count("slow"); n != 1 {
		t.Fatalf("slow pod synced %d times, want 1 (still in its first sync)", n)
	}
	close(gate)
}

// A sync reporting the pod gone ends its worker; a later request starts
// a new one.
func TestPodWorkersEndWithPod(t *testing.T) {
	f := newFakeSyncs()
	f.keep = func(id string, call int) bool { return call > 1 }
	w := startWorkers(t, f)
	w.Update("a")
	waitEntered(t, f, "a")
	deadline := time.Now().Add(10 * time.Second)
	for w.Len() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if w.Len() != 0 {
		t.Fatalf("%d workers left after the pod was gone, want 0", w.Len())
	}
	w.Update("a")
	waitEntered(t, f, "a")
	if n := f.count("a"); n != 2 {
		t.Fatalf("pod a synced %d times, want 2", n)
	}
}

// The time a sync returns is the pod's own timer: the worker syncs it
// again then, without a request (a back-off that ended).
func TestPodWorkersTimer(t *testing.T) {
	f := newFakeSyncs()
	f.wake = func(id string, call int) time.Time {
		if call == 1 {
			return time.Now().Add(20 * time.Millisecond)
		}
		return time.Time{}
	}
	w := startWorkers(t, f)
	w.Update("a")
	waitEntered(t, f, "a")
	waitEntered(t, f, "a")
	deadline := time.Now().Add(10 * time.Second)
	for len(w.wakeTimes()) != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if wt := w.wakeTimes(); len(wt) != 0 {
		t.Fatalf("timers left after the last sync asked for none: %v", wt)
	}
}

// After ctx ends, Wait returns once the syncs in progress returned, and
// requests start nothing.
func TestPodWorkersStop(t *testing.T) {
	f := newFakeSyncs()
	f.hold["a"] = make(chan struct{}) // never released: only ctx ends it
	ctx, cancel := context.WithCancel(context.Background())
	w := newPodWorkers(ctx, f.sync)
	w.Update("a")
	waitEntered(t, f, "a")
	cancel()
	w.Wait()
	w.Update("b")
	if w.Len() != 0 || f.count("b") != 0 {
		t.Fatalf("after Wait: %d workers, %d syncs of b; want none", w.Len(), f.count("b"))
	}
}
