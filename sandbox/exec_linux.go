package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
)

// ExecIO is the caller's side of an exec: streams, whether a terminal is
// allocated, and terminal size changes.
type ExecIO struct {
	Stdin          io.Reader // nil = no stdin (the process reads EOF)
	Stdout, Stderr io.Writer
	TTY            bool
	Resize         <-chan [2]uint32 // width, height; may be nil
}

// Exec runs a command in a running container, as `kubectl exec` does: a new
// process in all of the container's namespaces and cgroup (containerd's
// task exec, runc exec underneath: setns into each namespace of the
// container's PID 1). It returns the command's exit code.
func (m *Manager) Exec(ctx context.Context, namespace, pod, container string, cmd []string, eio ExecIO) (int, error) {
	c, task, err := m.runningContainer(ctx, namespace, pod, container)
	if err != nil {
		return -1, err
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return -1, fmt.Errorf("reading spec of %s: %w", container, err)
	}
	pspec := *spec.Process
	pspec.Args = cmd
	pspec.Terminal = eio.TTY
	if eio.TTY {
		pspec.Env = append(append([]string{}, pspec.Env...), "TERM=xterm")
	}
	creator, stdinDone := execIO(eio)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	execID := "exec-" + hex.EncodeToString(b)
	proc, err := task.Exec(ctx, execID, &pspec, creator)
	if err != nil {
		return -1, fmt.Errorf("exec in %s/%s: %w", pod, container, err)
	}
	defer proc.Delete(context.WithoutCancel(ctx))
	exitCh, err := proc.Wait(ctx)
	if err != nil {
		return -1, err
	}
	if err := proc.Start(ctx); err != nil {
		if l, lerr := c.Labels(ctx); lerr == nil {
			container = l[LabelContainerName]
		}
		return -1, fmt.Errorf("starting %q in container %s of pod %s: %w", strings.Join(cmd, " "), container, pod, err)
	}
	// The shim keeps the process's stdin open until told otherwise: when
	// our input ends, close it so that `cat` and friends see EOF.
	go func() {
		select {
		case <-stdinDone:
			_ = proc.CloseIO(ctx, containerd.WithStdinCloser)
		case <-ctx.Done():
		}
	}()
	if eio.TTY && eio.Resize != nil {
		go func() {
			for sz := range eio.Resize {
				_ = proc.Resize(ctx, sz[0], sz[1])
			}
		}()
	}
	select {
	case st := <-exitCh:
		code, _, err := st.Result()
		if pio := proc.IO(); pio != nil {
			pio.Wait() // all output copied before returning
		}
		return int(code), err
	case <-ctx.Done():
		// Interrupted: stop the process so Delete can remove it and its FIFOs.
		kctx := context.WithoutCancel(ctx)
		_ = proc.Kill(kctx, syscall.SIGKILL)
		select {
		case <-exitCh:
		case <-time.After(5 * time.Second):
		}
		return -1, ctx.Err()
	}
}

// execIO wires an exec's stdio to eio's streams; stdinDone closes when the
// caller's input ends (at once without input), so the process sees EOF.
func execIO(eio ExecIO) (cio.Creator, <-chan struct{}) {
	var stdin io.Reader = strings.NewReader("")
	stdinDone := make(chan struct{})
	if eio.Stdin != nil {
		stdin = &eofNotifier{r: eio.Stdin, done: stdinDone}
	} else {
		close(stdinDone)
	}
	stdout, stderr := eio.Stdout, eio.Stderr
	if stdout == stderr && stdout != nil {
		// cio copies stdout and stderr in two goroutines: one shared
		// writer (a bytes.Buffer, say) must be locked.
		lw := &lockedWriter{w: stdout}
		stdout, stderr = lw, lw
	}
	opts := []cio.Opt{cio.WithStreams(stdin, stdout, stderr)}
	if eio.TTY {
		opts = append(opts, cio.WithTerminal)
	}
	return cio.NewCreator(opts...), stdinDone
}

// StartBackground starts a long-running process in a container and returns
// a function that stops it. Scenarios use it for the article's listener
// (`nc -l ...` in c1) while other checks run.
func (m *Manager) StartBackground(ctx context.Context, namespace, pod, container string, cmd []string) (stop func(), err error) {
	c, task, err := m.runningContainer(ctx, namespace, pod, container)
	if err != nil {
		return nil, err
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return nil, err
	}
	pspec := *spec.Process
	pspec.Args = cmd
	pspec.Terminal = false
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	proc, err := task.Exec(ctx, "bg-"+hex.EncodeToString(b), &pspec, cio.NullIO)
	if err != nil {
		return nil, err
	}
	exitCh, err := proc.Wait(ctx)
	if err != nil {
		proc.Delete(ctx)
		return nil, err
	}
	if err := proc.Start(ctx); err != nil {
		proc.Delete(ctx)
		return nil, err
	}
	return func() {
		ctx := context.WithoutCancel(ctx)
		_ = proc.Kill(ctx, 9)
		<-exitCh
		proc.Delete(ctx)
	}, nil
}

// runningContainer finds a container of a pod and its running task.
// An empty container name means the first app container, as kubectl does.
func (m *Manager) runningContainer(ctx context.Context, namespace, pod, container string) (containerd.Container, containerd.Task, error) {
	r, err := m.find(ctx, namespace, pod)
	if err != nil {
		return nil, nil, err
	}
	if r == nil {
		return nil, nil, fmt.Errorf("%w: pod %q in namespace %q", ErrPodNotFound, pod, namespace)
	}
	name, err := r.ContainerName(container)
	if err != nil {
		return nil, nil, err
	}
	c, err := m.client.LoadContainer(ctx, r.containerID(name))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: container %s of pod %s is gone (delete and re-create the pod)", ErrNotRunning, name, pod)
	}
	task, err := c.Task(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: container %s of pod %s has no task", ErrNotRunning, name, pod)
	}
	st, err := task.Status(ctx)
	if err != nil || st.Status != containerd.Running {
		return nil, nil, fmt.Errorf("%w: container %s of pod %s is %s (exit code %d)", ErrNotRunning, name, pod, st.Status, st.ExitStatus)
	}
	return c, task, nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// eofNotifier closes done when the reader reaches its end.
type eofNotifier struct {
	r    io.Reader
	done chan struct{}
	once sync.Once
}

func (e *eofNotifier) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil {
		e.once.Do(func() { close(e.done) })
	}
	return n, err
}
