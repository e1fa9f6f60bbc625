package integration

import (
	"fmt"
	"math/rand"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/cgroups"
)

// pidOf is a container's host PID, found through the pod cgroup.
func pidOf(t *testing.T, p *corev1.Pod, name string) int {
	t.Helper()
	pid := containerPIDs(t, string(p.UID))[strings.TrimPrefix(containerStatus(p, name).ContainerID, "containerd://")]
	if pid == 0 {
		t.Fatalf("pod %s: container %s's process not found in the pod cgroup", p.Name, name)
	}
	return pid
}

// statusField reads one field of /proc/<pid>/status ("Seccomp").
func statusField(t *testing.T, pid int, field string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("/proc/%d/status has no %s field", pid, field)
	return ""
}

// refused applies a manifest that must be refused: exit != 0, the message
// contains want, and (checkNoLeaks) nothing is left.
func refused(t *testing.T, y, want string) {
	t.Helper()
	r := podsim(t, "", "apply", "-f", writeManifest(t, y))
	if r.code == 0 || !strings.Contains(r.stderr, want) {
		t.Errorf("apply: want a non-zero exit and %q:\n%s", want, r)
	}
}

// TestIntegrationSeccompProcMount: seccompProfile as kubelet and CRI apply
// it, read from the kernel (the Seccomp: field of /proc/<pid>/status: 0
// none, 2 a filter): containerd's RuntimeDefault profile, a Localhost
// profile file that denies mkdir (and mkdir fails inside), nothing set is
// Unconfined (kubelet 1.34's default); procMount Default masks kubelet's
// paths (mountinfo); refusals: a missing Localhost file, procMount
// Unmasked without hostUsers: false, AppArmor where the kernel has none.
func TestIntegrationSeccompProcMount(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	root := "/var/lib/podsim/seccomp"
	name := fmt.Sprintf("podsim-test-%d.json", rand.Int63())
	_, statErr := os.Stat(root)
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Remove(filepath.Join(root, name))
		if statErr != nil {
			os.Remove(root) // made here: removed again (only if empty)
		}
	})
	prof := `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`
	if err := os.WriteFile(filepath.Join(root, name), []byte(prof), 0o644); err != nil {
		t.Fatal(err)
	}
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: secpod}
spec:
  restartPolicy: Never
  containers:
  - name: def
    image: busybox
    command: ['sleep', '3600']
    securityContext:
      seccompProfile: {type: RuntimeDefault}
      procMount: Default
  - name: plain
    image: busybox
    command: ['sleep', '3600']
  - name: local
    image: busybox
    command: ['sleep', '3600']
    securityContext:
      seccompProfile: {type: Localhost, localhostProfile: `+name+`}
  - name: unconfined
    image: busybox
    command: ['sleep', '3600']
    securityContext:
      seccompProfile: {type: Unconfined}
`, "secpod")
	p := getPod(t, "secpod")
	for c, want := range map[string]string{"def": "2", "plain": "0", "local": "2", "unconfined": "0"} {
		pid := pidOf(t, p, c)
		if got := statusField(t, pid, "Seccomp"); got != want {
			t.Errorf("container %s (pid %d): /proc/<pid>/status Seccomp: %s, want %s", c, pid, got, want)
		}
	}
	if r := podsim(t, "", "exec", "secpod", "-c", "local", "--", "mkdir", "/tmp/x"); r.code == 0 || !strings.Contains(r.stdout+r.stderr, "Operation not permitted") {
		t.Errorf("mkdir under the Localhost profile: want EPERM:\n%s", r)
	}
	if r := podsim(t, "", "exec", "secpod", "-c", "plain", "--", "mkdir", "/tmp/x"); r.code != 0 {
		t.Errorf("mkdir without a profile: %s", r)
	}
	// procMount Default: kubelet's masked paths that this kernel has are
	// mounts (of /dev/null) over /proc in the container's mount namespace.
	mi, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pidOf(t, p, "def")))
	if err != nil {
		t.Fatal(err)
	}
	for _, masked := range []string{"/proc/interrupts", "/proc/keys", "/proc/timer_list"} {
		if _, err := os.Stat(masked); err == nil && !strings.Contains(string(mi), " "+masked+" ") {
			t.Errorf("procMount Default: %s is not masked in the container's mountinfo", masked)
		}
	}

	refused(t, `apiVersion: v1
