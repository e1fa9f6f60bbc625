package integration

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// probeWebYAML: busybox httpd (daemonized; sh then sleeps as PID 1) behind
// a readiness httpGet on a named port with a header, a tcpSocket liveness
// probe, an exec startup probe; a Service selects it; a client pod.
const probeWebYAML = `apiVersion: v1
kind: Pod
metadata:
  name: probe-web
  labels: {app: probe-web}
spec:
  containers:
  - name: web
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo up > /www/index.html && httpd -p 8080 -h /www && exec sleep 3600"]
    ports: [{name: http, containerPort: 8080}]
    startupProbe:
      exec: {command: ["test", "-e", "/www/index.html"]}
      periodSeconds: 1
    readinessProbe:
      httpGet:
        path: /ready.html
        port: http
        httpHeaders: [{name: X-Probe, value: podsim}]
      periodSeconds: 1
    livenessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
      failureThreshold: 2
      terminationGracePeriodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: probe-web}
spec:
  selector: {app: probe-web}
  ports: [{port: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: probe-client}
spec:
  restartPolicy: Never
  containers:
  - name: client
    image: busybox
    command: ["sleep", "3600"]
`

// TestIntegrationProbes: readiness (httpGet) gates the pod's Ready
// condition and the Service's line in another pod's /etc/hosts, read on the
// host through /proc/<pid>/root, both ways and after the agent's own
// restart; a failing tcpSocket liveness probe restarts the container (a new
// PID in the pause's netns inode, lastState 137). The exec handler runs as
// the startup probe. grpc is checked by the unit test TestGRPCProbe against
// an in-process health server: no image podsim builds serves grpc.health.v1.
func TestIntegrationProbes(t *testing.T) {
	requireRoot(t)
	freshAgent(t)
	checkNoLeaks(t)
	t.Cleanup(func() { podsim(t, "", "delete", "service", "probe-web") })
	applyPod(t, probeWebYAML, "probe-web", "probe-client")

	web := getPod(t, "probe-web")
	client := getPod(t, "probe-client")
	uid, sandboxID := string(web.UID), strings.TrimSuffix(strings.TrimPrefix(containerStatus(web, "web").ContainerID, "containerd://"), "-web")
	clientPID := containerPIDs(t, string(client.UID))[strings.TrimPrefix(containerStatus(client, "client").ContainerID, "containerd://")]
	if clientPID == 0 {
		t.Fatalf("client's process not found in its pod cgroup")
	}
	hosts := func() string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/etc/hosts", clientPID))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	webLine := func() bool { return strings.Contains(hosts(), web.Status.PodIP+"\tprobe-web ") }

	// Not ready: the httpGet gets busybox httpd's 404.
	waitFor(t, 30*time.Second, "the readiness probe's first failure", func() bool {
		return strings.Contains(podEvents(t, sandboxID), "Readiness probe failed: HTTP probe failed with statuscode: 404")
	})
	p := getPod(t, "probe-web")
	if s := containerStatus(p, "web"); s.Ready || s.Started == nil || !*s.Started || s.State.Running == nil {
		t.Errorf("started (exec startup probe passed) but not ready expected: %+v", s)
	}
	if cond(p, corev1.PodReady) != corev1.ConditionFalse || cond(p, corev1.ContainersReady) != corev1.ConditionFalse || cond(p, corev1.PodInitialized) != corev1.ConditionTrue {
		t.Errorf("conditions of an unready pod: %+v", p.Status.Conditions)
	}
	if webLine() {
		t.Errorf("the unready pod is in the client's /etc/hosts:\n%s", hosts())
	}
	if !strings.Contains(mustPodsim(t, "get", "pods"), "0/1") {
		t.Errorf("get pods does not show 0/1:\n%s", mustPodsim(t, "get", "pods"))
	}

	// Ready, both ways.
	mustPodsim(t, "exec", "probe-web", "--", "sh", "-c", "echo ok > /www/ready.html")
	waitFor(t, 30*time.Second, "the Service line in the client's /etc/hosts", webLine)
	p = getPod(t, "probe-web")
	if !containerStatus(p, "web").Ready || cond(p, corev1.PodReady) != corev1.ConditionTrue {
		t.Errorf("ready pod's status: %+v", p.Status)
	}
	mustPodsim(t, "exec", "probe-web", "--", "rm", "/www/ready.html")
	waitFor(t, 30*time.Second, "the Service line to leave the client's /etc/hosts", func() bool { return !webLine() })

	// The agent picks the probes up again after its own restart.
	mustPodsim(t, "system", "stop")
	mustPodsim(t, "get", "pods") // starts containerd and the agent again
	mustPodsim(t, "exec", "probe-web", "--", "sh", "-c", "echo ok > /www/ready.html")
	waitFor(t, 30*time.Second, "readiness seen by the restarted agent", webLine)

	// Liveness: stop httpd; the tcpSocket probe fails twice, the container is
	// killed and restarted in the same sandbox.
	pids := containerPIDs(t, uid)
	pausePID, oldPID := pids[sandboxID], pids[sandboxID+"-web"]
	podNet := nsInode(t, pausePID, "net")
	mustPodsim(t, "exec", "probe-web", "--", "killall", "httpd")
	var newPID int
	waitFor(t, 60*time.Second, "the liveness restart", func() bool {
		s := containerStatus(getPod(t, "probe-web"), "web")
		newPID = containerPIDs(t, uid)[sandboxID+"-web.1"]
		return s.RestartCount == 1 && s.State.Running != nil && newPID != 0
	})
	if newPID == oldPID || nsInode(t, newPID, "net") != podNet {
		t.Errorf("new attempt pid %d (old %d) in %s, pause's netns %s", newPID, oldPID, nsInode(t, newPID, "net"), podNet)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", oldPID)); err == nil {
		t.Errorf("the old attempt's process %d still exists", oldPID)
	}
	s := containerStatus(getPod(t, "probe-web"), "web")
	if lt := s.LastTerminationState.Terminated; lt == nil || lt.ExitCode != 137 || lt.Reason != "Error" {
		t.Errorf("lastState after a liveness kill: %+v", s.LastTerminationState)
	}
	ev := podEvents(t, sandboxID)
	for _, want := range []string{"Liveness probe failed", "Container web failed liveness probe, will be restarted"} {
		if !strings.Contains(ev, want) {
			t.Errorf("events lack %q:\n%s", want, ev)
		}
	}
	// The new attempt starts unready (its own /www has no ready.html): the
	// Service line goes again.
	waitFor(t, 30*time.Second, "the restarted container's pod to leave the Service", func() bool { return !webLine() })
}

