package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The files of one container attempt: <podRun>/io/<container ID>/.
const (
	fifoStdout = "stdout"
	fifoStderr = "stderr"
	fifoLog    = "log"      // the CRI log file's path, for the agent
	fifoReader = "attached" // made by the agent once it reads both FIFOs
	fifoDone   = "drained"  // made by the agent once both reached EOF
)

func (p Paths) ioRoot(podID string) string    { return filepath.Join(p.podRun(podID), "io") }
func (p Paths) ioDir(podID, id string) string { return filepath.Join(p.ioRoot(podID), id) }
func markerExists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}
func writeMarker(dir, name string, b []byte) error {
	return os.WriteFile(filepath.Join(dir, name), b, 0o600)
}

// logHandoff is what a Manager waits for before its process ends: the read
// ends it holds until the node agent reads the FIFOs itself.
type logHandoff struct {
	wg      sync.WaitGroup
	mu      sync.Mutex
	missing []string // containers the agent did not pick up in time
}

// WaitLogHandoff waits until the node agent reads the output of every
// container this Manager created (the CLI calls it before it exits) and
// returns an error naming those it did not pick up in time.
func (m *Manager) WaitLogHandoff() error {
	m.handoff.wg.Wait()
	m.handoff.mu.Lock()
	defer m.handoff.mu.Unlock()
	if len(m.handoff.missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: the node agent did not pick up the output of %v: their logs may miss lines (see 'podsim system status')", ErrNoAgent, m.handoff.missing)
}

// ErrNoAgent: the node agent did not answer in time.
var ErrNoAgent = errors.New("the node agent is not running")

// waitMarker waits (polling: a few ms, once per container) until the
// marker file exists; false after timeout.
func waitMarker(ctx context.Context, dir, name string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for d := time.Millisecond; ; d = min(2*d, 50*time.Millisecond) {
		if markerExists(dir, name) {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(d)
	}
}

// waitLogDrained waits (at most timeout) until the node agent has read
// container attempt id's output to its end, so readers of the CRI file
// after an exit (logs, the FallbackToLogsOnError message) see the last
// lines. Containers without FIFOs (attached ones) return at once.
func (m *Manager) waitLogDrained(ctx context.Context, podID, id string, timeout time.Duration) {
	dir := m.paths.ioDir(podID, id)
	if !markerExists(dir, fifoLog) {
		return
	}
	waitMarker(ctx, dir, fifoDone, timeout)
}

// logDrainWait bounds how long a reader of an exited container's log waits
// for the agent to copy its last lines (the runc shim itself waits up to
// 10s for its copy when the task is deleted).
const logDrainWait = 2 * time.Second