kind: Pod
metadata: {name: secmissing}
spec:
  containers:
  - name: c
    image: busybox
    securityContext:
      seccompProfile: {type: Localhost, localhostProfile: nope/missing.json}
`, root+"/nope/missing.json")
	refused(t, `apiVersion: v1
kind: Pod
metadata: {name: secunmasked}
spec:
  containers:
  - name: c
    image: busybox
    securityContext: {procMount: Unmasked}
`, "`hostUsers` must be false to use `Unmasked`")
	if b, _ := os.ReadFile("/sys/module/apparmor/parameters/enabled"); !strings.HasPrefix(string(b), "Y") {
		refused(t, `apiVersion: v1
kind: Pod
metadata: {name: secaa}
spec:
  securityContext:
    appArmorProfile: {type: RuntimeDefault}
  containers:
  - name: c
    image: busybox
`, "spec.securityContext.appArmorProfile: AppArmor is not enabled on the host")
	}
}

// TestIntegrationDNSPolicy: the pod's resolv.conf, read on the host
// through the container's root (/proc/<pid>/root/etc/resolv.conf), for
// dnsPolicy Default (the node's), None (dnsConfig only) and ClusterFirst
// with dnsConfig merged as kubelet merges it; too many nameservers are
// refused with nothing left.
func TestIntegrationDNSPolicy(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: dnsdefault}
spec:
  restartPolicy: Never
  dnsPolicy: Default
  containers:
  - {name: c, image: busybox, command: ['sleep', '3600']}
---
apiVersion: v1
kind: Pod
metadata: {name: dnsnone}
spec:
  restartPolicy: Never
  dnsPolicy: None
  dnsConfig:
    nameservers: [192.0.2.53]
    searches: [corp.example]
    options: [{name: ndots, value: "2"}]
  containers:
  - {name: c, image: busybox, command: ['sleep', '3600']}
---
apiVersion: v1
kind: Pod
metadata: {name: dnscluster}
spec:
  restartPolicy: Never
  dnsConfig:
    nameservers: [192.0.2.54]
    searches: [extra.example]
    options: [{name: ndots, value: "3"}, {name: edns0}]
  containers:
  - {name: c, image: busybox, command: ['sleep', '3600']}
`, "dnsdefault", "dnsnone", "dnscluster")
	resolv := func(pod string) string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/etc/resolv.conf", pidOf(t, getPod(t, pod), "c")))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got, want := resolv("dnsnone"), "search corp.example\nnameserver 192.0.2.53\noptions ndots:2\n"; got != want {
		t.Errorf("dnsPolicy None: resolv.conf\n%s\nwant\n%s", got, want)
	}
	cl := resolv("dnscluster")
	for _, want := range []string{"search default.svc.cluster.local svc.cluster.local cluster.local", " extra.example\n", "nameserver 192.0.2.54\n", "options ndots:3 edns0\n"} {
		if !strings.Contains(cl, want) {
			t.Errorf("ClusterFirst with dnsConfig: resolv.conf lacks %q:\n%s", want, cl)
		}
	}
	def := resolv("dnsdefault")
	node, _ := os.ReadFile("/etc/resolv.conf")
	if _, err := os.Stat("/run/systemd/resolve/resolv.conf"); err == nil {
		node, _ = os.ReadFile("/run/systemd/resolve/resolv.conf")
	}
	for _, l := range strings.Split(string(node), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "nameserver" && !strings.Contains(def, "nameserver "+f[1]+"\n") {
			t.Errorf("dnsPolicy Default: resolv.conf lacks the node's %q:\n%s", l, def)
		}
	}
	if strings.Contains(def, "cluster.local") {
		t.Errorf("dnsPolicy Default: the cluster search path is there:\n%s", def)
	}
	refused(t, `apiVersion: v1
kind: Pod
metadata: {name: dnsbad}
spec:
  dnsConfig:
    nameservers: [192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4]
  containers:
  - {name: c, image: busybox}
`, "spec.dnsConfig.nameservers: must not have more than 3 nameservers")
}

