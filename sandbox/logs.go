package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// LogOptions mirror kubectl logs' flags.
type LogOptions struct {
	Follow     bool
	Tail       int // -1 = all
	Timestamps bool
	// Previous reads the attempt before the current one (kubectl logs
	// --previous): kubelet's <restartCount-1>.log, kept after a restart.
	Previous bool
}

// Logs writes a container's log to w, reading the CRI-format file written by
// the node agent from the container's FIFOs (logcollector_linux.go).
func (m *Manager) Logs(ctx context.Context, namespace, pod, container string, o LogOptions, w io.Writer) error {
	r, err := m.find(ctx, namespace, pod)
	if err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("%w: pod %q in namespace %q", ErrPodNotFound, pod, namespace)
	}
	name, err := r.ContainerName(container)
	if err != nil {
		return err
	}
	n := r.container(name).RestartCount
	if o.Previous {
		if n == 0 {
			return fmt.Errorf("%w: previous terminated container %q in pod %q not found (it has not restarted)", ErrNoContainer, name, pod)
		}
		n, o.Follow = n-1, false
	}
	path := r.logPath(name, n)
	id := ContainerAttemptID(r.ID, name, n)
	exited := func() bool {
		st := m.containerState(ctx, id, name, "", "")
		return st.Status != "running" && st.Status != "created"
	}
	if o.Previous || exited() {
		// The node agent may still be copying its last lines.
		m.waitLogDrained(ctx, r.ID, id, logDrainWait)
	}
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil // started but wrote nothing yet
		}
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	var pending []byte // an incomplete last line waits for its end
	if n := len(lines); n > 0 && !bytes.HasSuffix(lines[n-1], []byte("\n")) {
		pending, lines = lines[n-1], lines[:n-1]
	}
	if o.Tail >= 0 && len(lines) > o.Tail {
		lines = lines[len(lines)-o.Tail:]
	}
	for _, l := range lines {
		writeCRILine(w, l, o.Timestamps)
	}
	if !o.Follow {
		return nil
	}
	// Follow until the container exits (or the caller cancels).
	br := bufio.NewReader(f)
	buf := pending
	drained := false
	for {
		chunk, err := br.ReadBytes('\n')
		buf = append(buf, chunk...)
		if err == nil {
			writeCRILine(w, buf, o.Timestamps)
			buf = nil
			continue
		}
		if err != io.EOF {
			return err
		}
		if drained {
			return nil
		}
		if exited() {
			// Read once more after the agent's copy ended.
			m.waitLogDrained(ctx, r.ID, id, logDrainWait)
			drained = true
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// writeCRILine prints the content of one "<time> <stream> <F|P> <msg>" line;
// a P (partial) line is printed without its newline.
func writeCRILine(w io.Writer, line []byte, timestamps bool) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	parts := bytes.SplitN(line, []byte(" "), 4)
	if len(parts) < 4 {
		w.Write(append(line, '\n'))
		return
	}
	if timestamps {
		w.Write(append(parts[0], ' '))
	}
	w.Write(parts[3])
	if string(parts[2]) != "P" {
		w.Write([]byte("\n"))
	}
}
