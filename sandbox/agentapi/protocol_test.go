package agentapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFrameRoundTrip(t *testing.T) {
	code := 3
	frames := []Frame{
		{Hello: &Hello{PID: 42, Request: 7}},
		{Fallback: "the node agent runs /a, this command is /b"},
		{Out: []byte("pod/x created\n")},
		{Err: []byte("Warning: \xff not UTF-8\n")}, // bytes pass as they are
		{Exit: &code},
	}
	var buf bytes.Buffer
	for _, f := range frames {
		if err := WriteJSON(&buf, f); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(buf.String(), "\n"); n != len(frames) {
		t.Fatalf("want one line per frame, got %d lines for %d frames", n, len(frames))
	}
	dec := json.NewDecoder(&buf)
	for i, want := range frames {
		var got Frame
		if err := dec.Decode(&got); err != nil {
			t.Fatal(err)
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(got)
		if !bytes.Equal(wb, gb) {
			t.Errorf("frame %d: got %s, want %s", i, gb, wb)
		}
	}
}

func TestFrameValidate(t *testing.T) {
	zero := 0
	for _, tc := range []struct {
		f  Frame
		ok bool
	}{
		{Frame{}, false},
		{Frame{Out: []byte("a"), Err: []byte("b")}, false},
		{Frame{Exit: &zero}, true},
		{Frame{Out: []byte("a")}, true},
	} {
		if err := tc.f.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v, want ok=%v", tc.f, err, tc.ok)
		}
	}
}

func TestMismatch(t *testing.T) {
	agent := Config{Exe: "/bin/podsim", ExeID: "1:2:3:4", Version: "v1", Address: "/run/podsim/containerd/containerd.sock",
		Env: map[string]string{"PODSIM_POD_SUBNET": "10.88.0.0/16"}}
	same := agent
	for _, tc := range []struct {
		name string
		cli  func(c *Config)
		want string // substring of the reason; "" = may run in the agent
	}{
		{"same", func(c *Config) {}, ""},
		{"no address given: the agent's", func(c *Config) { c.Address = "" }, ""},
		{"other binary", func(c *Config) { c.Exe = "/work/other/bin/podsim" }, "the node agent runs /bin/podsim"},
		{"rebuilt binary", func(c *Config) { c.ExeID = "1:2:3:5" }, "rebuilt"},
		{"other version", func(c *Config) { c.Version = "v2" }, "rebuilt"},
		{"other containerd", func(c *Config) { c.Address = "/run/containerd/containerd.sock" }, "uses containerd at"},
		{"env differs", func(c *Config) { c.Env = map[string]string{"PODSIM_POD_SUBNET": "10.99.0.0/16"} }, "PODSIM_POD_SUBNET"},
		{"env missing", func(c *Config) { c.Env = nil }, "PODSIM_POD_SUBNET"},
		{"env extra", func(c *Config) {
			c.Env = map[string]string{"PODSIM_POD_SUBNET": "10.88.0.0/16", "PODSIM_PAUSE_BINARY": "/p"}
		}, "PODSIM_PAUSE_BINARY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cli := same
			cli.Env = map[string]string{}
			for k, v := range same.Env {
				cli.Env[k] = v
			}
			tc.cli(&cli)
			got := Mismatch(agent, cli)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("Mismatch = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRoute(t *testing.T) {
	for _, tc := range []struct {
		s        Situation
		toAgent  bool
		contains string
	}{
		{Situation{Served: true}, true, ""},
		{Situation{Served: false}, false, "not a command"},
		{Situation{Served: true, Help: true}, false, "not a command"},
		{Situation{Served: true, NoAgent: true}, false, EnvNoAgent},
		{Situation{Served: true, FaultEnv: true}, false, "fault injection"},
		{Situation{Served: true, NoAgent: true, FaultEnv: true}, false, EnvNoAgent},
	} {
		got := Route(tc.s)
		if (got == "") != tc.toAgent || !strings.Contains(got, tc.contains) {
			t.Errorf("Route(%+v) = %q, want to agent=%v (%q)", tc.s, got, tc.toAgent, tc.contains)
		}
	}
}

// serve starts a Server with h on a socket in a temporary directory.
func serve(t *testing.T, cfg Config, h Handler) (socket string, srv *Server) {
	t.Helper()
	socket = filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	srv = &Server{Config: cfg, Handle: h, Logf: t.Logf}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, l); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return socket, srv
}

func call(t *testing.T, ctx context.Context, socket string, req Request) (Result, string, string, error) {
	t.Helper()
	c, err := Dial(socket)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	res, err := Call(ctx, c, req, &out, &errb)
	return res, out.String(), errb.String(), err
}

func TestCallStreamsAndExit(t *testing.T) {
	cfg := Config{Exe: "/bin/podsim", ExeID: "x"}
	socket, srv := serve(t, cfg, func(ctx context.Context, req Request, stdout, stderr io.Writer) int {
		io.WriteString(stderr, "Warning: "+req.Args[0]+"\n")
		io.WriteString(stdout, "pod/x created\n")
		stdout.Write(req.Stdin)
		return 7
	})
	res, out, errs, err := call(t, context.Background(), socket, Request{Args: []string{"apply"}, Stdin: []byte("from stdin\n"), Config: cfg})
	if err != nil || res.Fallback != "" {
		t.Fatalf("Call: %v %+v", err, res)
	}
	if res.Exit != 7 || out != "pod/x created\nfrom stdin\n" || errs != "Warning: apply\n" || res.Request != 1 || res.AgentPID == 0 {
		t.Errorf("got exit %d, stdout %q, stderr %q, %+v", res.Exit, out, errs, res)
	}
	if srv.Served() != 1 {
		t.Errorf("served %d, want 1", srv.Served())
	}
}

func TestCallFallsBackOnMismatch(t *testing.T) {
	ran := false
	socket, srv := serve(t, Config{Exe: "/a"}, func(context.Context, Request, io.Writer, io.Writer) int { ran = true; return 0 })
	res, out, errs, err := call(t, context.Background(), socket, Request{Args: []string{"apply"}, Config: Config{Exe: "/b"}})
	if err != nil || !strings.Contains(res.Fallback, "/a") || ran || out != "" || errs != "" || srv.Served() != 0 {
		t.Errorf("got %+v %v, ran=%v: want a fallback naming the agent's binary and nothing run", res, err, ran)
	}
}

// A CLI that is cancelled (Ctrl-C) cancels the command in the agent and
// still receives its end: the output of the rollback and the exit code.
func TestCallCancelReachesTheAgent(t *testing.T) {
	started := make(chan struct{})
	socket, _ := serve(t, Config{}, func(ctx context.Context, req Request, stdout, stderr io.Writer) int {
		close(started)
		select {
		case <-ctx.Done():
			io.WriteString(stderr, "rolled back\n")
			return 1
		case <-time.After(10 * time.Second):
			return 0
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	res, _, errs, err := call(t, ctx, socket, Request{Args: []string{"apply"}})
	if err != nil || res.Exit != 1 || errs != "rolled back\n" {
		t.Errorf("got %+v %v, stderr %q: want the rollback's output and exit 1", res, err, errs)
	}
}

// A CLI that goes away (SIGKILL) cancels the command as well.
func TestClosedConnectionCancels(t *testing.T) {
	cancelled := make(chan struct{})
	started := make(chan struct{})
	socket, _ := serve(t, Config{}, func(ctx context.Context, req Request, stdout, stderr io.Writer) int {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return 1
	})
	c, err := Dial(socket)
	if err != nil {
		t.Fatal(err)
	}
	WriteJSON(c, Request{Version: ProtocolVersion, Args: []string{"apply"}})
	<-started
	c.Close()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("closing the connection did not cancel the command")
	}
}

// fakeAgent accepts one connection and plays frames, then closes it.
func fakeAgent(t *testing.T, frames ...Frame) string {
	t.Helper()
	socket := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := l.Accept()
		if err != nil {
			return
		}
		bufio.NewReader(c).ReadString('\n') // the request
		for _, f := range frames {
			WriteJSON(c, f)
		}
		c.Close()
	}()
	t.Cleanup(func() { l.Close(); wg.Wait() })
	return socket
}

func TestAgentDiesMidRequest(t *testing.T) {
	socket := fakeAgent(t, Frame{Hello: &Hello{PID: 1234, Request: 1}}, Frame{Out: []byte("half")})
	res, out, _, err := call(t, context.Background(), socket, Request{})
	var died *DiedError
	if !errors.As(err, &died) || died.PID != 1234 || !strings.Contains(err.Error(), "podsim gc") || out != "half" || res.Fallback != "" {
		t.Errorf("got %+v, %v, stdout %q: want a DiedError naming pid 1234 and 'podsim gc'", res, err, out)
	}
}

func TestAgentClosesBeforeHelloFallsBack(t *testing.T) {
	socket := fakeAgent(t)
	res, _, _, err := call(t, context.Background(), socket, Request{})
	if err != nil || res.Fallback == "" {
		t.Errorf("got %+v, %v: a command the agent never took must run in-process", res, err)
	}
}

func TestDialNoAgent(t *testing.T) {
	if _, err := Dial(filepath.Join(t.TempDir(), "agent.sock")); err == nil {
		t.Error("Dial of a missing socket succeeded")
	}
}