// TestIntegrationPodCgroupSizing: the pod cgroup's limits as kubelet's
// ResourceConfigForPod writes them, read from the host's cgroup files: the
// largest init container beats the apps' sum, spec.overhead is added, the
// requests set cpu.shares; a container without a memory limit leaves the
// pod without one.
func TestIntegrationPodCgroupSizing(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: sized}
spec:
  restartPolicy: Never
  overhead: {memory: 8Mi, cpu: 20m}
  initContainers:
  - name: init
    image: busybox
    command: ['true']
    resources: {limits: {memory: 96Mi, cpu: 300m}}
  containers:
  - name: c1
    image: busybox
    command: ['sleep', '3600']
    resources: {requests: {cpu: 50m}, limits: {memory: 32Mi, cpu: 100m}}
  - name: c2
    image: busybox
    command: ['sleep', '3600']
    resources: {limits: {memory: 16Mi, cpu: 100m}}
---
apiVersion: v1
kind: Pod
metadata: {name: unbounded}
spec:
  restartPolicy: Never
  containers:
  - name: c1
    image: busybox
    command: ['sleep', '3600']
    resources: {limits: {memory: 32Mi, cpu: 100m}}
  - name: c2
    image: busybox
    command: ['sleep', '3600']
    resources: {limits: {cpu: 100m}}
---
apiVersion: v1
kind: Pod
metadata: {name: sidecared}
spec:
  restartPolicy: Never
  initContainers:
  - name: side
    image: busybox
    command: ['sleep', '3600']
    restartPolicy: Always
    resources: {limits: {memory: 24Mi, cpu: 50m}}
  - name: init
    image: busybox
    command: ['true']
    resources: {limits: {memory: 96Mi, cpu: 300m}}
  containers:
  - name: c1
    image: busybox
    command: ['sleep', '3600']
    resources: {limits: {memory: 32Mi, cpu: 100m}}
