package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/podsim/podsim/sandbox"
	"github.com/podsim/podsim/sandbox/runtime"
)

// agentPID finds podsim's node agent by the PID file it keeps (checked
// against /proc: the process must be `podsim system agent`).
func agentPID() (int, bool) { return runtime.AgentPID(runtime.Options{}) }

// servedPods counts the pods the agent serves: every built pod record on
// the node (under the bench's lock these are the bench's own pods).
func servedPods(m *sandbox.Manager) int {
	recs, err := m.Records()
	if err != nil {
		return 0
	}
	n := 0
	for _, r := range recs {
		if r.Built {
			n++
		}
	}
	return n
}

// readAgent reads the agent's memory, or nil when no agent runs.
func readAgent(m *sandbox.Manager) *AgentUsage {
	pid, ok := agentPID()
	if !ok {
		return nil
	}
	p := ScanProcs()[pid]
	if p == nil {
		return nil
	}
	u := &AgentUsage{PID: pid, RSSKB: p.RSSKB, PSSKB: readPSS(pid), Pods: servedPods(m)}
	u.RSSKBPerPod = JSONRatio(Ratio(float64(u.RSSKB), float64(u.Pods)))
	return u
}

func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return ParseStatCPU(string(b))
}

// measureAgentIdle samples the agent's utime+stime over window while the
// pods just sit there: an event-driven agent should use ~0.
func measureAgentIdle(ctx context.Context, m *sandbox.Manager, window time.Duration) *AgentIdle {
	res := &AgentIdle{Pods: servedPods(m), Window: window}
	pid, ok := agentPID()
	if !ok {
		res.Error = "no node agent runs (nothing started it)"
		return res
	}
	// Let the last command's work (its events, the agent's sync) settle.
	time.Sleep(time.Second)
	c0, err := processCPU(pid)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	t0 := time.Now()
	select {
	case <-ctx.Done():
		res.Error = "cancelled"
		return res
	case <-time.After(window):
	}
	c1, err := processCPU(pid)
	if err != nil {
		res.Error = fmt.Sprintf("the agent (pid %d) went away during the window: %v", pid, err)
		return res
	}
	res.Window = time.Since(t0)
	res.CPU = c1 - c0
	res.CPUPercent = JSONRatio(CPUPercent(res.CPU, res.Window))
	if p := ScanProcs()[pid]; p != nil {
		res.RSSKB = p.RSSKB
	}
	return res
}
