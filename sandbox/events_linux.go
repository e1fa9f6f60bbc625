package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// eventsFile is the pod's event log (events_log.go); legacyEventsFile the
// folded list podsim kept before, still read for pods made by it.
func (p Paths) eventsFile(id string) string { return filepath.Join(p.podDir(id), "events.jsonl") }

func (p Paths) legacyEventsFile(id string) string { return filepath.Join(p.podDir(id), "events.json") }

// Eventf records an event about pod id (its container when fieldPath is
// set, see Record.ContainerFieldPath); repeats are folded when the log is
// read. Events are best-effort as in kubelet: a failure to record one is
// never the pod's failure, so Eventf returns nothing. An event about a pod
// whose directory is gone (deleted meanwhile) is dropped.
func (m *Manager) Eventf(id, typ, reason, fieldPath, format string, args ...any) {
	now := time.Now()
	ev := PodEvent{Type: typ, Reason: reason, FieldPath: fieldPath, Message: fmt.Sprintf(format, args...),
		Count: 1, FirstSeen: now, LastSeen: now, Source: "kubelet"}
	if reason == "Scheduled" {
		ev.Source = "default-scheduler"
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return
	}
	_ = appendEvent(m.paths.eventsFile(id), append(line, '\n'))
}

// appendEvent appends one line to the log at p under a shared flock (any
// number of writers at once: O_APPEND makes each write(2) land whole at
// the end), then compacts the log if it grew past compactEventsAt. The
// exclusive flock of a compaction waits for the writers; a writer that
// opened the log just before a compaction replaced it sees another inode
// at p and opens the new one.
func appendEvent(p string, line []byte) error {
	for {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return err // ENOENT: the pod's directory is gone
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
			f.Close()
			return err
		}
		if replaced(f, p) {
			f.Close()
			continue
		}
		_, err = f.Write(line)
		st, serr := f.Stat()
		f.Close() // lets go of the flock
		if err == nil && serr == nil && st.Size() > compactEventsAt {
			return compactEvents(p)
		}
		return err
	}
}

// compactEvents rewrites the log at p as its folded list (by rename, so a
// reader sees the old log or the new one), unless another compaction
// already did.
func compactEvents(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	if st, err := f.Stat(); err != nil || st.Size() <= compactEventsAt || replaced(f, p) {
		return err
	}
	list, err := foldEventLog(f)
	if err != nil {
		return err
	}
	b, err := encodeEventLog(list)
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// replaced reports whether p no longer names the file f has open.
func replaced(f *os.File, p string) bool {
	fi, err1 := f.Stat()
	pi, err2 := os.Stat(p)
	return err1 != nil || err2 != nil || !os.SameFile(fi, pi)
}

// readEvents folds the pod's event log (after the list an older podsim
// left, if any) and names the pod in each event.
func (m *Manager) readEvents(r *Record) ([]PodEvent, error) {
	var list []PodEvent
	if b, err := os.ReadFile(m.paths.legacyEventsFile(r.ID)); err == nil {
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("events of pod %s are corrupt: %w", r.ID, err)
		}
	}
	f, err := os.Open(m.paths.eventsFile(r.ID))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		defer f.Close()
		logged, err := foldEventLog(f)
		if err != nil {
			return nil, fmt.Errorf("events of pod %s: %w", r.ID, err)
		}
		for _, ev := range logged {
			list = foldEvent(list, ev)
		}
	}
	for i := range list {
		list[i].Namespace, list[i].Pod = r.Pod.Namespace, r.Pod.Name
	}
	return list, nil
}

// Events returns the events of every pod in namespace ("" = all),
// oldest last-seen first, as kubectl get events sorts them.
func (m *Manager) Events(namespace string) ([]PodEvent, error) {
	recs, err := m.Records()
	if err != nil {
		return nil, err
	}
	var out []PodEvent
	for _, r := range recs {
		if namespace != "" && r.Pod.Namespace != namespace {
			continue
		}
		list, err := m.readEvents(r)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastSeen.Before(out[j].LastSeen) })
	return out, nil
}

// PodEvents returns the events of pod id, oldest first (kubectl describe);
// none if the pod is gone.
func (m *Manager) PodEvents(id string) ([]PodEvent, error) {
	r, err := m.loadRecord(id)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	list, err := m.readEvents(r)
	sort.SliceStable(list, func(i, j int) bool { return list[i].LastSeen.Before(list[j].LastSeen) })
	return list, err
}
