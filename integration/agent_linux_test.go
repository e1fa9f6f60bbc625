package integration

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The node agent's tests run with a 1 s back-off base (kubelet: 10 s).
const testBackoff = "1s"

// agentPID reads the running node agent's PID from its pid file and checks
// /proc that it is the agent (0: none runs).
func agentPID(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/run/podsim/agent/agent.pid")
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	cl, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cl), "system\x00agent") {
		return 0
	}
	return pid
}

// freshAgent makes sure the agent that runs during the test was started
// with the test's back-off: it stops a running one (started by podsim for
// an earlier test, by its PID) and sets PODSIM_BACKOFF_BASE for the podsim
// commands that start the next one.
//
// The agent outlives the test: at its end the test's agent is stopped too,
// so that later tests (and scenarios that watch kubelet's 10 s back-off)
// get an agent with the default back-off, started by their own commands.
func freshAgent(t *testing.T) {
	t.Helper()
	t.Setenv("PODSIM_BACKOFF_BASE", testBackoff)
	stopAgent(t)
	t.Cleanup(func() { stopAgent(t) })
}

func stopAgent(t *testing.T) {
	t.Helper()
	if pid := agentPID(t); pid > 0 {
		syscall.Kill(pid, syscall.SIGTERM)
		waitFor(t, 10*time.Second, "the old agent to exit", func() bool { return agentPID(t) == 0 })
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func containerStatus(p *corev1.Pod, name string) corev1.ContainerStatus {
	for _, s := range p.Status.ContainerStatuses {
		if s.Name == name {
			return s
		}
	}
	return corev1.ContainerStatus{}
}

// TestIntegrationRestart: under restartPolicy Always a container that exits
// 1 is restarted by the node agent with back-off while its sibling runs on;
// each attempt is a new container whose process the kernel shows in the
// pause's network namespace; the pod IP and the emptyDir's contents stay;
// `logs --previous` shows the last run. A SIGKILLed agent is restarted by
// the next podsim command and carries on from the record; delete during
// back-off leaves nothing.
func TestIntegrationRestart(t *testing.T) {
	requireRoot(t)
	freshAgent(t)
	checkNoLeaks(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: crashy}
spec:
  volumes: [{name: data, emptyDir: {}}]
  containers:
  - name: crash
    image: busybox
    command: ['sh', '-c', 'echo x >> /data/runs; echo "run $(wc -l < /data/runs)"; sleep 1; exit 1']
    volumeMounts: [{name: data, mountPath: /data}]
  - name: steady
    image: busybox
    command: ['sleep', '3600']
`, "crashy")
	p := getPod(t, "crashy")
	uid, ip := string(p.UID), p.Status.PodIP
	sandboxID := strings.TrimSuffix(strings.TrimPrefix(containerStatus(p, "steady").ContainerID, "containerd://"), "-steady")
	pids := containerPIDs(t, uid)
	pausePID, steadyPID := pids[sandboxID], pids[sandboxID+"-steady"]
	if pausePID == 0 || steadyPID == 0 {
		t.Fatalf("pause or steady not found in the pod cgroup: %v", pids)
	}
	podNet := nsInode(t, pausePID, "net")
	if agentPID(t) == 0 {
		t.Fatalf("apply of a restartPolicy Always pod did not start the node agent")
	}

	// The crash container restarts: a new container ID per attempt, its
	// process in the pause's net namespace (found through the cgroup).
	seen := map[string]bool{}
	waitFor(t, 60*time.Second, "two restarts, each checked in the kernel", func() bool {
		p := getPod(t, "crashy")
		s := containerStatus(p, "crash")
		if s.State.Running == nil || s.RestartCount == 0 {
			return false
		}
		id := strings.TrimPrefix(s.ContainerID, "containerd://")
		pid := containerPIDs(t, uid)[id]
		if pid == 0 || seen[id] {
			return false
		}
		if got := nsInode(t, pid, "net"); got != podNet {
			t.Errorf("attempt %s (pid %d) is in %s, the pause in %s", id, pid, got, podNet)
		}
		if p.Status.PodIP != ip {
			t.Errorf("pod IP changed from %s to %s", ip, p.Status.PodIP)
		}
		seen[id] = true
		return s.RestartCount >= 2
	})
	// Each attempt is a new container named <sandbox>-crash.<restart count>.
	// Which attempts a poll catches running depends on the machine's speed
	// (a software-emulated VM can miss one), so check the names, not which.
	for id := range seen {
		n, err := strconv.Atoi(strings.TrimPrefix(id, sandboxID+"-crash."))
		if !strings.HasPrefix(id, sandboxID+"-crash.") || err != nil || n < 1 {
			t.Errorf("attempt ID %s is not %s-crash.<n> with n >= 1", id, sandboxID)
		}
	}
	if containerPIDs(t, uid)[sandboxID+"-steady"] != steadyPID {
		t.Errorf("the sibling steady was restarted (pid %d before)", steadyPID)
	}

	// Back-off: the status says CrashLoopBackOff while it waits, and get
	// pods counts the restarts.
	waitFor(t, 30*time.Second, "CrashLoopBackOff", func() bool {
		return strings.Contains(mustPodsim(t, "get", "pods"), "CrashLoopBackOff")
	})
	p = getPod(t, "crashy")
	s := containerStatus(p, "crash")
	if s.State.Waiting == nil || s.State.Waiting.Reason != "CrashLoopBackOff" || s.LastTerminationState.Terminated == nil ||
		s.LastTerminationState.Terminated.ExitCode != 1 || s.LastTerminationState.Terminated.Reason != "Error" {
		t.Errorf("crash status while backing off: %+v", s)
	}
	if p.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s while a container backs off, want Running", p.Status.Phase)
	}
	n := int(s.RestartCount)
	out := mustPodsim(t, "get", "pods")
	for _, l := range strings.Split(out, "\n") {
		// NAME READY STATUS RESTARTS AGE
		if f := strings.Fields(l); len(f) == 5 && f[0] == "crashy" && (f[2] != "CrashLoopBackOff" || f[3] != strconv.Itoa(n)) {
			t.Errorf("get pods: want CrashLoopBackOff with %d restarts:\n%s", n, out)
		}
	}

	// logs --previous is the last finished run; the current log the one
	// after it: the emptyDir kept every run's line.
	prev := mustPodsim(t, "logs", "crashy", "-c", "crash", "--previous")
	if !strings.Contains(prev, fmt.Sprintf("run %d", n)) {
		t.Errorf("logs --previous = %q, want run %d (restart count %d)", prev, n, n)
	}
	if r := podsim(t, "", "logs", "crashy", "-c", "steady", "--previous"); r.code == 0 {
		t.Errorf("logs --previous of a container that never restarted succeeded: %s", r)
	}

	// SIGKILL the agent while it backs off: nothing restarts until the
	// next podsim command starts a new agent, which carries on the count.
	old := agentPID(t)
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the killed agent to go", func() bool { return agentPID(t) == 0 })
	n = int(containerStatus(getPod(t, "crashy"), "crash").RestartCount) // starts the agent again
	// It starts detached: give it a moment to claim its lock and pid file.
	waitFor(t, 10*time.Second, "the next podsim command to start a new agent", func() bool {
		pid := agentPID(t)
		return pid != 0 && pid != old
	})
	waitFor(t, 60*time.Second, "the new agent to restart the container", func() bool {
		return int(containerStatus(getPod(t, "crashy"), "crash").RestartCount) > n
	})
	st := mustPodsim(t, "system", "status")
	if !strings.Contains(st, fmt.Sprintf("pid %d", agentPID(t))) || !strings.Contains(st, "watching 1 pod") {
		t.Errorf("system status does not show the agent watching the pod:\n%s", st)
	}

	// Delete during back-off: nothing is left (checkNoLeaks), and the
	// agent does not bring anything back.
	waitFor(t, 60*time.Second, "CrashLoopBackOff again", func() bool {
		return strings.Contains(mustPodsim(t, "get", "pods"), "CrashLoopBackOff")
	})
	mustPodsim(t, "delete", "pod", "crashy", "--grace-period=1")
	mustPodsim(t, "wait", "--for=delete", "pod/crashy", "--timeout=5s")
	time.Sleep(3 * time.Second) // longer than the back-off was
}

// TestIntegrationRestartPolicy: Never keeps an exited container exited;
// OnFailure keeps one that exited 0 Completed; `wait --for=condition=Ready`
// returns once every container runs and times out when one never will.
func TestIntegrationRestartPolicy(t *testing.T) {
	requireRoot(t)
	freshAgent(t)
	checkNoLeaks(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: never}
spec:
  restartPolicy: Never
  containers:
  - {name: fail, image: busybox, command: ['sh', '-c', 'exit 1']}
---
apiVersion: v1
kind: Pod
metadata: {name: onfailure}
spec:
  restartPolicy: OnFailure
  containers:
  - {name: ok, image: busybox, command: ['sh', '-c', 'exit 0']}
  - {name: app, image: busybox, command: ['sleep', '3600']}
`, "never", "onfailure")
	time.Sleep(4 * time.Second) // several back-off bases
	for _, tc := range []struct{ pod, c, reason string }{{"never", "fail", "Error"}, {"onfailure", "ok", "Completed"}} {
		s := containerStatus(getPod(t, tc.pod), tc.c)
		if s.RestartCount != 0 || s.State.Terminated == nil || s.State.Terminated.Reason != tc.reason {
			t.Errorf("%s/%s: want terminated %s without restarts, got %+v", tc.pod, tc.c, tc.reason, s)
		}
	}
	if r := podsim(t, "", "wait", "--for=condition=Ready", "pod/onfailure", "--timeout=2s"); r.code == 0 || !strings.Contains(r.stderr, "timed out") {
		t.Errorf("wait for Ready of a pod with an exited container: %s", r)
	}
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: ready}
spec:
  containers:
  - {name: app, image: busybox, command: ['sleep', '3600']}
`, "ready")
	if out := mustPodsim(t, "wait", "--for=condition=Ready", "pod/ready", "--timeout=20s"); !strings.Contains(out, "pod/ready condition met") {
		t.Errorf("wait: %q", out)
	}
}

// TestIntegrationAgentIdle measures the agent's CPU time over 30 s with
// 20 idle pods (PODSIM_IDLE_PODS) from /proc/<pid>/stat, and its RSS: it
// is driven by events and timers only, so it must stay asleep.
func TestIntegrationAgentIdle(t *testing.T) {
	requireRoot(t)
	freshAgent(t)
	checkNoLeaks(t)
	n := envInt("PODSIM_IDLE_PODS", 20)
	var y strings.Builder
	var names []string
	for i := 0; i < n; i++ {
		names = append(names, fmt.Sprintf("idle-%d", i))
		fmt.Fprintf(&y, "---\napiVersion: v1\nkind: Pod\nmetadata: {name: idle-%d}\nspec:\n  containers:\n  - {name: app, image: busybox, command: ['sleep', '3600']}\n", i)
	}
	applyPod(t, y.String(), names...)
	pid := agentPID(t)
	if pid == 0 {
		t.Fatal("no agent runs")
	}
	ticks := func() int {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		u, _ := strconv.Atoi(f[11]) // utime, field 14
		s, _ := strconv.Atoi(f[12]) // stime, field 15
		return u + s
	}
	time.Sleep(2 * time.Second) // its start-up sync of every pod
	t0 := ticks()
	time.Sleep(30 * time.Second)
	used := ticks() - t0
	t.Logf("node agent pid %d with %d idle pods: %d clock ticks (1/100 s) of CPU in 30 s, RSS %d kB", pid, n, used, rssKB(pid))
	if used > 10 {
		t.Errorf("the agent used %d ticks of CPU in 30 s while nothing happened", used)
	}
}
