package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIntegrationFIFOLogs: a container's stdout and stderr reach its CRI
// log through FIFOs that the node agent reads, as containerd's CRI plugin
// does: no log process runs per container (/proc has none), the agent
// holds the FIFOs open (/proc/<agent>/fd), lines keep their stream, a
// partial line (written in two pieces) is one line, a 100 KiB line is
// split into 16 KiB P pieces; after a crash-loop restart `logs --previous`
// shows the last attempt and the FallbackToLogsOnError message has the
// last line the container wrote just before it exited.
func TestIntegrationFIFOLogs(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	freshAgent(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata:
  name: fifologs
spec:
  restartPolicy: Always
  containers:
  - name: writer
    image: busybox
    command: ['sh', '-c', 'echo out1; echo err1 >&2; printf partial; sleep 0.3; echo " done"; head -c 102400 /dev/zero | tr "\0" x; echo; echo end; exec sleep 5000']
  - name: crash
    image: busybox
    terminationMessagePolicy: FallbackToLogsOnError
    command: ['sh', '-c', 'echo attempt; echo last-words; exit 3']
`, "fifologs")
	var out string
	waitFor(t, 20*time.Second, "the writer's last line", func() bool {
		out = mustPodsim(t, "logs", "fifologs", "-c", "writer")
		return strings.HasSuffix(out, "end\n")
	})
	// stdout and stderr are two FIFOs copied side by side: lines keep their
	// order within a stream only (as under CRI).
	want := "partial done\n" + strings.Repeat("x", 102400) + "\nend\n"
	if !strings.HasSuffix(out, want) || len(out) != len(want)+len("out1\nerr1\n") ||
		!strings.Contains(out, "out1\n") || !strings.Contains(out, "err1\n") {
		t.Errorf("logs = %d bytes, want %d (start %q)", len(out), len(want)+10, out[:min(len(out), 40)])
	}
	files, _ := filepath.Glob("/var/log/podsim/pods/default_fifologs_*/writer/0.log")
	if len(files) != 1 {
		t.Fatalf("log files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	if !strings.Contains(string(b), " stderr F err1\n") || !strings.Contains(string(b), " stdout F partial done\n") ||
		strings.Count(string(b), " stdout P ") != 102400/(16*1024) {
		t.Errorf("CRI file: streams, tags or 16 KiB pieces wrong:\n%.400s", b)
	}
	checkNoLogProcesses(t)
	fifos, _ := filepath.Glob("/run/podsim/pods/*/io/*-writer/stdout")
	if len(fifos) != 1 {
		t.Fatalf("writer's FIFOs: %v", fifos)
	}
	if fi, err := os.Stat(fifos[0]); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("%s is not a FIFO: %v %v", fifos[0], fi, err)
	}
	if pid := agentPID(t); pid == 0 || !procHasOpen(pid, fifos[0]) {
		t.Errorf("the node agent (pid %d) does not hold %s open", pid, fifos[0])
	}
	// The crasher: restarted by the agent, its previous attempt's log and
	// termination message (from the log's end) are complete.
	waitFor(t, 30*time.Second, "the crasher's restart", func() bool {
		return containerStatus(getPod(t, "fifologs"), "crash").RestartCount >= 1
	})
	if prev := mustPodsim(t, "logs", "fifologs", "-c", "crash", "--previous"); prev != "attempt\nlast-words\n" {
		t.Errorf("logs --previous = %q", prev)
	}
	st := containerStatus(getPod(t, "fifologs"), "crash")
	term := st.LastTerminationState.Terminated
	if st.State.Terminated != nil {
		term = st.State.Terminated
	}
	if term == nil || term.ExitCode != 3 || !strings.Contains(term.Message, "last-words") {
		t.Errorf("crash's termination = %+v, want exit 3 with the log's last line as message", term)
	}
}

// TestIntegrationFIFOLogsAgentDown: while the node agent is stopped a
// container's output waits in its FIFO (held open by containerd's runc
// shim) until the buffers are full; then the container blocks in write(2)
// (its progress stops short of the end: the kernel's pipe buffers are
// finite) and no line is lost: after the agent restarts, every line is in
// the log once, in order. The test logs how much was buffered.
func TestIntegrationFIFOLogsAgentDown(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	freshAgent(t)
	dir := t.TempDir()
	const lines = 2000 // of 1 KiB: more than the buffers hold
	applyPod(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: fifodown
spec:
  containers:
  - name: burst
    image: busybox
    command: ['sh', '-c', 'while [ ! -f /x/go ]; do sleep 0.05; done; i=0; while [ $i -lt %d ]; do printf "%%06d %%01017d\n" $i 0; i=$((i+1)); echo $i > /x/count; done; exec sleep 5000']
    volumeMounts:
    - {name: x, mountPath: /x}
  volumes:
  - name: x
    hostPath: {path: %s}
`, lines, dir), "fifodown")
	// apply waited for the agent to read the container's FIFOs: it runs.
	if agentPID(t) == 0 {
		t.Fatal("no node agent runs after apply")
	}
	stopAgent(t)
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Wait until the container stops making progress: blocked in write.
	count := func() int {
		b, _ := os.ReadFile(filepath.Join(dir, "count"))
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
	last := -1
	waitFor(t, 20*time.Second, "the container to block on its full FIFO", func() bool {
		n := count()
		stable := n > 0 && n == last
		last = n
		time.Sleep(400 * time.Millisecond)
		return stable
	})
	if last >= lines {
		t.Fatalf("the container wrote all %d KiB with no reader: its output was not held back", lines)
	}
	t.Logf("with no agent reading, the container blocked after %d lines of 1 KiB (%d KiB buffered by the FIFO, the shim and the container's pipe)", last, last)
	mustPodsim(t, "get", "pods") // a podsim command starts the agent again
	var out string
	waitFor(t, 30*time.Second, "every line in the log", func() bool {
		out = mustPodsim(t, "logs", "fifodown")
		return strings.Count(out, "\n") >= lines
	})
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(got) != lines {
		t.Fatalf("log has %d lines, want %d", len(got), lines)
	}
	for i, l := range got {
		if want := fmt.Sprintf("%06d %01017d", i, 0); l != want {
			t.Fatalf("line %d = %.20q..., want %.20q...: a line was lost, repeated or split", i, l, want)
		}
	}
	checkNoLogProcesses(t)
}

// checkNoLogProcesses fails if any process on the host is a per-container
// log driver (podsim-logger or podsim's former logger mode).
func checkNoLogProcesses(t *testing.T) {
	t.Helper()
	cls, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range cls {
		b, _ := os.ReadFile(p)
		if s := string(b); strings.Contains(s, "podsim-logger") || strings.Contains(s, "--podsim-cri-logger") {
			t.Errorf("a log process runs: %s %q", p, strings.ReplaceAll(s, "\x00", " "))
		}
	}
}

// procHasOpen reports whether process pid has path open (/proc/<pid>/fd).
func procHasOpen(pid int, path string) bool {
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && l == path {
			return true
		}
	}
	return false
}
