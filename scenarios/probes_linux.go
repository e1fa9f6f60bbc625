package scenarios

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/namespaces"
)

// probesYAML is a backend whose readiness is a file the scenario creates
// (readiness exec `cat /tmp/ready`), whose liveness is a file its command
// makes and the scenario removes, a Service selecting it, and a client pod.
const probesYAML = `apiVersion: v1
kind: Pod
metadata:
  name: probes-backend
  labels: {app: probes-backend}
spec:
  containers:
  - name: backend
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo backend ok > /www/index.html && touch /tmp/healthy && exec httpd -f -p 8080 -h /www"]
    ports: [{name: http, containerPort: 8080}]
    startupProbe:           # liveness and readiness wait for it
      tcpSocket: {port: http}
      periodSeconds: 1
    readinessProbe:         # ready only while /tmp/ready exists
      exec: {command: ["cat", "/tmp/ready"]}
      periodSeconds: 1
    livenessProbe:          # restarted when /tmp/healthy goes
      exec: {command: ["cat", "/tmp/healthy"]}
      periodSeconds: 1
      failureThreshold: 2
---
apiVersion: v1
kind: Service
metadata: {name: probes-backend}
spec:
  selector: {app: probes-backend}
  ports: [{port: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: probes-client}
spec:
  containers:
  - name: client
    image: curlimages/curl   # glibc's resolver reads /etc/hosts (nsswitch)
    command: ["sleep", "3600"]
`

func probes() *Scenario {
	return &Scenario{
		Name:      "probes",
		Summary:   "readiness gates a Service (its name resolves only while the pod is ready); a failing liveness probe restarts the container in the same netns",
		Manifests: []string{probesYAML},
		// Probe events and restart counts are read from podsim's records.
		Needs: []Capability{CapPodsimRecord},
		Run: func(ctx context.Context, t *T) {
			if !probesReadiness(ctx, t) {
				return
			}
			probesLiveness(ctx, t)
		},
	}
}

// clientHosts reads the client pod's /etc/hosts through its process's root
// on the host (/proc/<pid>/root), not through podsim.
func (t *T) clientHosts(ctx context.Context) (string, string) {
	p, err := t.Procs(ctx, "probes-client")
	if err != nil {
		return "", err.Error()
	}
	path := fmt.Sprintf("/proc/%d/root/etc/hosts", p.PID["client"])
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err.Error()
	}
	return string(b), path
}

func (t *T) podEvents(ctx context.Context, pod, reason, text string) string {
	st, err := t.M.Get(ctx, t.Namespace, pod)
	if err != nil {
		return ""
	}
	evs, _ := t.M.PodEvents(st.ID)
	for _, e := range evs {
		if e.Reason == reason && strings.Contains(e.Message, text) {
			return fmt.Sprintf("%s %s %s: %s (x%d)", e.Type, e.Reason, e.FieldPath, e.Message, e.Count)
		}
	}
	return ""
}

func (t *T) podReady(ctx context.Context, pod string) (bool, string) {
	st, err := t.M.Get(ctx, t.Namespace, pod)
	if err != nil {
		return false, err.Error()
	}
	r, n := st.Ready()
	for _, c := range st.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue, fmt.Sprintf("READY %d/%d, condition Ready=%s", r, n, c.Status)
		}
	}
	return false, fmt.Sprintf("READY %d/%d", r, n)
}