// TestIntegrationProbesNever: under restartPolicy Never a container whose
// liveness probe fails is killed once and stays so; the pod is Failed.
func TestIntegrationProbesNever(t *testing.T) {
	requireRoot(t)
	freshAgent(t)
	checkNoLeaks(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: probe-never}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/healthy"]}
      periodSeconds: 1
      failureThreshold: 1
`, "probe-never")
	p := getPod(t, "probe-never")
	uid := string(p.UID)
	id := strings.TrimPrefix(containerStatus(p, "app").ContainerID, "containerd://")
	pid := containerPIDs(t, uid)[id]
	if agentPID(t) == 0 {
		t.Fatalf("a Never pod with a liveness probe did not start the node agent")
	}
	waitFor(t, 30*time.Second, "the liveness kill", func() bool {
		return containerStatus(getPod(t, "probe-never"), "app").State.Terminated != nil
	})
	if pid != 0 {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Errorf("process %d still exists after the kill", pid)
		}
	}
	time.Sleep(3 * time.Second) // three periods: nothing may restart it
	p = getPod(t, "probe-never")
	s := containerStatus(p, "app")
	if p.Status.Phase != corev1.PodFailed || s.RestartCount != 0 || s.State.Terminated == nil || s.State.Terminated.ExitCode != 137 {
		t.Errorf("want phase Failed, no restart, exit 137; got %s %+v", p.Status.Phase, s)
	}
	if n := len(containerPIDs(t, uid)); n > 1 {
		t.Errorf("%d processes in the pod cgroup, want only the pause", n)
	}
	if ev := podEvents(t, strings.TrimSuffix(id, "-app")); !strings.Contains(ev, "Container app failed liveness probe") || strings.Contains(ev, "app failed liveness probe, will be restarted") {
		t.Errorf("Killing event under Never:\n%s", ev)
	}
}

// podEvents reads a pod's event list where podsim keeps it on the host.
func cond(p *corev1.Pod, t corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}
