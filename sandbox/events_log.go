package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
)

// A pod's events are an append-only log: recording an event is one
// write(2) of one JSON line (O_APPEND, so concurrent writers — the CLI and
// the node agent — never interleave within a line), and the correlator's
// folding (count, firstTimestamp, lastTimestamp) happens when the log is
// read. That keeps the ~7 events of a pod create off a read-modify-write
// of the whole list. The log is kept bounded by compaction: once it passes
// compactEventsAt, it is rewritten as its folded list (one line per
// distinct event, carrying its count), which reads back the same.

// compactEventsAt is the log size past which an append compacts it. A
// folded list of maxPodEvents long events may itself be larger; then every
// append compacts, as the old read-modify-write did for every event.
const compactEventsAt = 32 << 10

// foldEventLog reads a log of JSON lines and folds it into the list
// kubectl would show. A line that does not parse (a write torn by a crash,
// or caught half-way by a reader) is skipped: events are best-effort.
func foldEventLog(r io.Reader) ([]PodEvent, error) {
	var list []PodEvent
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var ev PodEvent
		if json.Unmarshal(line, &ev) != nil {
			continue
		}
		list = foldEvent(list, ev)
	}
	return list, sc.Err()
}

// encodeEventLog writes a list as a log (what compaction writes): one line
// per event; folding it again gives the same list.
func encodeEventLog(list []PodEvent) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // Encode ends each value with '\n'
	for _, ev := range list {
		if err := enc.Encode(ev); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}
