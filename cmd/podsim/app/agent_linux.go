package app

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/podsim/podsim/objects"
	"github.com/podsim/podsim/sandbox"
	"github.com/podsim/podsim/sandbox/runtime"
)

// EnvBackoffBase sets the base of the crash-loop back-off (kubelet: 10s),
// e.g. PODSIM_BACKOFF_BASE=1s for tests; the cap and the reset keep
// kubelet's ratios (30x, 60x). The agent reads it when it starts.
const EnvBackoffBase = "PODSIM_BACKOFF_BASE"

// agentStatus is the agent's status file: who it is and its last report.
type agentStatus struct {
	PID     int           `json:"pid"`
	Since   time.Time     `json:"since"`
	Address string        `json:"address"`
	Backoff time.Duration `json:"backoffBaseNs"`
	// Socket serves CLI commands; Requests counts those served.
	Socket   string `json:"socket,omitempty"`
	Requests int64  `json:"requests"`
	sandbox.AgentReport
}

// newAgentCommand is the hidden `podsim system agent`: the node agent
// process (see sandbox.RunAgent), started by podsim itself.
func newAgentCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:    "agent",
		Hidden: true,
		Short:  "Run the node agent: restart containers per restartPolicy (started by podsim itself)",
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e.noAgent = true
			release, ok, err := runtime.ClaimAgent(runtime.Options{})
			if err != nil || !ok {
				return err // another agent runs: nothing to do
			}
			defer release()
			runtime.NoInheritedFDs()
			// A fault injected into the command that started the agent is
			// not meant for the agent.
			os.Unsetenv(sandbox.CrashEnv)
			sandbox.UseAgentCrashPoint()
			logger := log.New(e.errOut, "podsim-agent: ", log.LstdFlags)
			pol, err := backoffPolicy()
			if err != nil {
				return err
			}
			// Started by containerd's supervisor, the agent may come up
			// before containerd answers: wait for it a while.
			var m *sandbox.Manager
			for deadline := time.Now().Add(30 * time.Second); ; {
				if m, err = e.manager(); err == nil {
					break
				}
				if time.Now().After(deadline) || e.ctx.Err() != nil {
					return err
				}
				select {
				case <-e.ctx.Done():
				case <-time.After(200 * time.Millisecond):
				}
			}
			st := agentStatus{PID: os.Getpid(), Since: time.Now().UTC().Truncate(time.Second), Address: e.info.Address, Backoff: pol.Base}
			logger.Printf("pid %d, containerd %s, back-off %s doubling to %s", st.PID, st.Address, pol.Base, pol.Max)
			status := &agentStatusFile{st: st, logf: logger.Printf}
			// CLI commands are served from now on, beside the loops below
			// and without waiting for them (agent_api.go).
			stopAPI, err := e.serveAgentAPI(e.ctx, logger, status)
			if err != nil {
				logger.Printf("%v: CLI commands run in their own processes", err)
				stopAPI = func() {}
			}
			// kube-controller-manager's Deployment controller runs beside
			// kubelet's loop; both take podsim's file locks, so they take
			// turns with each other and with CLI commands.
			go runDeploymentController(e.ctx, m, logger)
			err = m.RunAgent(e.ctx, pol, logger.Printf, status.report)
			stopAPI()
			logger.Printf("exiting: %v", err)
			return err
		},
	}
}

func runDeploymentController(ctx context.Context, m *sandbox.Manager, logger *log.Logger) {
	if err := objects.New(m).RunDeploymentController(ctx, logger.Printf); err != nil {
		logger.Printf("deployment controller: %v", err)
	}
}

func backoffPolicy() (sandbox.BackoffPolicy, error) {
	v := os.Getenv(EnvBackoffBase)
	if v == "" {
		return sandbox.DefaultBackoff, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return sandbox.BackoffPolicy{}, fmt.Errorf("%s=%q is not a positive duration (e.g. 1s)", EnvBackoffBase, v)
	}
	return sandbox.ScaledBackoff(d), nil
}

// agentLine describes the node agent for `podsim system status`.
func agentLine() string {
	o := runtime.Options{}
	pid, ok := runtime.AgentPID(o)
	if !ok {
		return "the node agent is not running (a podsim command starts it when a pod may need a restart)"
	}
	var st agentStatus
	if err := runtime.ReadAgentStatus(o, &st); err != nil {
		return fmt.Sprintf("the node agent is running (pid %d), starting up", pid)
	}
	s := fmt.Sprintf("the node agent is running (pid %d, since %s, containerd %s): watching %d pod(s), %d in CrashLoopBackOff, %d restart(s) made; back-off base %s (log: %s)",
		pid, st.Since.Local().Format(time.RFC3339), st.Address, st.Watched, st.BackingOff, st.Restarts, st.Backoff, o.Agent().Log)
	if st.Socket != "" {
		s += fmt.Sprintf("; serving CLI commands on %s (%d so far)", st.Socket, st.Requests)
	}
	if !st.NextWake.IsZero() {
		s += fmt.Sprintf("; next restart due in %s", time.Until(st.NextWake).Round(time.Second))
	}
	return s
}
