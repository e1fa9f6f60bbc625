package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// logger writes logfmt lines like the real exporter (go-kit log):
//
//	level=info ts=2020-11-26T02:30:00.000Z msg="starting elasticsearch_exporter" version=1.1.0
type logger struct {
	mu  sync.Mutex
	out io.Writer
	now func() time.Time
}

func newLogger(out io.Writer) *logger { return &logger{out: out, now: time.Now} }

// print logs msg with key/value pairs kv.
func (l *logger) print(level, msg string, kv ...string) {
	var b strings.Builder
	fmt.Fprintf(&b, "level=%s ts=%s msg=%s", level, l.now().UTC().Format("2006-01-02T15:04:05.000Z"), quote(msg))
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %s=%s", kv[i], quote(kv[i+1]))
	}
	b.WriteByte('\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(l.out, b.String())
}

// quote quotes a logfmt value when it needs it.
func quote(s string) string {
	if s == "" || strings.ContainsAny(s, " =\"\t\n") {
		return fmt.Sprintf("%q", s)
	}
	return s
}
