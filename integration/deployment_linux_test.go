package integration

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// deploymentYAML is a Deployment of busybox pods serving nothing; env
// VERSION makes a new template, strategy and paused are set per step.
func deploymentYAML(name string, replicas int, version, strategy string, paused bool) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
spec:
  replicas: %d
  paused: %v
  strategy:
%s
  selector:
    matchLabels: {app: %s}
  template:
    metadata:
      labels: {app: %s}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox
        command: ['sleep', '3600']
        env: [{name: VERSION, value: "%s"}]
`, name, replicas, paused, strategy, name, name, version)
}

// deploymentPods lists the Deployment's pods as `podsim get pods -l` sees
// them, and checks each one from the host: a running pod has processes in
// its pod cgroup (the kernel's cgroup.procs, not podsim's word).
func deploymentPods(t *testing.T, app string) []corev1.Pod {
	t.Helper()
	var list corev1.PodList
	out := mustPodsim(t, "get", "pods", "-l", "app="+app, "-o", "json")
	if strings.TrimSpace(out) == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || list.Items == nil {
		var one corev1.Pod
		if err := json.Unmarshal([]byte(out), &one); err != nil {
			t.Fatalf("get pods -o json: %v\n%s", err, out)
		}
		list.Items = []corev1.Pod{one}
	}
	return list.Items
}

func running(ps []corev1.Pod) (n int) {
	for _, p := range ps {
		if p.Status.Phase == corev1.PodRunning {
			n++
		}
	}
	return n
}

func hashes(ps []corev1.Pod) map[string]int {
	out := map[string]int{}
	for _, p := range ps {
		out[p.Labels["pod-template-hash"]]++
	}
	return out
}

// watchRollout samples the Deployment's pods while f runs (an apply that
// rolls out), and returns the largest number of pods seen at once, the
// smallest number running, and whether pods of two templates ran together.
func watchRollout(t *testing.T, app string, f func()) (maxPods, minRunning int, mixed bool) {
	t.Helper()
	var mu sync.Mutex
	minRunning = 1 << 30
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			out, err := exec.Command(podsimBin, "get", "pods", "-l", "app="+app, "-o", "json").Output()
			var list corev1.PodList
			if err != nil || json.Unmarshal(out, &list) != nil {
				continue // a single pod prints as one object: not a rollout moment that matters here
			}
			mu.Lock()
			maxPods = max(maxPods, len(list.Items))
			minRunning = min(minRunning, running(list.Items))
			if len(hashes(list.Items)) > 1 {
				mixed = true
			}
			mu.Unlock()
			time.Sleep(50 * time.Millisecond)
		}
	}()
	f()
	close(stop)
	wg.Wait()
	return maxPods, minRunning, mixed
}

// TestIntegrationDeploymentController: a Deployment keeps its replicas (a
// deleted pod is replaced by the agent's controller, in a new sandbox),
// rolls out within maxSurge/maxUnavailable, Recreate never runs two
// templates at once, and a paused Deployment rolls nothing out.
func TestIntegrationDeploymentController(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	const app = "keeper"
	t.Cleanup(func() { podsim(t, "", "delete", "deployment", app, "--grace-period=1") })
	rolling := "    type: RollingUpdate\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}"
	mustPodsim(t, "apply", "-f", writeManifest(t, deploymentYAML(app, 3, "1", rolling, false)))
	pods := deploymentPods(t, app)
	if running(pods) != 3 {
		t.Fatalf("want 3 running pods, got %d", running(pods))
	}

	// 1. A deleted pod is replaced (ReplicaSet behaviour), with a new
	// sandbox: its pod cgroup and network namespace are new.
	gone := pods[0]
	mustPodsim(t, "delete", "pod", gone.Name, "--grace-period=1")
	waitFor(t, 60*time.Second, "the controller to replace the deleted pod", func() bool {
		ps := deploymentPods(t, app)
		return len(ps) == 3 && running(ps) == 3
	})
	// Each pod is its own sandbox (three network namespaces), and nothing
	// of the deleted one runs on (its pod cgroup is empty or gone). Inode
	// numbers are not compared with the deleted pod's: the kernel reuses
	// a freed namespace's inode.
	nets := map[string]string{}
	for _, p := range deploymentPods(t, app) {
		if p.Name == gone.Name || p.UID == gone.UID {
			t.Fatalf("the deleted pod %s is back", gone.Name)
		}
		n := nsInode(t, firstPID(t, p), "net")
		if other, ok := nets[n]; ok {
			t.Fatalf("pods %s and %s share the network namespace %s", p.Name, other, n)
		}
		nets[n] = p.Name
	}
	if left := containerPIDs(t, string(gone.UID)); len(left) > 0 {
		t.Fatalf("processes of the deleted pod still run in its cgroup: %v", left)
	}

	// 2. RollingUpdate maxSurge 1, maxUnavailable 0: never more than 4
	// pods, never fewer than 3 running, and it ends with 3 new ones.
	maxPods, minRun, _ := watchRollout(t, app, func() {
		mustPodsim(t, "apply", "-f", writeManifest(t, deploymentYAML(app, 3, "2", rolling, false)))
	})
	if maxPods > 4 || minRun < 3 {
		t.Fatalf("rolling update broke its bounds: up to %d pods (maxSurge 1 allows 4), down to %d running (maxUnavailable 0 needs 3)", maxPods, minRun)
	}
	pods = deploymentPods(t, app)
	if h := hashes(pods); len(h) != 1 || running(pods) != 3 {
		t.Fatalf("after the rollout want 3 running pods of one template, got %v", h)
	}
	v2 := pods[0].Labels["pod-template-hash"]

	// 3. Recreate: the old pods are gone before a new one starts.
	_, _, mixed := watchRollout(t, app, func() {
		mustPodsim(t, "apply", "-f", writeManifest(t, deploymentYAML(app, 2, "3", "    type: Recreate", false)))
	})
	if mixed {
		t.Fatal("Recreate ran pods of the old and the new template at the same time")
	}
	pods = deploymentPods(t, app)
	v3 := pods[0].Labels["pod-template-hash"]
	if h := hashes(pods); len(h) != 1 || v3 == v2 || running(pods) != 2 {
		t.Fatalf("after Recreate want 2 running pods of a new template, got %v", h)
	}

	// 4. Paused: a new template is stored but not rolled out; scaling
	// still acts on the current pods; unpausing rolls out.
	mustPodsim(t, "apply", "-f", writeManifest(t, deploymentYAML(app, 1, "4", rolling, true)))
	pods = deploymentPods(t, app)
	if h := hashes(pods); len(pods) != 1 || h[v3] != 1 {
		t.Fatalf("paused: want 1 pod of the rolled-out template %s, got %v", v3, h)
	}
	mustPodsim(t, "apply", "-f", writeManifest(t, deploymentYAML(app, 1, "4", rolling, false)))
	pods = deploymentPods(t, app)
	if h := hashes(pods); len(pods) != 1 || h[v3] != 0 {
		t.Fatalf("unpaused: want 1 pod of the new template, got %v", h)
	}
	if out := mustPodsim(t, "exec", pods[0].Name, "--", "sh", "-c", "echo $VERSION"); strings.TrimSpace(out) != "4" {
		t.Fatalf("the rolled-out pod runs template VERSION %q, want 4", out)
	}
}

// firstPID is the host PID of the pod's first app container, from the
// pod's cgroup on the host.
func firstPID(t *testing.T, p corev1.Pod) int {
	t.Helper()
	ids := map[string]bool{}
	for _, s := range p.Status.ContainerStatuses {
		ids[strings.TrimPrefix(s.ContainerID, "containerd://")] = true
	}
	for id, pid := range containerPIDs(t, string(p.UID)) {
		if ids[id] {
			return pid
		}
	}
	t.Fatalf("no process of pod %s's containers in its cgroup on the host", p.Name)
	return 0
}
