package integration

import (
	"fmt"
	"github.com/podsim/podsim/scenarios"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// podtest is the article's pod-multiple-containers.yaml.
const podtest = scenarios.PodTestYAML

// TestIntegrationScenarios runs what the README's demo runs.
func TestIntegrationScenarios(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	r := podsim(t, "", "run", "all")
	if r.code != 0 {
		t.Fatalf("podsim run all: %s", r)
	}
	for _, s := range []string{"shared-volume", "shared-localhost", "isolated-ps", "port-conflict", "host-namespaces", "debug-container", "downward-api"} {
		if !regexp.MustCompile(`(?m)^` + s + `\s+\d+/\d+\s+PASS`).MatchString(r.stdout) {
			t.Errorf("scenario %s did not PASS:\n%s", s, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "[FAIL]") {
		t.Errorf("a check failed:\n%s", r.stdout)
	}
}

// TestIntegrationPodtestKernel builds the article's pod and checks the
// kernel objects with host tools: the pinned netns with ip, namespaces of
// the container processes found through the pod cgroup, one shim per pod.
func TestIntegrationPodtestKernel(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	applyPod(t, podtest, "podtest")

	pod := getPod(t, "podtest")
	if pod.Status.Phase != "Running" || len(pod.Status.ContainerStatuses) != 2 || pod.Status.PodIP == "" {
		t.Fatalf("status = %+v", pod.Status)
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Running == nil || !cs.Ready {
			t.Errorf("container %s not running: %+v", cs.Name, cs.State)
		}
	}

	// The netns pin, seen by iproute2; its eth0 has the pod IP and the MAC c1 and c2 see.
	var netnsName string
	for _, l := range strings.Split(run(t, "ip", "netns", "list"), "\n") {
		if strings.HasPrefix(l, "podsim-podtest-") {
			netnsName = strings.Fields(l)[0]
		}
	}
	if netnsName == "" {
		t.Fatal("no podsim-podtest-* netns in 'ip netns list'")
	}
	addr := run(t, "ip", "-n", netnsName, "addr", "show", "eth0")
	if !strings.Contains(addr, "inet "+pod.Status.PodIP+"/") {
		t.Errorf("ip -n %s addr: %s does not have pod IP %s", netnsName, addr, pod.Status.PodIP)
	}
	mac := regexp.MustCompile(`link/ether (\S+)`).FindStringSubmatch(addr)
	if mac == nil {
		t.Fatalf("no MAC in %s", addr)
	}
	for _, c := range []string{"c1", "c2"} {
		out := mustPodsim(t, "exec", "podtest", "-c", c, "--", "ip", "link")
		if !strings.Contains(out, mac[1]) {
			t.Errorf("%s's ip link does not show eth0 MAC %s:\n%s", c, mac[1], out)
		}
	}

	// Namespaces of the processes, found through the pod cgroup.
	pids := containerPIDs(t, string(pod.UID))
	c1ID := strings.TrimPrefix(pod.Status.ContainerStatuses[0].ContainerID, "containerd://")
	sandboxID := strings.TrimSuffix(c1ID, "-c1")
	pause, c1, c2 := pids[sandboxID], pids[sandboxID+"-c1"], pids[sandboxID+"-c2"]
	if pause == 0 || c1 == 0 || c2 == 0 {
		t.Fatalf("pids from the pod cgroup = %v (sandbox %s)", pids, sandboxID)
	}
	pinIno := run(t, "stat", "-L", "-c", "%i", "/run/netns/"+netnsName)
	for _, typ := range []string{"net", "ipc", "uts"} {
		p, a, b := nsInode(t, pause, typ), nsInode(t, c1, typ), nsInode(t, c2, typ)
		if p != a || a != b {
			t.Errorf("%s: pause %s c1 %s c2 %s, want one shared namespace", typ, p, a, b)
		}
		if a == nsInode(t, 0, typ) {
			t.Errorf("%s namespace of the pod is the host's", typ)
		}
	}
	if !strings.Contains(nsInode(t, c1, "net"), "["+strings.TrimSpace(pinIno)+"]") {
		t.Errorf("pod netns %s is not the pinned %s (inode %s)", nsInode(t, c1, "net"), netnsName, pinIno)
	}
	for _, typ := range []string{"mnt", "pid"} {
		p, a, b := nsInode(t, pause, typ), nsInode(t, c1, typ), nsInode(t, c2, typ)
		if p == a || a == b || p == b {
			t.Errorf("%s: pause %s c1 %s c2 %s, want three different namespaces", typ, p, a, b)
		}
	}
	// Hostname = pod name, from the shared UTS namespace.
	if out := mustPodsim(t, "exec", "podtest", "-c", "c2", "--", "hostname"); strings.TrimSpace(out) != "podtest" {
		t.Errorf("hostname in c2 = %q", out)
	}

	// One shim per pod: every process of the pod descends from the same shim.
	shims := map[int]bool{}
	for _, pid := range []int{pause, c1, c2} {
		shims[parentPID(t, pid)] = true
	}
	if len(shims) != 1 {
		t.Errorf("pod processes have %d different parent shims: %v", len(shims), shims)
	}
	for s := range shims {
		cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", s))
		if !strings.Contains(string(cl), "containerd-shim-runc-v2") {
			t.Errorf("parent of the pod's processes is %q, not a runc v2 shim", cl)
		}
	}

	// The pod cgroup exists in the kernel, with one child per container.
	if len(pids) != 3 {
		t.Errorf("pod cgroup has %d container cgroups, want 3 (pause, c1, c2): %v", len(pids), pids)
	}
	// podtest is BestEffort: kubelet's besteffort QoS tier.
	mem := filepath.Join("/sys/fs/cgroup/memory/podsim/besteffort", "pod"+strings.ReplaceAll(string(pod.UID), "-", "_"))
	if _, err := os.Stat("/sys/fs/cgroup/memory"); err == nil {
		if _, err := os.Stat(mem); err != nil {
			t.Errorf("pod memory cgroup missing: %v", err)
		}
	}

	// exec: exit codes, stdin, article commands.
	if r := podsim(t, "", "exec", "podtest", "-c", "c1", "--", "sh", "-c", "exit 7"); r.code != 7 {
		t.Errorf("exec exit code = %d, want 7", r.code)
	}
	if r := podsim(t, "a\nb\nc\n", "exec", "-i", "podtest", "-c", "c2", "--", "wc", "-l"); strings.TrimSpace(r.stdout) != "3" {
		t.Errorf("exec -i wc -l = %s", r)
	}
	mustPodsim(t, "exec", "podtest", "--container", "c1", "--", "sh", "-c", "echo bar > /shared/bar")
	if out := mustPodsim(t, "exec", "podtest", "-c", "c2", "--", "cat", "/shared/bar"); out != "bar\n" {
		t.Errorf("c2 read %q from the shared volume", out)
	}
	if r := podsim(t, "", "exec", "podtest", "-c", "c3", "--", "true"); r.code == 0 || !strings.Contains(r.stderr, "choose one of [c1 c2]") {
		t.Errorf("exec into a missing container: %s", r)
	}

	// exec -it through a real pseudo-terminal (script(1) allocates one).
	if _, err := os.Stat("/usr/bin/script"); err == nil {
		out := run(t, "script", "-qec", podsimBin+" exec -it podtest --container c1 -- sh -c 'tty; exit 0'", "/dev/null")
		if !strings.Contains(out, "/dev/pts/") {
			t.Errorf("exec -it: no terminal in the container: %q", out)
		}
	}

	// inspect shows the relation the kernel has.
	insp := mustPodsim(t, "inspect", "podtest")
	if !regexp.MustCompile(`(?m)^c1\s+\d+\s+\d+ shared\s+\d+ shared\s+\d+ shared\s+\d+ own\s+\d+ own`).MatchString(insp) {
		t.Errorf("inspect table does not show c1 sharing net/ipc/uts and owning pid/mnt:\n%s", insp)
	}
}

func parentPID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// pid (comm) state ppid ...
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var ppid int
	fmt.Sscan(f[1], &ppid)
	return ppid
}

// TestIntegrationDeleteLeavesNothing creates and deletes the pod and checks
// that each kernel object is gone, read with host tools.
func TestIntegrationDeleteLeavesNothing(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	p := writeManifest(t, podtest)
	mustPodsim(t, "apply", "-f", p)
	pod := getPod(t, "podtest")
	pids := containerPIDs(t, string(pod.UID))
	mustPodsim(t, "delete", "-f", p)
	for id, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if !strings.Contains(string(st), ") Z ") {
				t.Errorf("process %d of container %s still runs after delete", pid, id)
			}
		}
	}
	if r := podsim(t, "", "get", "pod", "podtest"); r.code == 0 {
		t.Errorf("pod still listed after delete: %s", r)
	}
	if r := podsim(t, "", "delete", "pod", "podtest"); r.code == 0 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("second delete: %s", r)
	}
	// The bridge outlives its last pod (as cni0 on a node), with nothing
	// plugged in; gc then removes it, and the next pod makes it again.
	if ports := run(t, "ip", "-o", "link", "show", "master", "podsim0"); strings.TrimSpace(ports) != "" {
		t.Errorf("podsim0 still has ports after the last pod went:\n%s", ports)
	}
	if out := mustPodsim(t, "gc"); !strings.Contains(out, "removed bridge podsim0") {
		t.Errorf("gc with no pod left did not remove the idle bridge:\n%s", out)
	}
	if err := exec.Command("ip", "link", "show", "podsim0").Run(); err == nil {
		t.Error("podsim0 still exists after gc")
	}
}

