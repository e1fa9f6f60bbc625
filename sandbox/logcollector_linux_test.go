package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// shimEnds opens the FIFOs as containerd's runc shim does: a write end
// (which blocks until a reader exists), then a read end of its own.
func shimEnds(t *testing.T, stdout, stderr string) (w []*os.File, r []*os.File) {
	t.Helper()
	for _, p := range []string{stdout, stderr} {
		fw, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		w, r = append(w, fw), append(r, fr)
	}
	return w, r
}

// crilogContent rebuilds each stream's text from a CRI log (P pieces joined).
func crilogContent(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		f := strings.SplitN(l, " ", 4)
		if len(f) != 4 {
			t.Fatalf("bad CRI line %q", l)
		}
		out[f[1]] += f[3]
		if f[2] == "F" {
			out[f[1]] += "\n"
		}
	}
	return out
}

func TestLogFIFOsSurviveCollectorRestart(t *testing.T) {
	tmp := t.TempDir()
	m := &Manager{paths: Paths{Run: tmp}}
	logPath := filepath.Join(tmp, "logs", "c", "0.log")
	creator, held, err := m.newLogFIFOs("pod", "pod-c", logPath)
	if err != nil {
		t.Fatal(err)
	}
	io, _ := creator("pod-c")
	cfg := io.Config()
	w, shimR := shimEnds(t, cfg.Stdout, cfg.Stderr)
	defer closeAll(shimR)
	dir := m.paths.ioDir("pod", "pod-c")

	lc := &logCollector{m: m, logf: t.Logf, readers: map[string][]*os.File{}}
	lc.attach(dir, "pod-c")
	if !markerExists(dir, fifoReader) {
		t.Fatal("no attached marker after attach")
	}
	closeAll(held) // the creator lets go once the agent reads
	w[0].Write([]byte("out 1\nhalf "))
	w[1].Write([]byte("err 1\n"))
	waitFor(t, func() bool { b, _ := os.ReadFile(logPath); return strings.Count(string(b), "\n") == 2 })
	lc.stop() // the agent stops mid-line

	// While no agent reads, the FIFO (held by the shim's read end) keeps
	// what the container writes.
	w[0].Write([]byte("line\nout 2\n"))
	w[1].Write([]byte("err 2"))
	lc2 := &logCollector{m: m, logf: t.Logf, readers: map[string][]*os.File{}}
	lc2.attach(dir, "pod-c")
	closeAll(w) // the container exits: the shim closes its ends
	closeAll(shimR)
	if !waitMarker(context.Background(), dir, fifoDone, 5*time.Second) {
		t.Fatal("no drained marker after the writers closed")
	}
	lc2.stop()
	got := crilogContent(t, logPath)
	if got["stdout"] != "out 1\nhalf line\nout 2\n" || got["stderr"] != "err 1\nerr 2\n" {
		t.Fatalf("streams rebuilt from the CRI log: %q", got)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
