package sandbox

import (
	"os"
	"syscall"
)

// CrashEnv names a hidden fault-injection point for tests: with
// PODSIM_CRASH_AFTER=<step> (record, cgroup, netns, cni, volumes, pause,
// container:<name>) podsim kills itself with SIGKILL right after that step
// of pod creation, leaving a half-built pod exactly as a crash would. The
// reliability tests use it to prove that `podsim gc` cleans every step.
const CrashEnv = "PODSIM_CRASH_AFTER"

// CrashSteps are the fault-injection points, in the order createPod passes
// them (runPodSandbox's steps, then each container's start: "container:"
// is followed by the container's name). The crash test walks this list.
var CrashSteps = []string{"record", "cgroup", "netns", "volumes", "cni", "pause", "container:"}

func crashPoint(step string) {
	if v := os.Getenv(CrashEnv); v != "" && v == step {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL is not instantaneous; never continue past the point
	}
}

// AgentCrashEnv is CrashEnv for the node agent, which drops CrashEnv (a
// fault meant for the command that started it): with
// PODSIM_AGENT_CRASH_AFTER=<step> the agent SIGKILLs itself at that step
// of its own work — "restart" (a restart recorded, the new attempt not yet
// made), "rebuild:teardown" (a dead sandbox removed, no new one yet),
// "rebuild:sandbox" (the new sandbox up, no container yet).
const AgentCrashEnv = "PODSIM_AGENT_CRASH_AFTER"

// UseAgentCrashPoint arms the agent's fault-injection point, if any.
func UseAgentCrashPoint() {
	if v := os.Getenv(AgentCrashEnv); v != "" {
		os.Setenv(CrashEnv, v)
	}
}
