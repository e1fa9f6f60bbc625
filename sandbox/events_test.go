package sandbox

import (
	"testing"
	"time"
)

func TestFoldEventCountsRepeats(t *testing.T) {
	t0 := time.Unix(100, 0)
	ev := PodEvent{Type: EventWarning, Reason: "BackOff", FieldPath: "spec.containers{a}", Message: "Back-off restarting failed container", Count: 1, FirstSeen: t0, LastSeen: t0}
	list := foldEvent(nil, ev)
	later := ev
	later.FirstSeen, later.LastSeen = t0.Add(time.Minute), t0.Add(time.Minute)
	list = foldEvent(list, later)
	if len(list) != 1 || list[0].Count != 2 || !list[0].LastSeen.Equal(later.LastSeen) || !list[0].FirstSeen.Equal(t0) {
		t.Fatalf("a repeat must fold into one event with count 2: %+v", list)
	}
	other := ev
	other.FieldPath = "spec.containers{b}"
	if list = foldEvent(list, other); len(list) != 2 {
		t.Fatalf("another container's event must not fold: %+v", list)
	}
	for range maxPodEvents + 5 {
		e := ev
		e.Message += time.Now().String()
		list = foldEvent(list, e)
	}
	if len(list) != maxPodEvents {
		t.Fatalf("the list must be bounded at %d, got %d", maxPodEvents, len(list))
	}
}