// TestIntegrationLogsAndInit: an init container prepares the shared volume
// (the article's init pattern), logs are kept per container.
func TestIntegrationLogsAndInit(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata:
  name: initpod
spec:
  initContainers:
  - name: get-secret
    image: busybox
    command: ['/bin/sh']
    args: ['-c', 'echo s3cr3t > /secrets/my-secret; echo init done']
    volumeMounts:
    - {name: secrets, mountPath: /secrets}
  containers:
  - name: myapp
    image: busybox
    command: ['sh', '-c', 'cat /secrets/my-secret; echo to-stderr >&2; exec sleep 5000']
    volumeMounts:
    - {name: secrets, mountPath: /secrets}
  volumes:
  - name: secrets
    emptyDir: {}
`, "initpod")
	pod := getPod(t, "initpod")
	if len(pod.Status.InitContainerStatuses) != 1 || pod.Status.InitContainerStatuses[0].State.Terminated == nil ||
		pod.Status.InitContainerStatuses[0].State.Terminated.ExitCode != 0 {
		t.Fatalf("init status = %+v", pod.Status.InitContainerStatuses)
	}
	if out := mustPodsim(t, "logs", "initpod", "-c", "get-secret"); out != "init done\n" {
		t.Errorf("init logs = %q", out)
	}
	var out string
	for i := 0; i < 50; i++ { // the app writes right after start
		out = mustPodsim(t, "logs", "initpod", "myapp")
		if strings.Count(out, "\n") >= 2 {
			break
		}
		waitABit()
	}
	if !strings.Contains(out, "s3cr3t\n") || !strings.Contains(out, "to-stderr\n") {
		t.Errorf("app logs = %q", out)
	}
	if out := mustPodsim(t, "logs", "initpod", "--tail", "1"); strings.Count(out, "\n") != 1 {
		t.Errorf("--tail 1 = %q", out)
	}
	// The file on disk is in CRI format.
	files, _ := filepath.Glob("/var/log/podsim/pods/default_initpod_*/myapp/0.log")
	if len(files) != 1 {
		t.Fatalf("log files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	if !regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\S+Z (stdout|stderr) F s3cr3t$`).Match(b) {
		t.Errorf("log file is not CRI format: %q", b)
	}
}