`, "sized", "unbounded", "sidecared")
	v2 := cgroups.Mode() == "v2"
	// max(init 96Mi, apps 48Mi) + 8Mi overhead; max(300m, 200m) + 20m;
	// requests: max(init 300m (its limit), apps 50m+100m) + 20m = 320m.
	wantMem, wantQuota, wantShares := int64(104<<20), int64(32000), uint64(320*1024/1000)
	sized := podCgroupFiles(t, getPod(t, "sized"))
	if v2 {
		checkFile(t, sized, "memory.max", strconv.FormatInt(wantMem, 10))
		checkFile(t, sized, "cpu.max", fmt.Sprintf("%d 100000", wantQuota))
		checkFile(t, sized, "cpu.weight", strconv.FormatUint(cgroups.SharesToWeight(wantShares), 10))
	} else {
		checkFile(t, sized, "memory.limit_in_bytes", strconv.FormatInt(wantMem, 10))
		checkFile(t, sized, "cpu.cfs_quota_us", strconv.FormatInt(wantQuota, 10))
		checkFile(t, sized, "cpu.shares", strconv.FormatUint(wantShares, 10))
	}
	unb := podCgroupFiles(t, getPod(t, "unbounded"))
	if v2 {
		checkFile(t, unb, "memory.max", "max")
		checkFile(t, unb, "cpu.max", "20000 100000")
	} else {
		if v, _ := strconv.ParseInt(unb("memory.limit_in_bytes"), 10, 64); v < 1<<40 {
			t.Errorf("pod with a container without a memory limit: memory.limit_in_bytes %d, want unlimited", v)
		}
		checkFile(t, unb, "cpu.cfs_quota_us", "20000")
	}
	// A native sidecar runs beside the init containers after it and beside
	// the apps: max(init 96Mi + side 24Mi, c1 32Mi + side 24Mi) = 120Mi;
	// max(300m + 50m, 100m + 50m) = 350m, requests likewise.
	side := podCgroupFiles(t, getPod(t, "sidecared"))
	if v2 {
		checkFile(t, side, "memory.max", strconv.FormatInt(120<<20, 10))
		checkFile(t, side, "cpu.max", "35000 100000")
		checkFile(t, side, "cpu.weight", strconv.FormatUint(cgroups.SharesToWeight(350*1024/1000), 10))
	} else {
		checkFile(t, side, "memory.limit_in_bytes", strconv.FormatInt(120<<20, 10))
		checkFile(t, side, "cpu.cfs_quota_us", "35000")
		checkFile(t, side, "cpu.shares", strconv.FormatUint(350*1024/1000, 10))
	}
}

// podCgroupFiles finds the pod cgroup in its QoS tier on the host and
// returns a reader of its control files.
func podCgroupFiles(t *testing.T, p *corev1.Pod) func(string) string {
	t.Helper()
	for _, qos := range []string{"Guaranteed", "Burstable", "BestEffort"} {
		cg := cgroups.PodPath(string(p.UID), qos)
		if _, err := cgroups.ReadFile(cg, "cpu."+map[bool]string{true: "max", false: "shares"}[cgroups.Mode() == "v2"]); err == nil {
			return func(name string) string {
				v, err := cgroups.ReadFile(cg, name)
				if err != nil {
					t.Errorf("%s: %v", path.Join(cg, name), err)
				}
				return v
			}
		}
	}
	t.Fatalf("pod %s: no pod cgroup pod<uid> under %s", p.Name, cgroups.Parent)
	return nil
}

func checkFile(t *testing.T, read func(string) string, name, want string) {
	t.Helper()
	if got := read(name); got != want {
		t.Errorf("pod cgroup %s = %q, want %q", name, got, want)
	}
}

// TestIntegrationProcMountUnmasked: procMount Unmasked in a pod with its
// own user namespace (the only place Kubernetes allows it) gets a /proc
// without kubelet's masks and read-only paths, its sibling with the
// default keeps them: read from each process's mountinfo on the host.
func TestIntegrationProcMountUnmasked(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: procpod}
spec:
  restartPolicy: Never
  hostUsers: false
  containers:
  - name: masked
    image: busybox
    command: ['sleep', '3600']
  - name: unmasked
    image: busybox
    command: ['sleep', '3600']
    securityContext: {procMount: Unmasked}
`, "procpod")
	p := getPod(t, "procpod")
	mounts := func(c string) map[string]bool {
		mi, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pidOf(t, p, c)))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, l := range strings.Split(string(mi), "\n") {
			if f := strings.Fields(l); len(f) > 4 {
				out[f[4]] = true
			}
		}
		return out
	}
	masked, unmasked := mounts("masked"), mounts("unmasked")
	for _, path := range []string{"/proc/interrupts", "/proc/keys", "/proc/timer_list", "/proc/sys", "/proc/sysrq-trigger"} {
		if _, err := os.Stat(path); err != nil {
			continue // this kernel has no such file: nothing to mask
		}
		if !masked[path] {
			t.Errorf("procMount Default: %s is not a mount (masked or read-only) in the container's mountinfo", path)
		}
		if unmasked[path] {
			t.Errorf("procMount Unmasked: %s is still masked or read-only in the container's mountinfo", path)
		}
	}
	// What the masks hide: /proc/interrupts is /dev/null in the default
	// container and the kernel's table in the Unmasked one.
	if r := podsim(t, "", "exec", "procpod", "-c", "unmasked", "--", "cat", "/proc/interrupts"); r.code != 0 || !strings.Contains(r.stdout, "CPU0") {
		t.Errorf("/proc/interrupts in the Unmasked container: want the kernel's table: %s", r)
	}
	if r := podsim(t, "", "exec", "procpod", "-c", "masked", "--", "cat", "/proc/interrupts"); r.code != 0 || r.stdout != "" {
		t.Errorf("/proc/interrupts in the default container: want it empty (masked): %s", r)
	}
}
