package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd/namespaces"
	"github.com/spf13/cobra"

	"github.com/podsim/podsim/sandbox"
	"github.com/podsim/podsim/sandbox/agentapi"
	"github.com/podsim/podsim/sandbox/runtime"
)

// The CLI as a client of its node agent, as kubectl is of the API server
// and kubelet: apply, create and delete are sent over the agent's socket
// and run there by the same command code, with the agent's warm containerd
// connection, image index and CNI configuration (package agentapi). A
// command the agent cannot serve runs in this process, as before.

// viaAgent hands the command line to the node agent when it is one the
// agent serves and the agent may run it. done reports that it did, and
// code is the command's exit code; else the command runs in-process.
func (e *env) viaAgent(args []string) (code int, done bool) {
	// A throwaway command tree finds the command and parses its flags:
	// parsing twice into the same flags would add -f values twice.
	probe := &env{ctx: e.ctx, in: e.in, out: io.Discard, errOut: io.Discard}
	cmd, rest, err := newRootCommand(probe).Find(args)
	if err != nil {
		return 0, false
	}
	served, help := servedByAgent(cmd), false
	if served {
		cmd.InitDefaultHelpFlag()
		if err := cmd.ParseFlags(rest); err != nil {
			return 0, false // in-process prints the error
		}
		help, _ = cmd.Flags().GetBool("help")
	}
	why := agentapi.Route(agentapi.Situation{Served: served, Help: help,
		NoAgent: os.Getenv(agentapi.EnvNoAgent) == "1", FaultEnv: os.Getenv(sandbox.CrashEnv) != ""})
	if why == "" {
		if code, why, done = e.callAgent(probe, cmd, args); done {
			return code, true
		}
	}
	if served && (probe.verbose || probe.traceFmt != "") {
		fmt.Fprintf(e.errOut, "podsim: running this command in its own process: %s\n", why)
	}
	return 0, false
}

// servedByAgent: the commands that build or remove objects.
func servedByAgent(cmd *cobra.Command) bool {
	p := cmd.CommandPath()
	return cmd.Runnable() && (p == "podsim apply" || p == "podsim delete" || strings.HasPrefix(p, "podsim create "))
}

// callAgent sends the command to the agent; done is false (with why) when
// the agent is not there or declined it, and nothing was done.
func (e *env) callAgent(probe *env, cmd *cobra.Command, args []string) (code int, why string, done bool) {
	conn, err := agentapi.Dial(runtime.Options{}.Agent().Socket)
	if err != nil {
		// Started when this command ends (Run), the agent serves the next
		// ones; this one neither waits for it nor shares the CPU with it.
		e.wantAgent = true
		return 0, "the node agent is not running (this command starts it)", false
	}
	req := agentapi.Request{Args: args, Config: cliConfig(probe.address)}
	req.Cwd, _ = os.Getwd()
	if f, _ := cmd.Flags().GetStringArray("filename"); slices.Contains(f, "-") {
		b, err := io.ReadAll(e.in)
		if err != nil {
			conn.Close()
			return 0, "reading stdin: " + err.Error(), false
		}
		req.Stdin, e.in = b, bytes.NewReader(b)
	}
	res, err := agentapi.Call(e.ctx, conn, req, e.out, e.errOut)
	if err != nil {
		fmt.Fprintln(e.errOut, "error: "+err.Error())
		return 1, "", true
	}
	if res.Fallback != "" {
		return 0, res.Fallback, false
	}
	if probe.verbose || probe.traceFmt != "" {
		fmt.Fprintf(e.errOut, "podsim: the node agent (pid %d) ran this command (its request %d)\n", res.AgentPID, res.Request)
	}
	return res.Exit, "", true
}

// cliConfig is what the agent must share with this process to run its
// commands: the binary, the containerd address asked for, the environment.
func cliConfig(address string) agentapi.Config {
	c := agentapi.Config{Version: Version, Address: address}
	c.Exe, _ = selfExe()
	if fi, err := os.Stat(c.Exe); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			c.ExeID = fmt.Sprintf("%d:%d:%d:%d", st.Dev, st.Ino, st.Size, fi.ModTime().UnixNano())
		}
	}
	for _, k := range agentapi.BuildEnv {
		if v := os.Getenv(k); v != "" {
			if c.Env == nil {
				c.Env = map[string]string{}
			}
			c.Env[k] = v
		}
	}
	return c
}

