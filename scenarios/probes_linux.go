package scenarios

import (
	"context"
	"fmt"
	"strings"
	"time"

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
		Run: func(ctx context.Context, t *T) {
			if !probesReadiness(ctx, t) {
				return
			}
			probesLiveness(ctx, t)
		},
	}
}

// clientHosts reads the client pod's /etc/hosts through its process's root
// on the node (/proc/<pid>/root), not through podsim.
func (t *T) clientHosts(ctx context.Context) (string, string) {
	p, err := t.Procs(ctx, "probes-client")
	if err != nil {
		return "", err.Error()
	}
	n, err := t.node(ctx, "probes-client")
	if err != nil {
		return "", err.Error()
	}
	path := fmt.Sprintf("/proc/%d/root/etc/hosts", p.PID["client"])
	b, err := n.ReadFile(ctx, path)
	if err != nil {
		return "", err.Error()
	}
	return string(b), path
}

// probesReadiness: podsim's Services are /etc/hosts entries of the ready
// pods (its own record of Services), so with podsim the client's hosts
// file is the Service's view; on a cluster the pod's Ready condition is
// checked from the API and the Service through DNS when the cluster has it.
func probesReadiness(ctx context.Context, t *T) bool {
	if !t.Has(CapPodsimRecord) {
		return probesReadinessAPI(ctx, t)
	}
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

// probesReadinessAPI is the readiness half on a cluster: the kubelet's
// Unhealthy events and the pod's Ready condition from the API; the Service
// through cluster DNS (and kube-proxy) when the cluster has them.
func probesReadinessAPI(ctx context.Context, t *T) bool {
	const pod = "probes-backend"
	curl := func() (string, int, string) {
		return t.Exec(ctx, "probes-client", "client", "curl", "-sS", "-m", "2", "http://probes-backend:8080/")
	}
	var ev string
	Eventually(ctx, 30*time.Second, func() bool {
		ev = t.podEvents(ctx, pod, "Unhealthy", "Readiness probe failed")
		return ev != ""
	})
	ready, rs := t.podReady(ctx, pod)
	if !t.Check("before /tmp/ready exists the readiness probe fails (an Unhealthy event) and the pod is not ready (condition Ready=False)",
		"kubectl get pod "+pod+"; kubectl get events --field-selector involvedObject.name="+pod, fmt.Sprintf("%s\nevent: %s", rs, ev), ev != "" && !ready) {
		return false
	}
	if t.Needs(CapServices, "before it is ready the Service sends the client pod nowhere") {
		out, code, cmd := curl()
		t.Check("before it is ready the Service sends the client pod nowhere", cmd, fmt.Sprintf("curl: %s(exit %d)", out, code), code != 0)
	}
	_, _, touch := t.Exec(ctx, pod, "backend", "touch", "/tmp/ready")
	Eventually(ctx, 30*time.Second, func() bool {
		ready, rs = t.podReady(ctx, pod)
		return ready
	})
	if !t.Check("once the probe passes the pod is Ready (condition Ready=True, READY 1/1)", touch+"; kubectl get pod "+pod, rs, ready) {
		return false
	}
	if t.Needs(CapServices, "once it is ready the Service reaches it from the client pod") {
		var out, cmd string
		code := -1
		Eventually(ctx, 30*time.Second, func() bool {
			out, code, cmd = curl()
			return code == 0
		})
		t.Check("once it is ready the Service reaches it from the client pod", cmd, fmt.Sprintf("curl: %s(exit %d)", out, code), code == 0 && strings.Contains(out, "backend ok"))
	}
	_, _, rm := t.Exec(ctx, pod, "backend", "rm", "/tmp/ready")
	unready := Eventually(ctx, 30*time.Second, func() bool {
		ready, rs = t.podReady(ctx, pod)
		return !ready
	})
	return t.Check("readiness works both ways: without /tmp/ready the pod turns unready (condition Ready=False)", rm+"; kubectl get pod "+pod, rs, unready)
}

func probesLiveness(ctx context.Context, t *T) {
	p, err := t.Procs(ctx, "probes-backend")
	if err != nil {
		t.Check("the backend runs", "podsim get pod probes-backend", err.Error(), false)
		return
	}
	n, ok := t.NeedsNode(ctx, "probes-backend", "a failing liveness probe restarts the container: RESTARTS 1, a new process, in the same network namespace (the pause holds it)")
	if !ok {
		return
	}
	oldPID, pausePID := p.PID["backend"], p.PID["POD"]
	oldNS, _ := t.NS(ctx, n, oldPID, "net")
	_, _, rm := t.Exec(ctx, "probes-backend", "backend", "rm", "/tmp/healthy")
	var np *Procs
	restarted := Eventually(ctx, 60*time.Second, func() bool {
		np, err = t.Procs(ctx, "probes-backend")
		return err == nil && appRestarts(np.Pod) == 1 && np.PID["backend"] != 0 && np.PID["backend"] != oldPID
	})
	if !restarted {
		t.Check("the failing liveness probe restarts the container", rm+"; podsim get pods", fmt.Sprintf("no restart seen (old pid %d)", oldPID), false)
		return
	}
	newPID := np.PID["backend"]
	newNS, _ := t.NS(ctx, n, newPID, "net")
	pauseNS, _ := t.NS(ctx, n, pausePID, "net")
	kill := t.podEvents(ctx, "probes-backend", "Killing", "failed liveness probe, will be restarted")
	unhealthy := t.podEvents(ctx, "probes-backend", "Unhealthy", "Liveness probe failed")
	ok = kill != "" && unhealthy != "" && oldNS == newNS && newNS == pauseNS && oldNS != (namespaces.ID{}) && np.PID["POD"] == pausePID
	t.Check("a failing liveness probe restarts the container: RESTARTS 1, a new process, in the same network namespace (the pause holds it)",
		rm+"; podsim get pods; readlink /proc/<pid>/ns/net",
		fmt.Sprintf("RESTARTS %d; backend pid %d -> %d\nnet ns: old %s, new %s, pause %s\n%s\n%s", appRestarts(np.Pod), oldPID, newPID, oldNS, newNS, pauseNS, unhealthy, kill), ok)
}
