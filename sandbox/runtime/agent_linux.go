//go:build linux

package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The node agent is podsim re-executed as `podsim system agent`, a
// long-running process beside containerd, as kubelet runs beside it on a
// node. At most one runs per host: it holds an flock on AgentPaths.Lock
// for its whole life, so starting it is idempotent (a second one sees the
// lock taken and exits at once). Whoever starts it — a podsim command that
// built a pod with a restartPolicy that can restart, any later podsim
// command while such pods exist, or the supervisor of podsim's own
// containerd — starts it detached; `podsim system stop` stops it by the
// PID it recorded.

// AgentArgs are the arguments after the podsim binary that run the agent.
var AgentArgs = []string{"system", "agent"}

// AgentPaths are the agent's files.
type AgentPaths struct {
	Dir    string // RunDir/agent
	Lock   string // held by the running agent
	PID    string // its PID
	Status string // its last report (JSON), for `podsim system status`
	Log    string // its stdout/stderr
	// Socket is where the agent serves CLI commands (package agentapi):
	// root only, mode 0600.
	Socket string
}

// Agent returns the agent's paths under opts' run directory.
func (o Options) Agent() AgentPaths {
	run := o.RunDir
	if run == "" {
		run = DefaultRunDir
	}
	d := filepath.Join(run, "agent")
	return AgentPaths{Dir: d, Lock: filepath.Join(d, "agent.lock"), PID: filepath.Join(d, "agent.pid"),
		Status: filepath.Join(d, "status.json"), Log: filepath.Join(d, "agent.log"), Socket: filepath.Join(d, "agent.sock")}
}

// isAgent matches `<podsim> system agent ...`.
func isAgent(args []string) bool { return containsSeq(args, AgentArgs) }

// AgentPID returns the PID of the running agent, if one runs.
func AgentPID(o Options) (int, bool) {
	pid, ok := readPID(o.Agent().PID)
	if !ok || !isLive(pid, isAgent) {
		return 0, false
	}
	return pid, true
}

// ClaimAgent is the agent's own start: it takes the agent lock (false if
// another agent holds it) and records its PID. release ends the claim.
func ClaimAgent(o Options) (release func(), ok bool, err error) {
	p := o.Agent()
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(p.Lock, os.O_RDWR|os.O_CREATE, 0o600) // O_CLOEXEC: no child inherits it
	if err != nil {
		return nil, false, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, false, nil
	}
	if err := writePID(p.PID, os.Getpid()); err != nil {
		f.Close()
		return nil, false, err
	}
	return func() {
		removePIDIf(p.PID, os.Getpid())
		os.Remove(p.Status)
		f.Close()
	}, true, nil
}

// StartAgent starts the agent detached if none runs, talking to the
// containerd at address, and returns its PID (the running one's if any).
// It does not wait for the agent to be ready: the agent syncs every pod
// from its record when it starts, so nothing that happened before is lost.
func StartAgent(o Options, address string) (int, error) {
	if pid, ok := AgentPID(o); ok {
		return pid, nil
	}
	self := o.SelfExe
	if self == "" {
		var err error
		if self, err = os.Executable(); err != nil {
			return 0, err
		}
	}
	p := o.Agent()
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return 0, err
	}
	logf, err := os.OpenFile(p.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	cmd := exec.Command(self, append(append([]string{}, AgentArgs...), "--containerd-address", address)...)
	// Detached like the containerd supervisor (see startEmbedded): its own
	// session, stdio to its log, cwd /, and none of podsim's inherited fds.
	NoInheritedFDs()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting the node agent: %w", err)
	}
	go cmd.Wait() // reap it if it exits while this podsim runs (a second agent does at once)
	return cmd.Process.Pid, nil
}

// StopAgent stops the running agent: SIGTERM, SIGKILL after 5 s. It
// returns the PID it stopped (0: none ran).
func StopAgent(ctx context.Context, o Options) (int, error) {
	pid, ok := AgentPID(o)
	if !ok {
		return 0, nil
	}
	alive := func() bool { return isLive(pid, isAgent) }
	unix.Kill(pid, unix.SIGTERM)
	if _, err := WaitUntil(ctx, 5*time.Second, func() bool { return !alive() }); err != nil {
		return pid, err
	}
	if alive() {
		unix.Kill(pid, unix.SIGKILL)
		_, _ = WaitUntil(ctx, 2*time.Second, func() bool { return !alive() })
	}
	removePIDIf(o.Agent().PID, pid)
	return pid, nil
}

// WriteAgentStatus saves the agent's report atomically.
func WriteAgentStatus(o Options, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	p := o.Agent().Status
	if err := os.WriteFile(p+".tmp", b, 0o644); err != nil {
		return err
	}
	return os.Rename(p+".tmp", p)
}

// ReadAgentStatus reads the running agent's last report into v.
func ReadAgentStatus(o Options, v any) error {
	b, err := os.ReadFile(o.Agent().Status)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
