package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Native sidecars, init container restarts, lifecycle hooks, termination
// messages and activeDeadlineSeconds, checked from the host: process start
// times in /proc/<pid>/stat, files the containers and hooks wrote seen in
// the emptyDir's host directory, processes gone from /proc.

// sandboxOf is the pod's sandbox ID, from a container's containerd ID.
func sandboxOf(s corev1.ContainerStatus) string {
	id := strings.TrimPrefix(s.ContainerID, "containerd://")
	if i := strings.LastIndex(id, "-"+s.Name); i > 0 {
		return id[:i]
	}
	return id
}

func initStatus(p *corev1.Pod, name string) corev1.ContainerStatus {
	for _, s := range p.Status.InitContainerStatuses {
		if s.Name == name {
			return s
		}
	}
	return corev1.ContainerStatus{}
}

// emptyDirFile is a file of the pod's emptyDir as the host sees it.
func emptyDirFile(sandbox, vol, name string) string {
	return filepath.Join("/var/lib/podsim/pods", sandbox, "volumes/kubernetes.io~empty-dir", vol, name)
}

// startTicks is field 22 of /proc/<pid>/stat: when the kernel started it.
func startTicks(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	n, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// podEvents reads the pod's recorded events from its state directory.
func podEvents(t *testing.T, sandbox string) string {
	t.Helper()
	for _, d := range []string{"/var/lib/podsim/pods", "/run/podsim/pods"} {
		if b, err := os.ReadFile(filepath.Join(d, sandbox, "events.jsonl")); err == nil { // one JSON event per line
			return string(b)
		}
	}
	return ""
}

func gone(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return os.IsNotExist(err)
}

// TestIntegrationNativeSidecar: two sidecars start in order before the app
// (kernel start times), a sidecar killed from the host is restarted in the
// same network namespace, and on deletion the app stops first, then the
// sidecars in reverse order (their preStop hooks append to a file the
// test keeps open on the host). A Job-like pod completes with its app.
func TestIntegrationNativeSidecar(t *testing.T) {
	requireRoot(t)
	freshAgent(t)
	checkNoLeaks(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: sidecars}
spec:
  terminationGracePeriodSeconds: 5
  volumes: [{name: shared, emptyDir: {}}]
  initContainers:
  - name: s1
    image: busybox
    restartPolicy: Always
    command: ['sleep', '3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
    lifecycle: {preStop: {exec: {command: ['sh', '-c', 'echo s1 >> /shared/order']}}}
  - name: setup
    image: busybox
    command: ['sh', '-c', 'echo setup > /shared/setup']
    volumeMounts: [{name: shared, mountPath: /shared}]
  - name: s2
    image: busybox
    restartPolicy: Always
    command: ['sleep', '3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
    lifecycle: {preStop: {exec: {command: ['sh', '-c', 'sleep 1; echo s2 >> /shared/order']}}}
  containers:
  - name: app
    image: busybox
    command: ['sleep', '3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
    lifecycle: {preStop: {exec: {command: ['sh', '-c', 'sleep 1; echo app >> /shared/order']}}}
`, "sidecars")
	p := getPod(t, "sidecars")
	sb := sandboxOf(containerStatus(p, "app"))
	pids := containerPIDs(t, string(p.UID))
	s1, s2, app := pids[sb+"-s1"], pids[sb+"-s2"], pids[sb+"-app"]
	if s1 == 0 || s2 == 0 || app == 0 {
		t.Fatalf("sidecars and app not all running in the pod cgroup: %v", pids)
	}
	if a, b, c := startTicks(t, s1), startTicks(t, s2), startTicks(t, app); !(a <= b && b <= c && a < c) {
		t.Errorf("kernel start times s1 %d, s2 %d, app %d: want s1 <= s2 <= app", a, b, c)
	}
	if b, err := os.ReadFile(emptyDirFile(sb, "shared", "setup")); err != nil || string(b) != "setup\n" {
		t.Errorf("the regular init container between the sidecars did not run: %q %v", b, err)
	}
	if p.Status.Phase != corev1.PodRunning || !strings.Contains(mustPodsim(t, "get", "pods"), "Running") {
		t.Errorf("phase %s with sidecars and app running, want Running", p.Status.Phase)
	}

	// Kill s1 from the host: the agent restarts it (a new attempt) in the pause's netns.
	podNet := nsInode(t, pids[sb], "net")
	if err := syscall.Kill(s1, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the agent to restart sidecar s1", func() bool {
		s := initStatus(getPod(t, "sidecars"), "s1")
		return s.RestartCount >= 1 && s.State.Running != nil && containerPIDs(t, string(p.UID))[strings.TrimPrefix(s.ContainerID, "containerd://")] != 0
	})
	s := initStatus(getPod(t, "sidecars"), "s1")
	newS1 := containerPIDs(t, string(p.UID))[strings.TrimPrefix(s.ContainerID, "containerd://")]
	if got := nsInode(t, newS1, "net"); got != podNet || newS1 == s1 {
		t.Errorf("restarted s1 pid %d (was %d) in %s, the pause in %s", newS1, s1, got, podNet)
	}
	if s.LastTerminationState.Terminated == nil || s.LastTerminationState.Terminated.ExitCode != 137 {
		t.Errorf("s1's last state: %+v, want terminated with 137", s.LastTerminationState)
	}
	if pids2 := containerPIDs(t, string(p.UID)); pids2[sb+"-app"] != app || pids2[sb+"-s2"] != s2 {
		t.Errorf("app or s2 was restarted with s1: %v", pids2)
	}

	// Deletion: app first, then s2, then s1 (reverse order).
	f, err := os.Open(emptyDirFile(sb, "shared", "order"))
	if os.IsNotExist(err) {
		if err := os.WriteFile(emptyDirFile(sb, "shared", "order"), nil, 0o666); err != nil {
			t.Fatal(err)
		}
		f, err = os.Open(emptyDirFile(sb, "shared", "order"))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mustPodsim(t, "delete", "pod", "sidecars")
	b := make([]byte, 100)
	n, _ := f.ReadAt(b, 0)
	if got := strings.Fields(string(b[:n])); strings.Join(got, " ") != "app s2 s1" {
		t.Errorf("preStop order on deletion %v, want app s2 s1", got)
	}
	for _, pid := range []int{newS1, s2, app} {
		if !gone(pid) {
			t.Errorf("pid %d still runs after delete", pid)
		}
	}

	// A Job-like pod completes with its app; its sidecar is stopped.
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: sidecar-job}
spec:
  restartPolicy: Never
  initContainers:
  - name: side
    image: busybox
    restartPolicy: Always
    command: ['sleep', '3600']
  containers:
  - name: job
    image: busybox
    command: ['sh', '-c', 'sleep 2']
`, "sidecar-job")
	p = getPod(t, "sidecar-job")
	sb = sandboxOf(containerStatus(p, "job"))
	side := containerPIDs(t, string(p.UID))[sb+"-side"]
	waitFor(t, 60*time.Second, "the job pod to complete", func() bool {
		return getPod(t, "sidecar-job").Status.Phase == corev1.PodSucceeded
	})
	waitFor(t, 30*time.Second, "the sidecar's process to go", func() bool { return side != 0 && gone(side) })
	if s := initStatus(getPod(t, "sidecar-job"), "side"); s.RestartCount != 0 || s.State.Terminated == nil {
		t.Errorf("the completed pod's sidecar: %+v, want terminated, not restarted", s)
	}
	mustPodsim(t, "delete", "pod", "sidecar-job")
}

// TestIntegrationInitRestart: under OnFailure a failing init container is
// restarted with back-off until it succeeds, then the app starts; its
// runs are counted in the emptyDir on the host. Under Never the pod fails.
func TestIntegrationInitRestart(t *testing.T) {
	requireRoot(t)
	freshAgent(t)
	checkNoLeaks(t)
	r := podsim(t, "", "apply", "-f", writeManifest(t, `apiVersion: v1
kind: Pod
metadata: {name: init-retry}
spec:
  restartPolicy: OnFailure
  volumes: [{name: data, emptyDir: {}}]
  initContainers:
  - name: flaky
    image: busybox
    command: ['sh', '-c', 'echo x >> /data/runs; [ $(wc -l < /data/runs) -ge 3 ]']
    volumeMounts: [{name: data, mountPath: /data}]
  containers:
  - name: app
    image: busybox
    command: ['sleep', '3600']
`))
	t.Cleanup(func() { podsim(t, "", "delete", "pod", "init-retry", "--grace-period=1") })
	if r.code != 0 || !strings.Contains(r.stderr, "restarts it with back-off") {
		t.Fatalf("apply of a pod whose init container fails under OnFailure: %s", r)
	}
	waitFor(t, 90*time.Second, "the app to run after the init container's restarts", func() bool {
		return containerStatus(getPod(t, "init-retry"), "app").State.Running != nil
	})
	p := getPod(t, "init-retry")
	s := initStatus(p, "flaky")
	sb := sandboxOf(containerStatus(p, "app"))
	runs, _ := os.ReadFile(emptyDirFile(sb, "data", "runs"))
	if s.RestartCount != 2 || strings.Count(string(runs), "x") != 3 || s.State.Terminated == nil || s.State.Terminated.ExitCode != 0 {
		t.Errorf("flaky: restarts %d, runs on the host %q, state %+v: want 2 restarts, 3 runs, exit 0", s.RestartCount, runs, s.State)
	}
	if s.LastTerminationState.Terminated == nil || s.LastTerminationState.Terminated.ExitCode != 1 {
		t.Errorf("flaky's last state %+v, want exit 1", s.LastTerminationState)
	}
	mustPodsim(t, "delete", "pod", "init-retry")

	r = podsim(t, "", "apply", "-f", writeManifest(t, `apiVersion: v1
kind: Pod
metadata: {name: init-never}
spec:
  restartPolicy: Never
  initContainers:
  - {name: fail, image: busybox, command: ['sh', '-c', 'exit 4']}
  containers:
  - {name: app, image: busybox, command: ['sleep', '3600']}
`))
	t.Cleanup(func() { podsim(t, "", "delete", "pod", "init-never", "--grace-period=1") })
	if r.code == 0 {
		t.Errorf("apply of a pod whose init container fails under Never succeeded: %s", r)
	}
	p = getPod(t, "init-never")
	if p.Status.Phase != corev1.PodFailed || !strings.Contains(mustPodsim(t, "get", "pods"), "Init:Error") || initStatus(p, "fail").RestartCount != 0 {
		t.Errorf("under Never: phase %s, %+v; want Failed, Init:Error, no restart", p.Status.Phase, initStatus(p, "fail"))
	}
	mustPodsim(t, "delete", "pod", "init-never")
}

// TestIntegrationLifecycleHooks: a postStart hook finishes before the next
// container starts (that container sees the hook's file); on
// activeDeadlineSeconds the agent kills the pod: preStop exec and httpGet
// (nginx logs the node's GET) run before the processes go; the pod is
// Failed with DeadlineExceeded. A failing postStart kills the container
// (FailedPostStartHook) and the policy restarts it.
func TestIntegrationLifecycleHooks(t *testing.T) {
	requireRoot(t)
	freshAgent(t)
	checkNoLeaks(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: hooks}
spec:
  restartPolicy: Never
  activeDeadlineSeconds: 8
  terminationGracePeriodSeconds: 5
  volumes: [{name: shared, emptyDir: {}}]
  containers:
  - name: web
    image: nginx
    lifecycle: {preStop: {httpGet: {path: /prestop-hook, port: 80}}}
  - name: a
    image: busybox
    command: ['sleep', '3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
    lifecycle:
      postStart: {exec: {command: ['sh', '-c', 'sleep 1; echo done > /shared/a-poststart']}}
      preStop: {exec: {command: ['sh', '-c', 'echo a > /shared/a-prestop']}}
  - name: b
    image: busybox
    command: ['sh', '-c', 'if [ -e /shared/a-poststart ]; then echo seen; else echo missing; fi > /shared/b-saw; exec sleep 3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
`, "hooks")
	p := getPod(t, "hooks")
	sb := sandboxOf(containerStatus(p, "a"))
	pids := containerPIDs(t, string(p.UID))
	waitFor(t, 10*time.Second, "b to write what it saw", func() bool {
		_, err := os.Stat(emptyDirFile(sb, "shared", "b-saw"))
		return err == nil
	})
	if b, _ := os.ReadFile(emptyDirFile(sb, "shared", "b-saw")); string(b) != "seen\n" {
		t.Errorf("b started before a's postStart hook finished: it saw %q", b)
	}
	waitFor(t, 60*time.Second, "DeadlineExceeded", func() bool {
		p := getPod(t, "hooks")
		return p.Status.Phase == corev1.PodFailed && p.Status.Reason == "DeadlineExceeded"
	})
	waitFor(t, 30*time.Second, "the pod's processes to go", func() bool {
		return gone(pids[sb+"-a"]) && gone(pids[sb+"-b"]) && gone(pids[sb+"-web"])
	})
	if b, err := os.ReadFile(emptyDirFile(sb, "shared", "a-prestop")); err != nil || string(b) != "a\n" {
		t.Errorf("a's preStop exec hook did not write its file on the host: %q %v", b, err)
	}
	if logs := mustPodsim(t, "logs", "hooks", "-c", "web"); !strings.Contains(logs, "GET /prestop-hook") || !strings.Contains(logs, "kube-lifecycle") {
		t.Errorf("nginx did not log the preStop httpGet:\n%s", logs)
	}
	if ev := podEvents(t, sb); !strings.Contains(ev, `"DeadlineExceeded"`) || !strings.Contains(ev, `"Killing"`) {
		t.Errorf("events lack DeadlineExceeded and Killing: %s", ev)
	}
	if out := mustPodsim(t, "get", "pods"); !strings.Contains(out, "DeadlineExceeded") {
		t.Errorf("get pods does not show DeadlineExceeded:\n%s", out)
	}
	mustPodsim(t, "delete", "pod", "hooks")

	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: badhook}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox
    command: ['sleep', '3600']
    lifecycle: {postStart: {exec: {command: ['sh', '-c', 'echo hook broke; exit 7']}}}
`, "badhook")
	waitFor(t, 60*time.Second, "the container killed by its postStart hook to be restarted", func() bool {
		return containerStatus(getPod(t, "badhook"), "c").RestartCount >= 1
	})
	p = getPod(t, "badhook")
	ev := podEvents(t, sandboxOf(containerStatus(p, "c")))
	if !strings.Contains(ev, `"FailedPostStartHook"`) || !strings.Contains(ev, "exited with 7") || !strings.Contains(ev, "hook broke") {
		t.Errorf("events lack FailedPostStartHook with the hook's exit code and output: %s", ev)
	}
	mustPodsim(t, "delete", "pod", "badhook")
}

// TestIntegrationTermination: the termination message comes from the file
// the container wrote (and moves to lastState on restart), or from the
// log's last 80 lines under FallbackToLogsOnError.
func TestIntegrationTermination(t *testing.T) {
	requireRoot(t)
	freshAgent(t)
	checkNoLeaks(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: term}
spec:
  restartPolicy: Never
  containers:
  - name: file
    image: busybox
    terminationMessagePath: /tmp/why
    command: ['sh', '-c', 'echo -n "disk full" > /tmp/why; exit 3']
  - name: logs
    image: busybox
    terminationMessagePolicy: FallbackToLogsOnError
    command: ['sh', '-c', 'for i in $(seq 1 100); do echo "line $i"; done; exit 2']
`, "term")
	waitFor(t, 30*time.Second, "both containers to exit", func() bool {
		p := getPod(t, "term")
		return containerStatus(p, "file").State.Terminated != nil && containerStatus(p, "logs").State.Terminated != nil
	})
	p := getPod(t, "term")
	if m := containerStatus(p, "file").State.Terminated.Message; m != "disk full" {
		t.Errorf("file's message %q, want %q", m, "disk full")
	}
	m := containerStatus(p, "logs").State.Terminated.Message
	lines := strings.Split(strings.TrimSpace(m), "\n")
	if len(lines) != 80 || lines[0] != "line 21" || lines[79] != "line 100" {
		t.Errorf("fallback message has %d lines (%q ... ), want line 21..line 100", len(lines), firstN(lines, 2))
	}
	b, _ := json.Marshal(p.Status.Phase)
	if p.Status.Phase != corev1.PodFailed {
		t.Errorf("phase %s", b)
	}
	mustPodsim(t, "delete", "pod", "term")
}

func firstN(l []string, n int) []string {
	if len(l) < n {
		return l
	}
	return l[:n]
}
