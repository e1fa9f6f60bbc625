package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

func (p Paths) eventsFile(id string) string { return filepath.Join(p.podDir(id), "events.json") }

// Eventf records an event about pod id (its container when fieldPath is
// set, see Record.ContainerFieldPath), folding repeats. Events are
// best-effort as in kubelet: a failure to record one is never the pod's
// failure, so Eventf returns nothing. The CLI and the agent both record,
// so the list is changed under a flock of its own.
func (m *Manager) Eventf(id, typ, reason, fieldPath, format string, args ...any) {
	r, err := m.loadRecord(id)
	if err != nil {
		return
	}
	now := time.Now()
	ev := PodEvent{Namespace: r.Pod.Namespace, Pod: r.Pod.Name, Type: typ, Reason: reason,
		FieldPath: fieldPath, Message: fmt.Sprintf(format, args...), Count: 1,
		FirstSeen: now, LastSeen: now, Source: "kubelet"}
	if reason == "Scheduled" {
		ev.Source = "default-scheduler"
	}
	unlock, err := flockFile(context.Background(), m.paths.eventsFile(id)+".lock", "the pod's event list", func(string) {})
	if err != nil {
		return
	}
	defer unlock()
	list, _ := m.readEvents(id)
	list = foldEvent(list, ev)
	b, err := json.Marshal(list)
	if err != nil {
		return
	}
	tmp := m.paths.eventsFile(id) + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		os.Rename(tmp, m.paths.eventsFile(id))
	}
}

func (m *Manager) readEvents(id string) ([]PodEvent, error) {
	b, err := os.ReadFile(m.paths.eventsFile(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []PodEvent
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("events of pod %s are corrupt: %w", id, err)
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
		list, err := m.readEvents(r.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastSeen.Before(out[j].LastSeen) })
	return out, nil
}

// PodEvents returns the events of pod id, oldest first (kubectl describe).
func (m *Manager) PodEvents(id string) ([]PodEvent, error) {
	list, err := m.readEvents(id)
	sort.SliceStable(list, func(i, j int) bool { return list[i].LastSeen.Before(list[j].LastSeen) })
	return list, err
}
