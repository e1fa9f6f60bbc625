package integration

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/podsim/podsim/scenarios"
)

// skipReasons are the only reasons a check may be skipped on the local
// cluster of hack/cluster: no DNS/kube-proxy (Services), podsim's own
// record (a single claim such as the netns pin), ephemeral containers
// through podsim's runtime, and the node's loopback address (the local
// node is 127.0.0.1).
var skipReasons = []string{
	"no DNS Service (kube-system/kube-dns)",
	"podsim's own record of the pod",
	"ephemeral debug containers are added with podsim's runtime",
	"a loopback address every network namespace has",
}

// wholeScenarioSkips are the only reasons a whole scenario may be skipped
// on the local cluster (its containerd 1.6 has no user namespaces and no
// runsc handler), by the scenario they apply to.
var wholeScenarioSkips = map[string]string{
	"user-namespace": "reports no user namespace support",
	"runtime-class":  "has no RuntimeClass gvisor",
}

// passOnCluster are scenarios whose every check runs or is skipped claim
// by claim on the local cluster: each must end PASS.
var passOnCluster = []string{"probes", "restart-keeps-network", "native-sidecar", "downward-api"}

// mustPassOnCluster are claims the scenarios check with podsim that must
// also PASS on the real kubelet: the kernel's namespaces, socket tables,
// mountinfo and cgroup files read through the node-reader pod, and the
// exec checks through the API server.
var mustPassOnCluster = []string{
	"c2 reads the file c1 wrote to the shared volume",
	"kernel: c1 and c2 are in different mount namespaces, neither the host's",
	"kernel: /shared/bar is the same inode in c1 and in c2",
	"c2 shows the same eth0 with the same MAC address",
	"kernel: pause, c1 and c2 are in one network namespace (the pinned one), not the host's",
	"c2 connects to localhost:5000 and gets c1's date",
	"kernel: pause, c1 and c2 each have their own PID namespace",
	"kernel: pause, c1 and c2 are in one PID namespace",
	"c2 cannot listen on the same port: address in use",
	"kernel: podtest-host's pause, c1 and c2 are in the host's net namespace",
	"kernel: steady's limits (64Mi, 500m CPU) are in its cgroup files",
	"kernel: BestEffort, Burstable and Guaranteed pods sit in kubelet's QoS tiers",
	"hog is OOM-killed",
	"kernel: /logs is a read-only bind mount in the sidecar's mount namespace",
	"vm.max_map_count is node-wide, not namespaced",
	"kernel: Elasticsearch itself is not privileged",
	"a variant whose init fails: the init container is restarted with back-off (Init:Error, Init:CrashLoopBackOff), and myapp never starts",
	"the reload sidecar noticed the swap without a restart",
	"the app talks to the cache over localhost",
	"before /tmp/ready exists the readiness probe fails (an Unhealthy event) and the pod is not ready",
	"once the probe passes the pod is Ready",
	"a failing liveness probe restarts the container: RESTARTS 1, a new process, in the same network namespace",
	"kernel: the new attempt's process is in the pause's network namespace",
	"host: the emptyDir kept every run's line",
	"logs --previous shows the last finished run",
	"after a second crash it waits out kubelet's back-off: CrashLoopBackOff",
	"kernel: a new network namespace (another inode, the old one held open meanwhile), and steady's new process is in it",
	"events: SandboxChanged, as kubelet records it",
	"kernel: the log shipper's process started before main's",
	"the pod completes (phase Succeeded) when main does",
	"kernel: the sidecar's process is gone",
	"kernel: the process's environment block, read from the host, holds the same values",
	"kernel: the container's memory cgroup limit is the file's 64 MiB",
	"the mounted file has the new labels, through a new ..data directory",
	"kernel: the host reads the new file through the container's mount namespace",
}

