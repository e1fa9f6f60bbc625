package agentapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Handler runs one command and returns its exit code; it writes what the
// command prints to stdout and stderr. It runs in its own goroutine, with
// ctx cancelled when the CLI cancels or goes away.
type Handler func(ctx context.Context, req Request, stdout, stderr io.Writer) int

// Server serves the agent's socket: each connection is one command, run
// concurrently with the others and with the agent's own loops.
type Server struct {
	Config Config // the agent's: requests whose Config differs are declined
	Handle Handler
	// Check says why the agent must not run a request ("" to run it),
	// before it takes it: the CLI then runs the command itself.
	Check func(Request) string
	Logf  func(format string, args ...any)
	// Done is called after each request the agent ran (the status counter).
	Done func(served int64)

	n  atomic.Int64
	wg sync.WaitGroup
}

// Served is the number of commands the agent took since it started.
func (s *Server) Served() int64 { return s.n.Load() }

// Serve accepts connections until ctx ends, then closes l and waits for
// the commands in flight (cancelled with ctx: they roll back) to finish.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	defer s.wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(ctx, c)
		}()
	}
}

func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	dec := json.NewDecoder(c)
	var req Request
	if err := dec.Decode(&req); err != nil {
		return
	}
	pid, uid, known := peer(c)
	switch {
	case req.Version != ProtocolVersion:
		_ = WriteJSON(c, Frame{Fallback: fmt.Sprintf("the node agent speaks protocol %d, this command %d", ProtocolVersion, req.Version)})
		return
	case known && uid != 0:
		_ = WriteJSON(c, Frame{Fallback: "only root's commands are served"})
		return
	}
	why := Mismatch(s.Config, req.Config)
	if why == "" && s.Check != nil {
		why = s.Check(req)
	}
	if why != "" {
		_ = WriteJSON(c, Frame{Fallback: why})
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The CLI's Control{Cancel}, or its connection closing (it was killed),
	// cancels the command: the same rollback as Ctrl-C in-process.
	go func() {
		for {
			var ctl Control
			if err := dec.Decode(&ctl); err != nil || ctl.Cancel {
				cancel()
				return
			}
		}
	}()
	n := s.n.Add(1)
	w := &frameWriter{w: c}
	w.send(Frame{Hello: &Hello{PID: os.Getpid(), Request: n}})
	s.logf("request %d from pid %d: podsim %s", n, pid, strings.Join(req.Args, " "))
	start := time.Now()
	code := s.run(ctx, req, w)
	w.send(ExitFrame(code))
	s.logf("request %d: exit %d in %s", n, code, time.Since(start).Round(time.Millisecond))
	if s.Done != nil {
		s.Done(n)
	}
}

// run calls the handler; a panic fails this command, not the agent and
// every other command and pod it serves.
func (s *Server) run(ctx context.Context, req Request, w *frameWriter) (code int) {
	defer func() {
		if r := recover(); r != nil {
			s.logf("panic serving podsim %s: %v\n%s", strings.Join(req.Args, " "), r, debug.Stack())
			fmt.Fprintf(w.stream(true), "error: podsim's node agent failed on this command (%v): see its log; PODSIM_NO_AGENT=1 runs the command in this process\n", r)
			code = 1
		}
	}()
	return s.Handle(ctx, req, w.stream(false), w.stream(true))
}

func (s *Server) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

// frameWriter sends frames one at a time: a command writes from several
// goroutines (the trace of concurrent container starts).
type frameWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (f *frameWriter) send(fr Frame) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return WriteJSON(f.w, fr)
}

// stream is an io.Writer whose every write becomes one Out or Err frame.
func (f *frameWriter) stream(stderr bool) io.Writer { return streamWriter{f, stderr} }

type streamWriter struct {
	f      *frameWriter
	stderr bool
}

func (s streamWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b := append([]byte(nil), p...)
	fr := Frame{Out: b}
	if s.stderr {
		fr = Frame{Err: b}
	}
	// A CLI that went away is not the command's error: it is cancelled
	// through its context and rolls back; its output has nowhere to go.
	_ = s.f.send(fr)
	return len(p), nil
}
