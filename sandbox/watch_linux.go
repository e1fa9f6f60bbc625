package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fsnotify/fsnotify"

	"github.com/podsim/podsim/sandbox/runtime"
)

// TaskFilter is the containerd event filter of a watch: every task event
// (create, start, exit, delete, OOM) in podsim's namespace.
var TaskFilter = fmt.Sprintf(`topic~="/tasks/",namespace==%q`, runtime.Namespace)

// WatchChanges is what `get pods -w` and `get events -w` wait on instead
// of polling, as kubectl waits on the API server's watch: a signal on the
// returned channel whenever something a pod's row or events may show has
// changed. Two sources feed it:
//
//   - containerd's task events (a container started, exited, was deleted);
//   - inotify on the pod records' directory: a pod dir made or removed,
//     pod.json replaced (written by rename: one IN_MOVED_TO/IN_CREATE in
//     the pod's directory), an event appended to events.jsonl (IN_MODIFY)
//     or the log compacted (by rename).
//
// Signals are coalesced (the channel holds one): a consumer re-reads the
// state and prints what differs. The channel closes when ctx ends or a
// source breaks (containerd stopped).
func (m *Manager) WatchChanges(ctx context.Context) (<-chan struct{}, error) {
	if err := os.MkdirAll(m.paths.podsDir(), 0o700); err != nil {
		return nil, err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("inotify on pod records: %w", err)
	}
	if err := w.Add(m.paths.podsDir()); err != nil {
		w.Close()
		return nil, fmt.Errorf("watching %s: %w", m.paths.podsDir(), err)
	}
	ents, _ := os.ReadDir(m.paths.podsDir())
	for _, e := range ents {
		if e.IsDir() {
			_ = w.Add(filepath.Join(m.paths.podsDir(), e.Name()))
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	evCh, errCh := m.client.EventService().Subscribe(ctx, TaskFilter)
	out := make(chan struct{}, 1)
	signal := func() {
		select {
		case out <- struct{}{}:
		default:
		}
	}
	go func() {
		defer close(out)
		defer cancel()
		defer w.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case <-errCh:
				return
			case <-evCh:
				signal()
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if ev.Has(fsnotify.Create) && filepath.Dir(ev.Name) == m.paths.podsDir() {
					_ = w.Add(ev.Name) // a new pod: watch its record and events too
				}
				signal()
			case <-w.Errors:
				signal() // an overflow: re-read everything
			}
		}
	}()
	return out, nil
}