// TestIntegrationRunAllKubeconfig brings the local cluster up and runs
// every scenario on it (podsim run all --kubeconfig): the claims that pass
// with podsim's own pods (TestIntegrationScenarios) must pass on the real
// kubelet, and a check may only be skipped for a reason named above. Then
// it brings the cluster down and checks that nothing is left, also no
// scenario namespace and no node-reader pod.
func TestIntegrationRunAllKubeconfig(t *testing.T) {
	c := requireCluster(t)
	t.Cleanup(func() {
		out, err := c.script("down.sh")
		if err != nil {
			t.Errorf("cluster-down: %v\n%s", err, out)
		}
		if _, err := os.Stat("/sys/class/net/" + c.env["CLUSTER_BRIDGE"]); err == nil {
			t.Errorf("bridge %s is still there after cluster-down", c.env["CLUSTER_BRIDGE"])
		}
		if _, err := os.Stat(c.env["CLUSTER_STATE"]); err == nil {
			t.Errorf("state dir %s is still there", c.env["CLUSTER_STATE"])
		}
	})
	start := time.Now()
	if out, err := c.script("up.sh"); err != nil {
		t.Fatalf("cluster-up: %v\n%s", err, out)
	}
	t.Logf("cluster-up took %s", time.Since(start).Round(100*time.Millisecond))
	before, _ := os.ReadFile("/proc/sys/vm/max_map_count")

	start = time.Now()
	r := podsim(t, "", "run", "all", "--kubeconfig", c.env["KUBECONFIG"])
	t.Logf("podsim run all --kubeconfig took %s\n%s", time.Since(start).Round(100*time.Millisecond), r.stdout)
	if r.code != 0 {
		t.Errorf("podsim run all --kubeconfig: %s", r)
	}
	if strings.Contains(r.stdout, "[FAIL]") {
		t.Errorf("a check failed on the cluster")
	}
	// Every scenario ends PASS (or SKIP when the cluster can do none of its
	// checks) in the summary table.
	for _, s := range scenarios.Registry() {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(s.Name) + `\s+\d+/\d+\s+(PASS|SKIP)\s`)
		if !re.MatchString(r.stdout) {
			t.Errorf("scenario %s is not PASS/SKIP in the summary", s.Name)
		}
	}
	for _, name := range passOnCluster {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+\d+/\d+\s+PASS\s`)
		if !re.MatchString(r.stdout) {
			t.Errorf("scenario %s did not PASS on the cluster", name)
		}
	}
	for _, claim := range mustPassOnCluster {
		// A claim's text, at the start of a PASS line or after the
		// command it names ("after 'podsim label …' the mounted file …").
		if !regexp.MustCompile(`(?m)^\[PASS\] (.* )?` + regexp.QuoteMeta(claim)).MatchString(r.stdout) {
			t.Errorf("claim %q did not PASS on the cluster", claim)
		}
	}
	// Each skip names its reason, one of the known ones.
	lines := strings.Split(r.stdout, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "[SKIP] ") || i+1 >= len(lines) {
			continue
		}
		why := lines[i+1]
		// A whole scenario ("[SKIP] scenario NAME") only for its capability.
		if name, ok := strings.CutPrefix(l, "[SKIP] scenario "); ok {
			if k := wholeScenarioSkips[name]; k == "" || !strings.Contains(why, k) {
				t.Errorf("%s: a whole scenario skipped for a reason that is not its capability's (%q): %s", l, k, strings.TrimSpace(why))
			}
			continue
		}
		known := false
		for _, k := range skipReasons {
			known = known || strings.Contains(why, k)
		}
		if !known {
			t.Errorf("%s: skipped for an unexpected reason: %s", l, strings.TrimSpace(why))
		}
	}
	// The node-wide sysctl the init-sysctl scenario changes is put back.
	if after, _ := os.ReadFile("/proc/sys/vm/max_map_count"); string(after) != string(before) {
		t.Errorf("vm.max_map_count was %s before the run, %s after", before, after)
	}
	// Nothing of the scenarios is left in the cluster.
	out, err := exec.Command(c.env["KUBECTL"], "--kubeconfig", c.env["KUBECONFIG"], "get", "namespaces,pods", "-A", "-o", "name").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "podsim-") {
			t.Errorf("left in the cluster: %s", l)
		}
	}
}
