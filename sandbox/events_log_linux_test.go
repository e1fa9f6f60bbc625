package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func newEventsManager(t *testing.T, ns, name string) (*Manager, *Record) {
	t.Helper()
	m := &Manager{paths: Paths{State: t.TempDir()}}
	r := &Record{ID: "p1"}
	r.Pod.Namespace, r.Pod.Name = ns, name
	if err := m.saveRecord(r); err != nil {
		t.Fatal(err)
	}
	return m, r
}

// Eventf appends one line per event; reading folds them as the API
// server's correlator does and names the pod from its record.
func TestEventfAppendsAndReadFolds(t *testing.T) {
	m, r := newEventsManager(t, "team", "web")
	for range 3 {
		m.Eventf(r.ID, EventWarning, "BackOff", "spec.containers{c}", "Back-off restarting failed container %s", "c")
	}
	m.Eventf(r.ID, EventNormal, "Scheduled", "", "Successfully assigned team/web to node")
	b, err := os.ReadFile(m.paths.eventsFile(r.ID))
	if err != nil {
		t.Fatal(err)
	}
	if lines := len(splitLines(b)); lines != 4 {
		t.Errorf("the log has %d lines, want one per event (4):\n%s", lines, b)
	}
	list, err := m.PodEvents(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Reason != "BackOff" || list[0].Count != 3 || list[0].FirstSeen.Equal(list[0].LastSeen) {
		t.Fatalf("want BackOff x3 (first before last) then Scheduled, got %+v", list)
	}
	if list[0].Namespace != "team" || list[0].Pod != "web" || list[1].Source != "default-scheduler" {
		t.Errorf("pod or source not filled in: %+v", list)
	}
	evs, err := m.Events("other")
	if err != nil || len(evs) != 0 {
		t.Errorf("namespace filter: %v, %+v", err, evs)
	}
}

// An event about a pod whose directory is gone is dropped, not a new
// directory.
func TestEventfAfterDeleteMakesNothing(t *testing.T) {
	m, r := newEventsManager(t, "default", "gone")
	if err := os.RemoveAll(m.paths.podDir(r.ID)); err != nil {
		t.Fatal(err)
	}
	m.Eventf(r.ID, EventNormal, "Killing", "spec.containers{c}", "Stopping container c")
	if _, err := os.Stat(m.paths.podDir(r.ID)); !os.IsNotExist(err) {
		t.Errorf("Eventf made the deleted pod's directory again: %v", err)
	}
}

// Many writers at once (the CLI and the agent) with compactions between:
// no event is lost (the counts add up), and the log stays bounded.
func TestEventLogCompactsUnderConcurrentWriters(t *testing.T) {
	m, r := newEventsManager(t, "default", "cycler")
	const writers, each = 4, 300
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m.Eventf(r.ID, EventNormal, "Started", "spec.containers{c}", "Started container %s", fmt.Sprint("c", (w+i)%3))
			}
		}()
	}
	wg.Wait()
	st, err := os.Stat(m.paths.eventsFile(r.ID))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > compactEventsAt+4<<10 {
		t.Errorf("log grew to %d bytes, want it compacted near %d", st.Size(), compactEventsAt)
	}
	list, err := m.PodEvents(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, e := range list {
		total += e.Count
	}
	if len(list) != 3 || total != writers*each {
		t.Errorf("want 3 folded events counting %d in all, got %d events counting %d: %+v", writers*each, len(list), total, list)
	}
}

// A pod made by an older podsim kept a folded events.json: it is read
// first, the log's events fold onto it.
func TestReadEventsKeepsLegacyList(t *testing.T) {
	m, r := newEventsManager(t, "default", "old")
	t0 := time.Unix(100, 0).UTC()
	old := []PodEvent{{Type: EventNormal, Reason: "Started", FieldPath: "spec.containers{c}", Message: "Started container c", Count: 2, FirstSeen: t0, LastSeen: t0}}
	b, _ := json.Marshal(old)
	if err := os.WriteFile(m.paths.legacyEventsFile(r.ID), b, 0o600); err != nil {
		t.Fatal(err)
	}
	m.Eventf(r.ID, EventNormal, "Started", "spec.containers{c}", "Started container c")
	list, err := m.PodEvents(r.ID)
	if err != nil || len(list) != 1 || list[0].Count != 3 || !list[0].FirstSeen.Equal(t0) {
		t.Fatalf("want the old event with count 3, got %v %+v", err, list)
	}
}

func splitLines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