// TestIntegrationInitFailure: a failing init container stops the pod (Init:Error), the command fails.
func TestIntegrationInitFailure(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	p := writeManifest(t, `apiVersion: v1
kind: Pod
metadata:
  name: initfail
spec:
  initContainers:
  - {name: boom, image: busybox, command: ['sh', '-c', 'echo failing; exit 3']}
  containers:
  - {name: app, image: busybox, command: ['sleep', '5000']}
`)
	t.Cleanup(func() { podsim(t, "", "delete", "pod", "initfail") })
	r := podsim(t, "", "apply", "-f", p)
	if r.code == 0 || !strings.Contains(r.stderr, "init container boom exited with 3") {
		t.Fatalf("apply: %s", r)
	}
	if out := mustPodsim(t, "get", "pods", "initfail"); !strings.Contains(out, "Init:Error") {
		t.Errorf("get pods: %s", out)
	}
	if out := mustPodsim(t, "logs", "initfail", "-c", "boom"); out != "failing\n" {
		t.Errorf("logs = %q", out)
	}
}

// TestIntegrationDeployment: naming, re-apply with a changed template replaces the pod, delete.
func TestIntegrationDeployment(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	dep := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: busybox
        command: ['sleep', '5000']
        env: [{name: VERSION, value: "1"}]
`
	p := writeManifest(t, dep)
	t.Cleanup(func() { podsim(t, "", "delete", "deployment", "web", "--grace-period=1") })
	if out := mustPodsim(t, "apply", "-f", p); out != "deployment.apps/web created\n" {
		t.Errorf("apply: %q", out)
	}
	names1 := strings.Fields(mustPodsim(t, "get", "pods", "-l", "app=web", "-o", "name"))
	if len(names1) != 2 {
		t.Fatalf("pods = %v", names1)
	}
	for _, n := range names1 {
		if !regexp.MustCompile(`^pod/web-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$`).MatchString(n) {
			t.Errorf("pod name %q is not <deploy>-<hash>-<suffix>", n)
		}
	}
	if out := mustPodsim(t, "get", "deployments"); !regexp.MustCompile(`web\s+2/2`).MatchString(out) {
		t.Errorf("get deployments: %s", out)
	}
	if out := mustPodsim(t, "apply", "-f", p); out != "deployment.apps/web unchanged\n" {
		t.Errorf("re-apply: %q", out)
	}
	if out := mustPodsim(t, "exec", "deploy/web", "--", "sh", "-c", "echo $VERSION"); out != "1\n" {
		t.Errorf("exec deploy/web: %q", out)
	}
	p2 := writeManifest(t, strings.Replace(dep, `value: "1"`, `value: "2"`, 1))
	if out := mustPodsim(t, "apply", "-f", p2); out != "deployment.apps/web configured\n" {
		t.Errorf("apply changed: %q", out)
	}
	names2 := strings.Fields(mustPodsim(t, "get", "pods", "-l", "app=web", "-o", "name"))
	if len(names2) != 2 || names2[0] == names1[0] || names2[0] == names1[1] {
		t.Errorf("pods after template change = %v (before %v)", names2, names1)
	}
	if out := mustPodsim(t, "exec", "deploy/web", "--", "sh", "-c", "echo $VERSION"); out != "2\n" {
		t.Errorf("new pod env: %q", out)
	}
	mustPodsim(t, "delete", "deployment", "web")
	if out := mustPodsim(t, "get", "pods", "-l", "app=web", "-o", "name"); out != "" {
		t.Errorf("pods left: %q", out)
	}
}

// TestIntegrationNetSysctlOnEth0: a pod sysctl of eth0 itself
// (net.ipv4.conf.eth0.*) is written by runc as the pause starts, so podsim
// must have finished CNI ADD by then (it otherwise overlaps the two). Read
// back from inside the container and from the pinned netns with ip netns.
func TestIntegrationNetSysctlOnEth0(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata:
  name: sysctl-eth0
spec:
  securityContext:
    sysctls:
    - {name: net.ipv4.conf.eth0.arp_ignore, value: "2"}
    - {name: net.ipv4.ip_unprivileged_port_start, value: "80"}
  containers:
  - name: c
    image: busybox
    command: ['sleep', '5000']
`, "sysctl-eth0")
	if out := mustPodsim(t, "exec", "sysctl-eth0", "--", "cat", "/proc/sys/net/ipv4/conf/eth0/arp_ignore", "/proc/sys/net/ipv4/ip_unprivileged_port_start"); out != "2\n80\n" {
		t.Errorf("sysctls seen in the pod: %q, want 2 and 80", out)
	}
	pod := getPod(t, "sysctl-eth0")
	var pin string
	for _, l := range strings.Split(run(t, "ip", "netns", "list"), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "podsim-sysctl-eth0-") {
			pin = f[0]
		}
	}
	if pin == "" {
		t.Fatalf("no netns pin for pod %s", pod.UID)
	}
	if out := strings.TrimSpace(run(t, "ip", "netns", "exec", pin, "cat", "/proc/sys/net/ipv4/conf/eth0/arp_ignore")); out != "2" {
		t.Errorf("arp_ignore of eth0 in %s: %q, want 2", pin, out)
	}
}
