// Package agentapi is how podsim's CLI hands a command to the node agent.
//
// kubelet is a daemon: kubectl never builds a pod itself, it writes the
// object and the kubelet on the node does the work with its warm state (a
// CRI connection, image and pod caches, the CNI configuration). podsim's
// CLI builds pods itself when it must, but when the node agent runs it is a
// client of the agent: it sends the command line over a unix socket in
// podsim's run directory (root only, mode 0600), the agent runs the very
// same command code in a goroutine with its warm containerd client, image
// index and CNI configuration, and streams back what the command prints,
// stdout and stderr kept apart, then the exit code.
//
// The protocol is JSON lines on one connection:
//
//	CLI → agent: Request, then at most one Control{Cancel: true}
//	agent → CLI: Frame{Hello} then Frame{Out|Err}... then Frame{Exit}
//	             or a single Frame{Fallback} (run it in-process instead)
//
// Closing the connection cancels the request as Control{Cancel} does: a
// CLI killed with SIGKILL still gets its half-built pod rolled back.
package agentapi

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ProtocolVersion changes when Request or Frame change incompatibly; an
// agent answers a request of another version with a Fallback.
const ProtocolVersion = 1

// EnvNoAgent=1 makes every podsim command run in its own process, as
// before the agent served commands (for debugging and comparisons).
const EnvNoAgent = "PODSIM_NO_AGENT"

// Request is one command the CLI hands to the agent.
type Request struct {
	Version int      `json:"version"`
	Args    []string `json:"args"`            // podsim's arguments, without the program name
	Cwd     string   `json:"cwd"`             // relative -f paths are the CLI's
	Stdin   []byte   `json:"stdin,omitempty"` // read by the CLI when an argument is "-"
	Config  Config   `json:"config"`
}

// Control is what the CLI may send after its Request.
type Control struct {
	Cancel bool `json:"cancel,omitempty"` // Ctrl-C / SIGTERM: roll back and stop
}

// Frame is one message from the agent. Exactly one field is set.
type Frame struct {
	Hello    *Hello `json:"hello,omitempty"`
	Fallback string `json:"fallback,omitempty"` // why the agent does not take the request
	Out      []byte `json:"out,omitempty"`      // bytes the command wrote to stdout
	Err      []byte `json:"err,omitempty"`      // ... and to stderr
	Exit     *int   `json:"exit,omitempty"`     // the command's exit code: the last frame
}

// Hello is the agent's acknowledgement: from now on it does the work.
type Hello struct {
	PID     int   `json:"pid"`
	Request int64 `json:"request"` // its number since the agent started
}

// Config is what must be equal between the CLI and the agent for the
// agent's run of a command to be the one the CLI would have made: the
// same podsim binary, the same containerd, the same environment where
// it changes how a pod is built.
type Config struct {
	Exe     string `json:"exe"`
	ExeID   string `json:"exeID"` // device, inode, size and mtime of Exe: a rebuilt binary differs
	Version string `json:"version"`
	// Address is the containerd socket: the CLI's is "" when it was not
	// given (podsim would pick the same daemon the agent picked).
	Address string            `json:"address,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
}

// BuildEnv names the environment variables that change what a command
// on the apply/delete path does in the process that runs it.
var BuildEnv = []string{"PODSIM_POD_SUBNET", "PODSIM_PAUSE_BINARY"}

// Mismatch says why a command with the CLI's config must not run in the
// agent with the agent's config, or "" when it may.
func Mismatch(agent, cli Config) string {
	switch {
	case agent.Exe != cli.Exe:
		return fmt.Sprintf("the node agent runs %s, this command is %s", agent.Exe, cli.Exe)
	case agent.ExeID != cli.ExeID || agent.Version != cli.Version:
		return fmt.Sprintf("%s was rebuilt since the node agent started (stop it with 'podsim system stop')", cli.Exe)
	case cli.Address != "" && cli.Address != agent.Address:
		return fmt.Sprintf("the node agent uses containerd at %s, this command asks for %s", agent.Address, cli.Address)
	}
	keys := map[string]bool{}
	for k := range agent.Env {
		keys[k] = true
	}
	for k := range cli.Env {
		keys[k] = true
	}
	var diff []string
	for k := range keys {
		if agent.Env[k] != cli.Env[k] {
			diff = append(diff, k)
		}
	}
	if len(diff) > 0 {
		sort.Strings(diff)
		return fmt.Sprintf("the node agent was started with other %s", strings.Join(diff, ", "))
	}
	return ""
}

// Situation is what the CLI knows before it dials the agent.
type Situation struct {
	Served   bool // the command is one the agent runs (apply, create, delete)
	Help     bool // --help: cobra prints it, nothing to hand over
	NoAgent  bool // PODSIM_NO_AGENT=1
	FaultEnv bool // a fault-injection point is armed for this process (PODSIM_CRASH_AFTER)
}

// Route is the decision before dialing: "" means try the agent; any other
// text is why the command runs in-process.
func Route(s Situation) string {
	switch {
	case !s.Served || s.Help:
		return "not a command the agent serves"
	case s.NoAgent:
		return EnvNoAgent + "=1"
	case s.FaultEnv:
		return "fault injection is armed for this process"
	}
	return ""
}

// WriteJSON writes v as one line.
func WriteJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Validate checks that exactly one field of f is set.
func (f Frame) Validate() error {
	n := 0
	for _, set := range []bool{f.Hello != nil, f.Fallback != "", f.Out != nil, f.Err != nil, f.Exit != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("agent protocol: a frame must carry exactly one field, this one has %d", n)
	}
	return nil
}

// ExitFrame is the last frame of a request.
func ExitFrame(code int) Frame { return Frame{Exit: &code} }