func probesReadiness(ctx context.Context, t *T) bool {
	var ev string
	Eventually(ctx, 30*time.Second, func() bool {
		ev = t.podEvents(ctx, "probes-backend", "Unhealthy", "Readiness probe failed")
		return ev != ""
	})
	ready, rs := t.podReady(ctx, "probes-backend")
	hosts, path := t.clientHosts(ctx)
	out, code, cmd := t.Exec(ctx, "probes-client", "client", "curl", "-sS", "-m", "2", "http://probes-backend:8080/")
	ok := ev != "" && !ready && hosts != "" && !strings.Contains(hosts, "probes-backend") && code == 6 // curl: could not resolve host
	if !t.Check("before /tmp/ready exists the readiness probe fails, the pod is not ready, and the Service's name does not resolve in the client pod",
		"podsim get pods; cat "+path+"; "+cmd,
		fmt.Sprintf("%s\nevent: %s\nclient's /etc/hosts has no probes-backend line: %v\ncurl: %s(exit %d)", rs, ev, !strings.Contains(hosts, "probes-backend"), out, code), ok) {
		return false
	}
	_, _, touch := t.Exec(ctx, "probes-backend", "backend", "touch", "/tmp/ready")
	var line string
	Eventually(ctx, 30*time.Second, func() bool {
		hosts, _ = t.clientHosts(ctx)
		line = grepLines(hosts, "probes-backend", 1)
		return line != ""
	})
	ready, rs = t.podReady(ctx, "probes-backend")
	out, code, cmd = t.Exec(ctx, "probes-client", "client", "curl", "-sS", "-m", "2", "http://probes-backend:8080/")
	ip := t.podIP(ctx, "probes-backend")
	ok = ready && ip != "" && strings.HasPrefix(line, ip+"\t") && code == 0 && strings.Contains(out, "backend ok")
	if !t.Check("once the probe passes the pod is Ready and the Service resolves to its IP in the client pod's /etc/hosts (the kubelet+EndpointSlice path)",
		touch+"; cat "+path+"; "+cmd, fmt.Sprintf("%s\n%s\ncurl: %s(exit %d)", rs, line, out, code), ok) {
		return false
	}
	_, _, rm := t.Exec(ctx, "probes-backend", "backend", "rm", "/tmp/ready")
	gone := Eventually(ctx, 30*time.Second, func() bool {
		hosts, _ = t.clientHosts(ctx)
		return hosts != "" && !strings.Contains(hosts, "probes-backend")
	})
	ready, rs = t.podReady(ctx, "probes-backend")
	return t.Check("readiness works both ways: without /tmp/ready the pod turns unready and leaves the Service's hosts entries",
		rm+"; cat "+path, fmt.Sprintf("%s\nclient's /etc/hosts has no probes-backend line: %v", rs, gone), gone && !ready)
}

func probesLiveness(ctx context.Context, t *T) {
	p, err := t.Procs(ctx, "probes-backend")
	if err != nil {
		t.Check("the backend runs", "podsim get pod probes-backend", err.Error(), false)
		return
	}
	oldPID, pausePID := p.PID["backend"], p.PID["POD"]
	oldNS, _ := namespaces.Read(fmt.Sprintf("/proc/%d/ns/net", oldPID), "net")
	_, _, rm := t.Exec(ctx, "probes-backend", "backend", "rm", "/tmp/healthy")
	var np *Procs
	restarted := Eventually(ctx, 60*time.Second, func() bool {
		np, err = t.Procs(ctx, "probes-backend")
		return err == nil && np.State.Restarts() == 1 && np.PID["backend"] != 0 && np.PID["backend"] != oldPID
	})
	if !restarted {
		t.Check("the failing liveness probe restarts the container", rm+"; podsim get pods", fmt.Sprintf("no restart seen (old pid %d)", oldPID), false)
		return
	}
	newPID := np.PID["backend"]
	newNS, _ := namespaces.Read(fmt.Sprintf("/proc/%d/ns/net", newPID), "net")
	pauseNS, _ := namespaces.Read(fmt.Sprintf("/proc/%d/ns/net", pausePID), "net")
	kill := t.podEvents(ctx, "probes-backend", "Killing", "failed liveness probe, will be restarted")
	unhealthy := t.podEvents(ctx, "probes-backend", "Unhealthy", "Liveness probe failed")
	ok := kill != "" && unhealthy != "" && oldNS == newNS && newNS == pauseNS && oldNS != (namespaces.ID{}) && np.State.Pause.PID == uint32(pausePID)
	t.Check("a failing liveness probe restarts the container: RESTARTS 1, a new process, in the same network namespace (the pause holds it)",
		rm+"; podsim get pods; readlink /proc/<pid>/ns/net",
		fmt.Sprintf("RESTARTS %d; backend pid %d -> %d\nnet ns: old %s, new %s, pause %s\n%s\n%s", np.State.Restarts(), oldPID, newPID, oldNS, newNS, pauseNS, unhealthy, kill), ok)
}