// serveAgentAPI listens on the agent's socket (root only) and serves CLI
// commands until ctx ends; stop waits for the commands in flight.
func (e *env) serveAgentAPI(ctx context.Context, logger *log.Logger, status *agentStatusFile) (stop func(), err error) {
	sock := runtime.Options{}.Agent().Socket
	os.Remove(sock) // a dead agent's: this one holds the agent lock
	l, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("agent socket: %w", err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	idle := &idleRelease{}
	srv := &agentapi.Server{Config: cliConfig(e.info.Address), Handle: e.serveCommand, Check: servedRequest,
		Logf: logger.Printf, Done: func(n int64) { status.served(n); idle.poke() }}
	ctx, cancel := context.WithCancel(ctx)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		if err := srv.Serve(ctx, l); err != nil {
			logger.Printf("agent socket: %v", err)
		}
	}()
	status.setSocket(sock)
	return func() { cancel(); <-finished }, nil
}

// servedRequest checks on the agent's side that the request is a command
// the agent serves.
func servedRequest(req agentapi.Request) string {
	cmd, _, err := newRootCommand(&env{}).Find(req.Args)
	if err != nil || !servedByAgent(cmd) {
		return "not a command the agent serves"
	}
	return ""
}

// serveCommand runs a CLI's command in the agent, in its own goroutine:
// a fresh env over the agent's warm state, writing to the CLI's streams.
// It never waits for the agent's sync loop or prober: they share nothing
// but the containerd client and podsim's per-pod file locks.
func (e *env) serveCommand(ctx context.Context, req agentapi.Request, out, errOut io.Writer) int {
	re := &env{ctx: ctx, in: bytes.NewReader(req.Stdin), out: out, errOut: errOut, cwd: req.Cwd, noAgent: true, warm: e}
	return re.execute(req.Args)
}

// warmManager is manager() in the agent serving a CLI: the agent's
// connection, images and network, this command's output.
func (e *env) warmManager() *sandbox.Manager {
	w := e.warm
	e.client, e.info, e.catalog, e.network, e.netCfg, e.exe = w.client, w.info, w.catalog, w.network, w.netCfg, w.exe
	e.ctx = namespaces.WithNamespace(e.ctx, runtime.Namespace)
	e.newManager()
	return e.mgr
}

// agentStatusFile is the agent's status file, written by its sync loop's
// reports and after each command it served.
type agentStatusFile struct {
	mu   sync.Mutex
	st   agentStatus
	logf func(string, ...any)
}

func (s *agentStatusFile) update(f func(*agentStatus)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.st)
	if err := runtime.WriteAgentStatus(runtime.Options{}, s.st); err != nil {
		s.logf("writing status: %v", err)
	}
}

func (s *agentStatusFile) report(r sandbox.AgentReport) {
	s.update(func(st *agentStatus) { st.AgentReport = r })
}

// served records the count of commands taken; commands end in any order.
func (s *agentStatusFile) served(n int64) {
	s.update(func(st *agentStatus) { st.Requests = max(st.Requests, n) })
}

func (s *agentStatusFile) setSocket(p string) { s.update(func(st *agentStatus) { st.Socket = p }) }

// path resolves a path the user gave against the CLI's directory when the
// agent runs the command for it.
func (e *env) path(p string) string {
	if e.cwd == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.cwd, p)
}

// asGiven puts the user's path back into an error, so the message is the
// one the command prints in-process.
func asGiven(err error, p string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		pe.Path = p
	}
	return err
}

func (e *env) stat(p string) (fs.FileInfo, error) {
	fi, err := os.Stat(e.path(p))
	return fi, asGiven(err, p)
}

func (e *env) open(p string) (*os.File, error) {
	f, err := os.Open(e.path(p))
	return f, asGiven(err, p)
}

func (e *env) readFile(p string) ([]byte, error) {
	b, err := os.ReadFile(e.path(p))
	return b, asGiven(err, p)
}

// idleRelease hands the agent's free memory back to the kernel once the
// CLI's commands stop coming: each command the agent serves parses
// manifests and builds objects, and the Go runtime keeps the garbage's
// pages mapped for a while (GOGC, the background scavenger); a node agent
// idle most of the time should not sit on them. One full GC, 2 s after
// the last command, not after each.
type idleRelease struct {
	mu sync.Mutex
	t  *time.Timer
}

const idleReleaseAfter = 2 * time.Second

func (r *idleRelease) poke() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.t == nil {
		r.t = time.AfterFunc(idleReleaseAfter, debug.FreeOSMemory)
		return
	}
	r.t.Reset(idleReleaseAfter)
}
