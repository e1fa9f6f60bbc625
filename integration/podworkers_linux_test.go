package integration

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The node agent's pod workers (sandbox/pod_workers.go), checked from the
// outside: a pod whose restart is slow does not hold up another pod's
// restarts; and kubelet's rule for a native sidecar with a startupProbe.

// slowStopPod catches SIGTERM and carries on (a handler, so that podsim
// does not SIGKILL at once a PID 1 the kernel would not deliver SIGTERM
// to) and has 30 s to stop: a rebuild of its sandbox waits the whole
// grace period before SIGKILL.
const slowStopPod = `apiVersion: v1
kind: Pod
metadata: {name: slowstop}
spec:
  terminationGracePeriodSeconds: 30
  containers:
  - name: stubborn
    image: busybox
    command: ['sh', '-c', 'trap "echo TERM ignored" TERM; while true; do sleep 1; done']
`

// fastCrashPod crash-loops: each attempt runs 1 s and exits 1.
const fastCrashPod = `apiVersion: v1
kind: Pod
metadata: {name: fastcrash}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: crash
    image: busybox
    command: ['sh', '-c', 'sleep 1; exit 1']
`

// TestIntegrationPodWorkersParallel: pod A's pause is SIGKILLed, so the
// agent rebuilds A's sandbox, which first stops A's container: it ignores
// SIGTERM, so A's sync waits out its 30 s grace period. Meanwhile pod B is
// created and crash-loops with a 500 ms back-off base: it is restarted
// several times — new container processes in B's netns, seen in the
// kernel — while A's old process still lives (A's restart in progress). An
// agent that runs one pod's sync at a time (or holds the host-wide lock
// through A's grace period) cannot create or restart B before A's old
// process is SIGKILLed. Then A's rebuild completes.
func TestIntegrationPodWorkersParallel(t *testing.T) {
	requireRoot(t)
	freshAgent(t)
	t.Setenv("PODSIM_BACKOFF_BASE", "500ms")
	checkNoLeaks(t)
	applyPod(t, slowStopPod, "slowstop")
	a := getPod(t, "slowstop")
	aSB := sandboxOf(containerStatus(a, "stubborn"))
	aPIDs := containerPIDs(t, string(a.UID))
	aPause, aOld := aPIDs[aSB], aPIDs[aSB+"-stubborn"]
	if aPause == 0 || aOld == 0 {
		t.Fatalf("slowstop's pause or container not in its pod cgroup: %v", aPIDs)
	}
	// The agent starts detached: give it a moment to write its pid file.
	waitFor(t, 10*time.Second, "apply to start the node agent", func() bool { return agentPID(t) != 0 })
	if err := syscall.Kill(aPause, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// A's sync is in its rebuild: the event is recorded before the stop.
	waitFor(t, 30*time.Second, "the agent to start rebuilding slowstop's sandbox", func() bool {
		return strings.Contains(podEvents(t, aSB), "SandboxChanged")
	})
	if gone(aOld) {
		t.Fatalf("slowstop's container (pid %d) is gone already: it should be waiting out its grace period", aOld)
	}

	// B is built and restarts while A's old process waits for SIGKILL.
	applyPod(t, fastCrashPod, "fastcrash")
	b := getPod(t, "fastcrash")
	bSB := sandboxOf(containerStatus(b, "crash"))
	bPause := containerPIDs(t, string(b.UID))[bSB]
	if bPause == 0 {
		t.Fatalf("fastcrash's pause not in its pod cgroup")
	}
	bNet := nsInode(t, bPause, "net")
	seen := map[int]bool{}
	var restarts int32
	waitFor(t, 60*time.Second, "fastcrash to restart 3 times while slowstop's restart is in progress", func() bool {
		if gone(aOld) {
			t.Fatalf("slowstop's old container was killed (its grace period ended) before fastcrash restarted 3 times (%d restarts, %d attempts seen): the agent served one pod at a time", restarts, len(seen))
		}
		s := containerStatus(getPod(t, "fastcrash"), "crash")
		restarts = s.RestartCount
		if pid := containerPIDs(t, string(b.UID))[strings.TrimPrefix(s.ContainerID, "containerd://")]; pid != 0 && !seen[pid] {
			if got := nsInode(t, pid, "net"); got != bNet {
				t.Errorf("fastcrash attempt pid %d is in %s, its pause in %s", pid, got, bNet)
			}
			seen[pid] = true
		}
		return restarts >= 3 && len(seen) >= 2
	})
	if gone(aOld) {
		t.Fatal("slowstop's old container was gone by the end of fastcrash's restarts")
	}

	// A's restart completes: its old process SIGKILLed, a new pause and a
	// new attempt of its container.
	waitFor(t, 90*time.Second, "slowstop's rebuild to complete", func() bool {
		s := containerStatus(getPod(t, "slowstop"), "stubborn")
		pids := containerPIDs(t, string(a.UID))
		return gone(aOld) && s.RestartCount == 1 && s.State.Running != nil && pids[aSB] != 0 && pids[aSB] != aPause &&
			pids[strings.TrimPrefix(s.ContainerID, "containerd://")] != 0
	})
	mustPodsim(t, "delete", "pod", "slowstop", "--grace-period=1")
	mustPodsim(t, "delete", "pod", "fastcrash", "--grace-period=1")
}

// sidecarStartupPod: the sidecar makes /shared/up 3 s after it starts, and
// its startupProbe passes only once that file exists. The init container
// after it and the app write whether they saw the file when they ran.
const sidecarStartupPod = `apiVersion: v1
kind: Pod
metadata: {name: sidecar-startup}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: shared, emptyDir: {}}]
  initContainers:
  - name: side
    image: busybox
    restartPolicy: Always
    command: ['sh', '-c', 'sleep 3; touch /shared/up; exec sleep 3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
    startupProbe: {exec: {command: ['test', '-f', '/shared/up']}, periodSeconds: 1, failureThreshold: 30}
  - name: next
    image: busybox
    command: ['sh', '-c', 'if test -f /shared/up; then echo saw-up; else echo no-up; fi > /shared/next']
    volumeMounts: [{name: shared, mountPath: /shared}]
  containers:
  - name: app
    image: busybox
    command: ['sh', '-c', 'if test -f /shared/up; then echo saw-up; else echo no-up; fi > /shared/app; exec sleep 3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
`

// sidecarNoStartPod: the sidecar's startupProbe never passes.
const sidecarNoStartPod = `apiVersion: v1
kind: Pod
metadata: {name: sidecar-nostart}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: side
    image: busybox
    restartPolicy: Always
    command: ['sleep', '3600']
    startupProbe: {exec: {command: ['false']}, periodSeconds: 1, failureThreshold: 2}
  containers:
  - name: app
    image: busybox
    command: ['sleep', '3600']
`

// TestIntegrationSidecarStartupProbe is kubelet's rule for native
// sidecars: the next init container and the app containers start only
// after the sidecar's startupProbe succeeded. Checked on the host: the
// files the next init container and the app wrote into the emptyDir say
// they saw the file the sidecar makes just before its probe can pass, and
// the kernel's start times put the app at least 3 s after the sidecar. A
// sidecar whose startupProbe fails is killed and restarted (restartPolicy
// Always of a sidecar), each attempt a new process in the pod's netns,
// and the app container is never started.
func TestIntegrationSidecarStartupProbe(t *testing.T) {
	requireRoot(t)
	freshAgent(t)
	checkNoLeaks(t)
	applyPod(t, sidecarStartupPod, "sidecar-startup")
	var sb string
	waitFor(t, 60*time.Second, "the app container to run", func() bool {
		p := getPod(t, "sidecar-startup")
		s := containerStatus(p, "app")
		sb = sandboxOf(s)
		return s.State.Running != nil && containerPIDs(t, string(p.UID))[sb+"-app"] != 0
	})
	p := getPod(t, "sidecar-startup")
	for _, f := range []string{"next", "app"} {
		if b, err := os.ReadFile(emptyDirFile(sb, "shared", f)); err != nil || strings.TrimSpace(string(b)) != "saw-up" {
			t.Errorf("%s ran before the sidecar's startupProbe could pass: it wrote %q (%v)", f, b, err)
		}
	}
	pids := containerPIDs(t, string(p.UID))
	side, app := pids[sb+"-side"], pids[sb+"-app"]
	if side == 0 {
		t.Fatalf("the sidecar is not running: %v", pids)
	}
	// USER_HZ is 100: 3 s are 300 ticks.
	if st, at := startTicks(t, side), startTicks(t, app); at < st+300 {
		t.Errorf("kernel start times: sidecar %d, app %d ticks: the app started less than the sidecar's 3 s before its probe could pass", st, at)
	}
	if s := initStatus(p, "side"); s.RestartCount != 0 || s.Started == nil || !*s.Started {
		t.Errorf("sidecar status %+v: want started, never restarted", s)
	}
	mustPodsim(t, "delete", "pod", "sidecar-startup", "--grace-period=1")

	applyPod(t, sidecarNoStartPod, "sidecar-nostart")
	p = getPod(t, "sidecar-nostart")
	sb = sandboxOf(initStatus(p, "side"))
	podNet := nsInode(t, containerPIDs(t, string(p.UID))[sb], "net")
	seen := map[int]bool{}
	waitFor(t, 90*time.Second, "the failing sidecar to be restarted twice", func() bool {
		s := initStatus(getPod(t, "sidecar-nostart"), "side")
		pid := containerPIDs(t, string(p.UID))[strings.TrimPrefix(s.ContainerID, "containerd://")]
		if pid != 0 && !seen[pid] {
			if got := nsInode(t, pid, "net"); got != podNet {
				t.Errorf("sidecar attempt pid %d is in %s, the pause in %s", pid, got, podNet)
			}
			seen[pid] = true
		}
		return s.RestartCount >= 2 && len(seen) >= 2
	})
	p = getPod(t, "sidecar-nostart")
	s := initStatus(p, "side")
	if s.LastTerminationState.Terminated == nil || s.LastTerminationState.Terminated.ExitCode != 137 {
		t.Errorf("the sidecar's last state %+v: want killed (137) after its failed startupProbe", s.LastTerminationState)
	}
	if ev := podEvents(t, sb); !strings.Contains(ev, "Startup probe failed") {
		t.Errorf("no Unhealthy event for the startup probe in %s", ev)
	}
	if pid := containerPIDs(t, string(p.UID))[sb+"-app"]; pid != 0 || containerStatus(p, "app").State.Running != nil {
		t.Errorf("the app container started (pid %d) although the sidecar never passed its startupProbe", pid)
	}
	mustPodsim(t, "delete", "pod", "sidecar-nostart", "--grace-period=1")
}
