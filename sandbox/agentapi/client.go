package agentapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Result is how a command handed to the agent ended.
type Result struct {
	// Fallback is set when the agent did not take the command (it said
	// why, or it closed the connection before its Hello): nothing was
	// done, the CLI runs the command itself.
	Fallback string
	Exit     int   // the command's exit code
	AgentPID int   // the agent that ran it
	Request  int64 // its number in the agent
}

// DiedError is a command the agent took and did not finish: it was killed
// or crashed while it worked, so a pod may be half-built.
type DiedError struct {
	PID int
	Err error
}

func (e *DiedError) Error() string {
	return fmt.Sprintf("the node agent (pid %d) stopped before it finished this command (%v): it may have left a half-built pod; run 'podsim gc' to clean up, then run the command again", e.PID, e.Err)
}

func (e *DiedError) Unwrap() error { return e.Err }

// Dial connects to the agent's socket. It fails at once when no agent
// listens (the socket is missing or refuses): the caller falls back.
func Dial(socket string) (net.Conn, error) {
	return net.DialTimeout("unix", socket, time.Second)
}

// Call sends req over conn and copies what the agent's run of the command
// writes to stdout and stderr as it comes. When ctx ends (Ctrl-C, SIGTERM)
// it asks the agent to cancel and keeps reading until the agent reports
// the command's end: the rollback happens before the CLI exits, as it
// does in-process. Call closes conn.
func Call(ctx context.Context, conn net.Conn, req Request, stdout, stderr io.Writer) (Result, error) {
	defer conn.Close()
	req.Version = ProtocolVersion
	if err := WriteJSON(conn, req); err != nil {
		return Result{Fallback: "sending the command to the node agent: " + err.Error()}, nil
	}
	stop := context.AfterFunc(ctx, func() { _ = WriteJSON(conn, Control{Cancel: true}) })
	defer stop()
	dec := json.NewDecoder(bufio.NewReader(conn))
	var res Result
	for {
		var f Frame
		err := dec.Decode(&f)
		if err == nil {
			err = f.Validate()
		}
		if err != nil {
			if res.AgentPID == 0 {
				return Result{Fallback: "the node agent did not take the command: " + err.Error()}, nil
			}
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return res, &DiedError{PID: res.AgentPID, Err: err}
		}
		switch {
		case f.Hello != nil:
			res.AgentPID, res.Request = f.Hello.PID, f.Hello.Request
		case f.Fallback != "":
			return Result{Fallback: f.Fallback}, nil
		case f.Out != nil:
			_, _ = stdout.Write(f.Out)
		case f.Err != nil:
			_, _ = stderr.Write(f.Err)
		case f.Exit != nil:
			res.Exit = *f.Exit
			return res, nil
		}
	}
}
