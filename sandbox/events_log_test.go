package sandbox

import (
	"strings"
	"testing"
	"time"
)

func TestFoldEventLogFoldsRepeatsAndSkipsTornLines(t *testing.T) {
	t0 := time.Unix(100, 0).UTC()
	ev := func(reason string, at time.Time, n int) PodEvent {
		return PodEvent{Type: EventNormal, Reason: reason, FieldPath: "spec.containers{c}", Message: reason + " container c", Count: n, FirstSeen: at, LastSeen: at}
	}
	log, err := encodeEventLog([]PodEvent{ev("Pulled", t0, 1), ev("Started", t0, 1), ev("Pulled", t0.Add(time.Minute), 1)})
	if err != nil {
		t.Fatal(err)
	}
	// A compacted line carries its count; a torn last line is skipped.
	more, _ := encodeEventLog([]PodEvent{ev("Started", t0.Add(2*time.Minute), 3)})
	text := string(log) + string(more) + `{"type":"Normal","reason":"Kil`
	list, err := foldEventLog(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("want Pulled and Started folded, got %+v", list)
	}
	if p := list[0]; p.Reason != "Pulled" || p.Count != 2 || !p.FirstSeen.Equal(t0) || !p.LastSeen.Equal(t0.Add(time.Minute)) {
		t.Errorf("Pulled: %+v, want count 2, first %v, last %v", p, t0, t0.Add(time.Minute))
	}
	if s := list[1]; s.Reason != "Started" || s.Count != 4 || !s.LastSeen.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("Started: %+v, want count 1+3 and the compacted line's last time", s)
	}
	// Compaction's output folds back to the same list.
	b, _ := encodeEventLog(list)
	again, _ := foldEventLog(strings.NewReader(string(b)))
	if len(again) != 2 || again[0].Count != 2 || again[1].Count != 4 {
		t.Errorf("re-folding a compacted log changed it: %+v", again)
	}
}
