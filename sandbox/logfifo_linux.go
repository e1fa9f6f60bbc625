package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/containerd/containerd/cio"
	"golang.org/x/sys/unix"
)

// A container's output reaches its log the way containerd's CRI plugin
// wires it (pkg/cri/io): the task gets two FIFOs, <dir>/stdout and
// <dir>/stderr, instead of a log process. containerd's runc shim
// (pkg/process/io.go, copyPipes) opens each FIFO for writing, which blocks
// until a reader has it open, then opens a read end of its own and keeps
// both for as long as it copies the container's pipe into the FIFO. So:
//
//   - whoever creates the task must hold read ends first (else the shim's
//     open, and with it task create, waits forever): newLogFIFOs;
//   - the shim's own read end keeps the FIFO's pipe alive while nobody
//     reads: output buffers (the FIFO's 64 KiB, the shim's 32 KiB copy
//     buffer, the container's 64 KiB pipe to the shim) and then the
//     container blocks in write(2) until a reader comes back;
//   - the shim closes both ends once the container's side of the pipe is
//     closed (it exited): what nobody holds is gone with the pipe. The
//     creator therefore keeps its read ends until the node agent, which
//     writes the CRI file (logcollector_linux.go), says it has its own.
//
// fifoIO is a task's stdio as FIFO paths (no stdin, no terminal): the
// shim opens them; nothing runs in this process.
type fifoIO struct{ cfg cio.Config }

func (f *fifoIO) Config() cio.Config { return f.cfg }
func (f *fifoIO) Cancel()            {}
func (f *fifoIO) Wait()              {}
func (f *fifoIO) Close() error       { return nil }

// newLogFIFOs makes the FIFOs of container attempt id of pod podID, whose
// CRI log is logPath, opens their read ends (non-blocking: there is no
// writer yet) and returns the task's IO creator and those read ends.
func (m *Manager) newLogFIFOs(podID, id, logPath string) (cio.Creator, []*os.File, error) {
	dir := m.paths.ioDir(podID, id)
	if err := os.RemoveAll(dir); err != nil { // an earlier try of this attempt
		return nil, nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("log FIFOs: %w", err)
	}
	if err := writeMarker(dir, fifoLog, []byte(logPath)); err != nil {
		return nil, nil, fmt.Errorf("log FIFOs: %w", err)
	}
	var held []*os.File
	for _, s := range []string{fifoStdout, fifoStderr} {
		p := filepath.Join(dir, s)
		if err := unix.Mkfifo(p, 0o600); err != nil {
			closeAll(held)
			return nil, nil, fmt.Errorf("log FIFO %s: %w", p, err)
		}
		f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			closeAll(held)
			return nil, nil, fmt.Errorf("log FIFO %s: %w", p, err)
		}
		held = append(held, f)
	}
	cfg := cio.Config{Stdout: filepath.Join(dir, fifoStdout), Stderr: filepath.Join(dir, fifoStderr)}
	return func(string) (cio.IO, error) { return &fifoIO{cfg: cfg}, nil }, held, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// handOff keeps held (the read ends of container attempt id's FIFOs) open
// until the agent has its own, so output of a container that exits at
// once is not lost with the pipe, then closes them. The node agent is
// started if it does not run: it writes every container's log.
func (m *Manager) handOff(podID, id string, held []*os.File) {
	m.EnsureAgent()
	dir := m.paths.ioDir(podID, id)
	m.handoff.wg.Add(1)
	go func() {
		defer m.handoff.wg.Done()
		defer closeAll(held)
		if !waitMarker(context.Background(), dir, fifoReader, handOffTimeout) {
			m.handoff.mu.Lock()
			m.handoff.missing = append(m.handoff.missing, id)
			m.handoff.mu.Unlock()
		}
	}()
}

// handOffTimeout bounds the wait for the agent (which may be starting).
const handOffTimeout = 10 * time.Second
