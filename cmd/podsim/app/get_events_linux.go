package app

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/podsim/podsim/sandbox"
)

// isEvents reports whether a get names events (kubectl's events, event, ev).
func isEvents(kind string) bool {
	switch strings.ToLower(kind) {
	case "events", "event", "ev":
		return true
	}
	return false
}

// getEvents is kubectl get events: LAST SEEN, TYPE, REASON, OBJECT,
// MESSAGE (NAMESPACE first with -A), oldest first; with -w, then one line
// per new or repeated event, as the watch delivers them.
func getEvents(e *env, m *sandbox.Manager, output string) error {
	if output != "" {
		return fmt.Errorf("get events prints a table only (-o %s is not supported)", output)
	}
	evs, err := m.Events(e.ns())
	if err != nil {
		return err
	}
	cols := eventColumns(e)
	if len(evs) == 0 && !e.watch {
		fmt.Fprintf(e.errOut, "No resources found in %s namespace.\n", e.namespace)
		return nil
	}
	tw := tabwriter.NewWriter(e.out, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	now := time.Now()
	for _, ev := range evs {
		fmt.Fprintln(tw, eventRow(e, ev, now))
	}
	if err := tw.Flush(); err != nil || !e.watch {
		return err
	}
	return watchEvents(e, m, evs)
}

func eventColumns(e *env) []string {
	cols := []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}
	if e.allNamespaces {
		cols = append([]string{"NAMESPACE"}, cols...)
	}
	return cols
}

func eventRow(e *env, ev sandbox.PodEvent, now time.Time) string {
	row := fmt.Sprintf("%s\t%s\t%s\tpod/%s\t%s", sandbox.EventAge(now, ev.LastSeen), ev.Type, ev.Reason, ev.Pod, strings.TrimSpace(ev.Message))
	if e.allNamespaces {
		row = ev.Namespace + "\t" + row
	}
	return row
}

// eventKey is the correlator's key of an event (see PodEvent.same).
func eventKey(ev sandbox.PodEvent) string {
	return strings.Join([]string{ev.Namespace, ev.Pod, ev.Type, ev.Reason, ev.FieldPath, ev.Message}, "\x00")
}

// watchEvents prints each event that is new or repeated since seen, woken
// by the pod records' changes (Manager.WatchChanges), until interrupted.
func watchEvents(e *env, m *sandbox.Manager, seen []sandbox.PodEvent) error {
	changes, err := m.WatchChanges(e.ctx)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, ev := range seen {
		counts[eventKey(ev)] = ev.Count
	}
	for range changes {
		evs, err := m.Events(e.ns())
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.out, 0, 8, 3, ' ', 0)
		now := time.Now()
		for _, ev := range evs {
			if k := eventKey(ev); counts[k] != ev.Count {
				counts[k] = ev.Count
				fmt.Fprintln(tw, eventRow(e, ev, now))
			}
		}
		tw.Flush()
	}
	return e.ctx.Err()
}
