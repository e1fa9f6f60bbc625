package app

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/podsim/podsim/sandbox"
)

// The trace: every step the sandbox takes to build or tear down a pod
// arrives here as one typed sandbox.Event, as it happens. --trace (and -v)
// prints them for people, --trace=json one JSON object per line for tools;
// both go to stderr, so a command's normal output stays clean on stdout.

// traceFormat is the value of the global --trace flag: "" (off), "text" or
// "json". It is a pflag.Value so a wrong format fails while parsing flags.
type traceFormat string

func (f *traceFormat) String() string { return string(*f) }
func (f *traceFormat) Type() string   { return "format" }
func (f *traceFormat) Set(s string) error {
	switch s {
	case "text", "json":
		*f = traceFormat(s)
		return nil
	case "", "none", "off":
		*f = ""
		return nil
	}
	return fmt.Errorf("unknown trace format %q: use text or json (--trace alone means text)", s)
}

// addTraceFlag registers the global --trace[=text|json] flag.
func addTraceFlag(pf *pflag.FlagSet, e *env) {
	pf.Var(&e.traceFmt, "trace", "print every step of building and tearing down pods as it happens, with the kernel concept, the object and how long it took (to stderr); --trace=json prints one JSON object per step")
	pf.Lookup("trace").NoOptDefVal = "text"
}

// trace is the Manager's Trace callback.
func (e *env) trace(ev sandbox.Event) {
	if e.traceTap != nil {
		e.traceTap(ev)
	}
	format := string(e.traceFmt)
	if format == "" && e.verbose {
		format = "text"
	}
	if format == "" {
		return
	}
	if e.tracer == nil {
		e.tracer = newTracePrinter(e.errOut, format)
	}
	e.tracer.Print(ev)
}

// tracePrinter writes events, one at a time (the sandbox may emit from
// several goroutines).
type tracePrinter struct {
	mu     sync.Mutex
	w      io.Writer
	json   bool
	origin time.Time // Time of the first event: text lines show +offsets from it
}

func newTracePrinter(w io.Writer, format string) *tracePrinter {
	return &tracePrinter{w: w, json: format == "json"}
}

// Print writes one event.
func (p *tracePrinter) Print(ev sandbox.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		enc := json.NewEncoder(p.w) // one object and a newline per event
		enc.SetEscapeHTML(false)    // "pod<uid>", not "pod\u003cuid\u003e"
		_ = enc.Encode(ev)
		return
	}
	if p.origin.IsZero() || ev.Time.Before(p.origin) {
		p.origin = ev.Time
	}
	io.WriteString(p.w, formatTraceText(ev, ev.Time.Sub(p.origin)))
}

// formatTraceText renders an event for people, on two lines:
//
//	[podtest] +0.012s  netns     1.1ms  network namespace, pinned by a bind mount: /run/netns/podsim-podtest-a0cf2d
//	                                    unshare(CLONE_NEWNET) on a locked OS thread, bind-mounted to ...
func formatTraceText(ev sandbox.Event, offset time.Duration) string {
	head := fmt.Sprintf("[%s] +%.3fs  %-8s %8s  ", ev.Pod, offset.Seconds(), ev.Step, ev.ShortDuration())
	var b strings.Builder
	b.WriteString(head)
	if ev.Concept == "" {
		b.WriteString(ev.Detail)
		b.WriteByte('\n')
		return b.String()
	}
	b.WriteString(ev.Concept)
	if ev.Object != "" && !strings.Contains(ev.Concept, ev.Object) {
		b.WriteString(": " + ev.Object)
	}
	b.WriteByte('\n')
	if ev.Detail != "" {
		b.WriteString(strings.Repeat(" ", len([]rune(head))))
		b.WriteString(ev.Detail)
		b.WriteByte('\n')
	}
	return b.String()
}
