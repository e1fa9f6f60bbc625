package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/sandbox/crilog"
)

// ErrOutputClosed means the reader of an attached container's output went
// away (`podsim run ... | head`); the container is stopped.
var ErrOutputClosed = errors.New("output closed by the reader")

// attachedIO wires a container's stdio to the caller's streams and tees
// its output into the CRI log file, so `podsim logs` works as usual.
func attachedIO(a ExecIO, logPath string) (cio.Creator, func(), error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, nil, err
	}
	cw := &crilog.Writer{W: f}
	out := io.MultiWriter(a.Stdout, &lineLogger{cw: cw, stream: "stdout"})
	errw := io.Writer(nil)
	if a.Stderr != nil {
		errw = io.MultiWriter(a.Stderr, &lineLogger{cw: cw, stream: "stderr"})
	}
	var in io.Reader = strings.NewReader("")
	if a.Stdin != nil {
		in = a.Stdin
	}
	opts := []cio.Opt{cio.WithStreams(in, out, errw)}
	if a.TTY {
		opts = append(opts, cio.WithTerminal)
	}
	return cio.NewCreator(opts...), func() { f.Close() }, nil
}

// lineLogger turns a byte stream into CRI log lines.
type lineLogger struct {
	cw     *crilog.Writer
	stream string
	buf    []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			break
		}
		l.cw.WriteLine(l.stream, "F", []byte(strings.TrimSuffix(string(l.buf[:i]), "\r")))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

// RunAttached creates a one-off pod (kubectl run -i / --rm), streams its
// first container's stdio through eio, and returns the container's exit
// code once it exits. The pod stays (Completed/Error) for the caller to
// delete.
func (m *Manager) RunAttached(ctx context.Context, pod *corev1.Pod, eio ExecIO) (int, error) {
	s := newAttachSession(eio)
	if _, err := m.createPod(ctx, pod, s.att); err != nil {
		return -1, err
	}
	if s.att.task == nil {
		return -1, fmt.Errorf("pod %s: no container to attach to", pod.Name)
	}
	return s.wait(ctx)
}

// attachSession is a container's stdio wired to this process (podsim run
// -i, podsim debug -i): the attachment createContainer uses, and what
// wait needs to notice the reader going away or the input ending.
type attachSession struct {
	att       *attachment
	outErr    chan struct{} // closed when writing the output failed
	stdinDone chan struct{} // closed when the input ended
}

func newAttachSession(eio ExecIO) *attachSession {
	s := &attachSession{outErr: make(chan struct{}), stdinDone: make(chan struct{})}
	var once sync.Once // stdout and stderr are copied by two goroutines
	guard := func(w io.Writer) io.Writer {
		if w == nil {
			return nil
		}
		return writerFunc(func(p []byte) (int, error) {
			n, err := w.Write(p)
			if err != nil {
				once.Do(func() { close(s.outErr) })
			}
			return n, err
		})
	}
	if eio.Stdin != nil {
		eio.Stdin = &eofNotifier{r: eio.Stdin, done: s.stdinDone}
	}
	eio.Stdout, eio.Stderr = guard(eio.Stdout), guard(eio.Stderr)
	s.att = &attachment{io: eio}
	return s
}

// wait streams the started container's stdio until it exits and returns
// its exit code.
func (s *attachSession) wait(ctx context.Context) (int, error) {
	task, eio := s.att.task, s.att.io
	// This process owns the task's FIFOs: close them when done.
	defer func() {
		if tio := task.IO(); tio != nil {
			tio.Cancel()
			tio.Close()
		}
	}()
	exitCh, err := task.Wait(ctx)
	if err != nil {
		return -1, err
	}
	go func() {
		select {
		case <-s.stdinDone:
			_ = task.CloseIO(ctx, containerd.WithStdinCloser)
		case <-ctx.Done():
		}
	}()
	if eio.TTY && eio.Resize != nil {
		go func() {
			for sz := range eio.Resize {
				_ = task.Resize(ctx, sz[0], sz[1])
			}
		}()
	}
	select {
	case st := <-exitCh:
		code, _, err := st.Result()
		if tio := task.IO(); tio != nil {
			tio.Wait()
		}
		return int(code), err
	case <-s.outErr:
		_ = task.Kill(context.WithoutCancel(ctx), syscall.SIGKILL)
		<-exitCh
		return 141, ErrOutputClosed // 128 + SIGPIPE, what a shell reports
	case <-ctx.Done():
		_ = task.Kill(context.WithoutCancel(ctx), syscall.SIGKILL)
		<-exitCh
		return -1, ctx.Err()
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
