package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/events"
	"github.com/containerd/typeurl/v2"

	"github.com/podsim/podsim/sandbox/crilog"
	"github.com/podsim/podsim/sandbox/runtime"
)

// CreateFilter is the log collector's containerd event filter, with the
// agent's StartFilter (either matches): task creates and starts in podsim's
// namespace. A create's IO names the task's FIFOs. gVisor's shim publishes
// no /tasks/create, only /tasks/start, whose container ID finds them.
var CreateFilter = fmt.Sprintf(`topic=="/tasks/create",namespace==%q`, runtime.Namespace)

// logCollector is the node agent's share of containerd CRI's IO
// (pkg/cri/io: one goroutine per stream copying a FIFO into the CRI file,
// where kubelet reads it): for every container attempt with log FIFOs
// (logfifo_linux.go) it reads stdout and stderr and writes the CRI log.
// It learns of containers from /tasks/create (or /tasks/start) and, on its own start, from
// the FIFO directories of tasks that exist; so it survives its own
// restart: what containers wrote meanwhile waits in the FIFOs.
type logCollector struct {
	m       *Manager
	logf    func(string, ...any)
	mu      sync.Mutex
	readers map[string][]*os.File // open FIFO read ends, by container ID
	stopped bool
	wg      sync.WaitGroup
}

// startLogCollector subscribes to task creates, then attaches to every
// container that has a task already (subscribing first: none is missed).
func (m *Manager) startLogCollector(ctx context.Context, logf func(string, ...any)) *logCollector {
	lc := &logCollector{m: m, logf: logf, readers: map[string][]*os.File{}}
	evCh, errCh := m.client.EventService().Subscribe(ctx, CreateFilter, StartFilter)
	lc.attachExisting(ctx)
	go func() { // ends with ctx; attach does nothing once stopped
		for {
			select {
			case <-ctx.Done():
				return
			case err := <-errCh:
				if ctx.Err() == nil {
					logf("log collector: containerd's event stream ended: %v", err)
				}
				return // the agent's own stream ends too: it exits
			case env := <-evCh:
				if dir, id, ok := lc.fifoDirOf(env); ok {
					lc.attach(dir, id)
				}
			}
		}
	}()
	return lc
}

// fifoDirOf is the FIFO directory of a /tasks/create or /tasks/start
// event's task, if it is one of podsim's (attached containers, exec'd
// processes have none).
func (lc *logCollector) fifoDirOf(env *events.Envelope) (string, string, bool) {
	if env == nil || env.Event == nil {
		return "", "", false
	}
	v, err := typeurl.UnmarshalAny(env.Event)
	if err != nil {
		return "", "", false
	}
	if st, ok := v.(*apievents.TaskStart); ok {
		// Attaching twice is a no-op: a runc task's create came first.
		sb := sandboxOf(st.ContainerID)
		if sb == "" {
			return "", "", false // a pause: no FIFOs
		}
		dir := lc.m.paths.ioDir(sb, st.ContainerID)
		if !markerExists(dir, fifoLog) {
			return "", "", false
		}
		return dir, st.ContainerID, true
	}
	e, ok := v.(*apievents.TaskCreate)
	if !ok || e.IO == nil || e.IO.Stdout == "" {
		return "", "", false
	}
	dir := filepath.Dir(e.IO.Stdout)
	if filepath.Base(dir) != e.ContainerID || !strings.HasPrefix(dir, filepath.Join(lc.m.paths.Run, "pods")+"/") {
		return "", "", false
	}
	return dir, e.ContainerID, true
}

// attachExisting attaches to the FIFOs of every container attempt whose
// task exists (running, or exited with output still in the pipe). A
// directory without a task yet is being created: its create event follows.
func (lc *logCollector) attachExisting(ctx context.Context) {
	dirs, _ := filepath.Glob(filepath.Join(lc.m.paths.Run, "pods", "*", "io", "*"))
	for _, dir := range dirs {
		id := filepath.Base(dir)
		if markerExists(dir, fifoDone) {
			continue
		}
		c, err := lc.m.client.LoadContainer(ctx, id)
		if err != nil {
			continue
		}
		if _, err := c.Task(ctx, nil); err != nil {
			continue
		}
		lc.attach(dir, id)
	}
}

// attach opens the container's FIFOs and CRI log file, says so to the
// task's creator (the "attached" marker) and copies until both streams
// end; then it marks the output drained. Once per container.
func (lc *logCollector) attach(dir, id string) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.stopped || lc.readers[id] != nil || markerExists(dir, fifoDone) {
		return
	}
	logPath, err := os.ReadFile(filepath.Join(dir, fifoLog))
	if err != nil {
		lc.logf("container %s: log FIFOs: %v", id, err)
		return
	}
	out, fifos, err := openLogAndFIFOs(dir, string(logPath))
	if err != nil {
		lc.logf("container %s: %v", id, err)
		return
	}
	if err := writeMarker(dir, fifoReader, nil); err != nil {
		lc.logf("container %s: %v", id, err)
	}
	lc.readers[id] = fifos
	w := &crilog.Writer{W: out}
	lc.wg.Add(1)
	go func() {
		defer lc.wg.Done()
		defer out.Close()
		if copyStreams(w, fifos) {
			writeMarker(dir, fifoDone, nil)
		}
		lc.mu.Lock()
		delete(lc.readers, id)
		lc.mu.Unlock()
	}()
}

// openLogAndFIFOs opens the CRI log file (appending: a restarted agent
// continues it) and the two FIFOs' read ends.
func openLogAndFIFOs(dir, logPath string) (*os.File, []*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, nil, err
	}
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, nil, err
	}
	var fifos []*os.File
	for _, s := range []string{fifoStdout, fifoStderr} {
		// Non-blocking: the poller then parks the read, and closing the
		// file (the agent stops) wakes it.
		f, err := os.OpenFile(filepath.Join(dir, s), os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			closeAll(fifos)
			out.Close()
			return nil, nil, err
		}
		fifos = append(fifos, f)
	}
	return out, fifos, nil
}

// copyStreams copies stdout and stderr into w until both end; true when
// both reached EOF (the shim closed them), false when the agent stopped.
func copyStreams(w *crilog.Writer, fifos []*os.File) bool {
	var wg sync.WaitGroup
	errs := make([]error, len(fifos))
	for i, name := range []string{fifoStdout, fifoStderr} {
		wg.Add(1)
		go func(i int, name string) {
			defer wg.Done()
			errs[i] = w.Copy(fifos[i], name)
			fifos[i].Close()
		}(i, name)
	}
	wg.Wait()
	return errs[0] == nil && errs[1] == nil
}

// stop closes every FIFO read end (an unterminated line is written as a
// partial one: the rest follows when the next agent reads on) and waits
// for the copies to finish their writes.
func (lc *logCollector) stop() {
	lc.mu.Lock()
	lc.stopped = true
	for _, fs := range lc.readers {
		closeAll(fs)
	}
	lc.mu.Unlock()
	lc.wg.Wait()
}
