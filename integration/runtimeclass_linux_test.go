package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// requireRunsc skips when gVisor (built by make gvisor into bin/gvisor/,
// next to the podsim under test) is missing.
func requireRunsc(t *testing.T) {
	t.Helper()
	dir := filepath.Dir(podsimBin)
	for _, b := range []string{"podsim-runsc", "gvisor/runsc", "gvisor/containerd-shim-runsc-v1"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			t.Skipf("gVisor is not built next to %s (%s missing): make gvisor", podsimBin, b)
		}
	}
}

// hostCmdlines lists every host process's command line (NULs as spaces).
func hostCmdlines() map[int]string {
	out := map[int]string{}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		var pid int
		if _, err := fmt.Sscan(filepath.Base(filepath.Dir(p)), &pid); err != nil {
			continue
		}
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
			out[pid] = strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

// cgroupProcs lists the host PIDs in the pod cgroup (key "pod") and in
// every container cgroup of the pod: container ID -> pids.
func cgroupProcs(t *testing.T, uid string) map[string][]int {
	t.Helper()
	pod, ctrs := podCgroupDirs(uid)
	out := map[string][]int{}
	for _, d := range append(ctrs, pod) {
		id := filepath.Base(d)
		if d == pod {
			id = "pod"
		}
		b, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		for _, l := range strings.Fields(string(b)) {
			var pid int
			if _, err := fmt.Sscan(l, &pid); err == nil {
				out[id] = append(out[id], pid)
			}
		}
	}
	return out
}

const gvisorPodtest = `apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  runtimeClassName: %s
  containers:
  - name: c1
    image: busybox
    command: ['sh', '-c', 'nc -ll -p 5000 127.0.0.1 -e echo reached-c1 & exec sleep %d']
    volumeMounts: [{name: shared, mountPath: /shared}]
  - name: c2
    image: busybox
    command: ['sh', '-c', 'echo c2-says-hello; exec sleep %d']
    volumeMounts: [{name: shared, mountPath: /shared}]
  volumes:
  - {name: shared, emptyDir: {}}
`

// TestIntegrationRuntimeClassGVisor runs the article's two-container pod
// under runtimeClassName gvisor and checks from the host: the containers'
// commands are not host processes; the pod is one gVisor sandbox (one
// Sentry in the pod cgroup, a gofer per container, one gVisor shim); the
// kernel inside is gVisor's (uname -r and /proc/version differ from the
// host's); the two containers still share localhost and the emptyDir (the
// file is one host file); the Sentry runs in the pod's pinned network
// namespace, whose eth0 address its own network stack took from the host
// kernel's, and the host reaches the pod at its IP. The same pod under
// runc is the control: there the command is a host process.
func TestIntegrationRuntimeClassGVisor(t *testing.T) {
	requireRoot(t)
	requireRunsc(t)
	checkNoLeaks(t)
	applyPod(t, fmt.Sprintf(gvisorPodtest, "gvpod", "gvisor", 4242, 4242), "gvpod")
	applyPod(t, fmt.Sprintf(gvisorPodtest, "rcpod", "runc", 4243, 4243), "rcpod")

	// The control: under runc the container's command is a host process.
	found := false
	for _, cl := range hostCmdlines() {
		found = found || cl == "sleep 4243"
	}
	if !found {
		t.Fatalf("runc pod: no host process 'sleep 4243': the control failed")
	}
	// Under gVisor it is not: the Sentry runs it.
	for pid, cl := range hostCmdlines() {
		if cl == "sleep 4242" {
			t.Errorf("gvisor pod: host process %d is %q: the container's command runs on the host kernel", pid, cl)
		}
	}
	pod := getPod(t, "gvpod")
	sentryPID, sandboxID := checkOneSentry(t, pod)

	hostRel := strings.TrimSpace(string(must(os.ReadFile("/proc/sys/kernel/osrelease"))))
	hostVer := strings.TrimSpace(string(must(os.ReadFile("/proc/version"))))
	rel := strings.TrimSpace(mustPodsim(t, "exec", "gvpod", "-c", "c1", "--", "uname", "-r"))
	ver := strings.TrimSpace(mustPodsim(t, "exec", "gvpod", "-c", "c1", "--", "cat", "/proc/version"))
	if rel == "" || rel == hostRel || ver == hostVer {
		t.Errorf("gvisor pod: uname -r %q, /proc/version %q; the host's are %q, %q: want gVisor's own", rel, ver, hostRel, hostVer)
	}
	if r := strings.TrimSpace(mustPodsim(t, "exec", "rcpod", "-c", "c1", "--", "uname", "-r")); r != hostRel {
		t.Errorf("runc pod: uname -r %q, want the host's %q", r, hostRel)
	}

	// One pod: localhost and the emptyDir are shared.
	if out := mustPodsim(t, "exec", "gvpod", "-c", "c2", "--", "nc", "127.0.0.1", "5000"); !strings.Contains(out, "reached-c1") {
		t.Errorf("c2 -> 127.0.0.1:5000 = %q, want c1's listener", out)
	}
	mustPodsim(t, "exec", "gvpod", "-c", "c1", "--", "sh", "-c", "echo gvisor-shared > /shared/f")
	if out := mustPodsim(t, "exec", "gvpod", "-c", "c2", "--", "cat", "/shared/f"); strings.TrimSpace(out) != "gvisor-shared" {
		t.Errorf("c2 reads /shared/f = %q", out)
	}
	hostFiles, _ := filepath.Glob("/var/lib/podsim/pods/*/volumes/kubernetes.io~empty-dir/shared/f")
	seen := false
	for _, f := range hostFiles {
		if b, err := os.ReadFile(f); err == nil && strings.TrimSpace(string(b)) == "gvisor-shared" {
			seen = true
		}
	}
	if !seen {
		t.Errorf("the file c1 wrote is in no emptyDir directory on the host: %v", hostFiles)
	}

	// The Sentry is in the pod's pinned netns (CNI's), not the host's.
	var pin string
	for _, l := range strings.Split(run(t, "ip", "netns", "list"), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "podsim-gvpod-") {
			pin = "/run/netns/" + f[0]
		}
	}
	if pin == "" {
		t.Fatal("no pinned netns for gvpod")
	}
	pinIno := strings.TrimSpace(run(t, "stat", "-L", "-c", "%i", pin))
	if got := nsInode(t, sentryPID, "net"); got != "net:["+pinIno+"]" || got == nsInode(t, 0, "net") {
		t.Errorf("runsc-sandbox %d is in %s, want the pin's net:[%s]", sentryPID, got, pinIno)
	}
	checkNetstack(t, pin, pod.Status.PodIP)
	// The container's output reaches its log: gVisor's shim copies it into
	// the FIFOs the node agent reads (it publishes no /tasks/create event,
	// only /tasks/start, which the agent's log collector follows too).
	var logs string
	for i := 0; i < 50 && !strings.Contains(logs, "c2-says-hello"); i++ {
		logs = podsim(t, "", "logs", "gvpod", "-c", "c2").stdout
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(logs, "c2-says-hello") {
		t.Errorf("podsim logs gvpod -c c2 = %q, want the line c2 printed", logs)
	}
	checkInspectGVisor(t, "gvpod", hostRel, sentryPID, sandboxID)
}

// checkOneSentry checks from the host that the gVisor pod is one gVisor
// sandbox: exactly one runsc-sandbox (Sentry) in the pod's cgroups, which
// runsc puts in the pod cgroup itself; one runsc-gofer per container (the
// pause and both apps, by their bundles); one gVisor shim for the pod. It
// returns the Sentry's PID and the sandbox ID it boots.
func checkOneSentry(t *testing.T, pod *corev1.Pod) (int, string) {
	t.Helper()
	procs := cgroupProcs(t, string(pod.UID))
	cls := hostCmdlines()
	var sentries []int
	gofers := map[string]bool{}
	for id, pids := range procs {
		for _, pid := range pids {
			f := strings.Fields(cls[pid])
			switch {
			case len(f) > 0 && f[0] == "runsc-sandbox":
				sentries = append(sentries, pid)
				if id != "pod" {
					t.Errorf("Sentry %d is in container cgroup %s, want the pod cgroup", pid, id)
				}
			case len(f) > 0 && f[0] == "runsc-gofer":
				for i, a := range f {
					if a == "--bundle" && i+1 < len(f) {
						gofers[filepath.Base(f[i+1])] = true
					}
				}
			}
		}
	}
	if len(sentries) != 1 {
		t.Fatalf("the cgroups of pod %s hold %d runsc-sandbox processes %v, want one Sentry for the pod: %v", pod.Name, len(sentries), sentries, procs)
	}
	f := strings.Fields(cls[sentries[0]])
	sandboxID := f[len(f)-1] // runsc boot ... <sandbox ID>
	// Container IDs: the sandbox's, then <sandbox>-c1 and -c2, with ".N"
	// for the Nth restart.
	for _, want := range []string{`^` + sandboxID + `$`, `^` + sandboxID + `-c1(\.\d+)?$`, `^` + sandboxID + `-c2(\.\d+)?$`} {
		n := 0
		for c := range gofers {
			if regexp.MustCompile(want).MatchString(c) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d runsc-gofer processes serve a container %s, want one (gofers for %v)", n, want, gofers)
		}
	}
	shims := 0
	for _, cl := range cls {
		if f := strings.Fields(cl); len(f) > 0 && filepath.Base(f[0]) == "containerd-shim-runsc-v1" && strings.Contains(cl, "-id "+sandboxID) {
			shims++
		}
	}
	if shims != 1 {
		t.Errorf("%d gVisor shims for sandbox %s, want one per pod", shims, sandboxID)
	}
	return sentries[0], sandboxID
}

// checkNetstack checks that the Sentry's own network stack, not the host
// kernel's, holds the pod's address: in the pinned netns the host kernel's
// eth0 has no IPv4 address any more (runsc took it over when the Sentry
// booted), the container's eth0 has the pod IP, and the host reaches a
// listener in the pod at that IP through the bridge.
func checkNetstack(t *testing.T, pin, podIP string) {
	t.Helper()
	if podIP == "" {
		t.Fatal("gvpod has no pod IP")
	}
	if out := run(t, "ip", "-n", filepath.Base(pin), "-4", "addr", "show", "dev", "eth0"); strings.Contains(out, "inet ") {
		t.Errorf("the host kernel's eth0 in %s still has an address, want none (netstack owns it):\n%s", pin, out)
	}
	if out := mustPodsim(t, "exec", "gvpod", "-c", "c1", "--", "ip", "-4", "addr", "show", "eth0"); !strings.Contains(out, "inet "+podIP+"/") {
		t.Errorf("eth0 inside gvpod: %q, want the pod IP %s", out, podIP)
	}
	mustPodsim(t, "exec", "gvpod", "-c", "c2", "--", "sh", "-c", "nc -ll -p 5001 -e echo via-netstack >/dev/null 2>&1 &")
	var got string
	for i := 0; i < 20 && !strings.Contains(got, "via-netstack"); i++ {
		out, _ := exec.Command("busybox", "nc", "-w", "2", podIP, "5001").CombinedOutput()
		got = string(out)
		if !strings.Contains(got, "via-netstack") {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !strings.Contains(got, "via-netstack") {
		t.Errorf("host -> %s:5001 = %q, want the pod's listener (through the bridge to netstack)", podIP, got)
	}
}

// checkInspectGVisor reads inspect's gVisor section and checks it against
// the host: the Sentry it names is the one the host found (checkOneSentry),
// each gofer PID is a runsc-gofer serving that container's bundle, and the
// kernel each app container reports is not the host's (inspect asked the
// container, through the Sentry).
func checkInspectGVisor(t *testing.T, pod, hostRel string, sentryPID int, sandboxID string) {
	t.Helper()
	out := mustPodsim(t, "inspect", pod)
	if !strings.Contains(out, "gVisor (runtimeClassName gvisor, handler runsc)") {
		t.Fatalf("inspect %s has no gVisor section:\n%s", pod, out)
	}
	if m := regexp.MustCompile(`host sees the Sentry \(runsc-sandbox\): pid (\d+),`).FindStringSubmatch(out); m == nil || m[1] != strconv.Itoa(sentryPID) {
		t.Errorf("inspect %s names Sentry %v, the host found %d:\n%s", pod, m, sentryPID, out)
	}
	row := regexp.MustCompile(`(?m)^  (c1|c2)\s+pid (\d+), \d+ threads, [\d.]+ MB RSS, net \d+\s+(\S+)\s+(.+?)\s{2,}`)
	rows := row.FindAllStringSubmatch(out, -1)
	if len(rows) != 2 {
		t.Fatalf("inspect %s: %d gVisor rows, want c1 and c2:\n%s", pod, len(rows), out)
	}
	cls := hostCmdlines()
	for _, r := range rows {
		gofer, _ := strconv.Atoi(r[2])
		if !strings.HasPrefix(cls[gofer], "runsc-gofer") || !strings.Contains(cls[gofer], "/"+sandboxID+"-"+r[1]+" ") {
			t.Errorf("inspect: %s's gofer %d is %q on the host, want runsc-gofer --bundle .../%s-%s", r[1], gofer, cls[gofer], sandboxID, r[1])
		}
		if r[3] == hostRel {
			t.Errorf("inspect: %s's kernel is %q, the host's", r[1], r[3])
		}
		if !strings.HasPrefix(r[4], "sleep") {
			t.Errorf("inspect: %s's PID 1 inside is %q, want its command", r[1], r[4])
		}
	}
	// The namespace table: every row (POD, c1, c2) is the Sentry's PID.
	for _, name := range []string{"POD", "c1", "c2"} {
		if !regexp.MustCompile(`(?m)^` + name + `\s+` + strconv.Itoa(sentryPID) + `\s`).MatchString(out) {
			t.Errorf("inspect %s: the namespace table's %s row is not the Sentry's PID %d:\n%s", pod, name, sentryPID, out)
		}
	}
}

// TestIntegrationRuntimeClassObjects applies RuntimeClass objects and
// checks the lookup kubelet makes: an applied class names a handler, an
// unknown class or handler is refused by name with nothing built.
func TestIntegrationRuntimeClassObjects(t *testing.T) {
	requireRoot(t)
	requireRunsc(t)
	checkNoLeaks(t)
	rcs := writeManifest(t, `apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: sandboxed}
handler: runsc
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: kata}
handler: kata-qemu
`)
	t.Cleanup(func() {
		podsim(t, "", "delete", "runtimeclass", "sandboxed")
		podsim(t, "", "delete", "runtimeclass", "kata")
		if ents, _ := os.ReadDir("/var/lib/podsim/objects/runtimeclasses"); len(ents) > 0 {
			t.Errorf("RuntimeClass files left: %v", ents)
		}
	})
	mustPodsim(t, "apply", "-f", rcs)
	list := mustPodsim(t, "get", "runtimeclasses")
	for _, want := range []string{"sandboxed", "runsc", "kata", "kata-qemu", "gvisor", "<built-in>"} {
		if !strings.Contains(list, want) {
			t.Errorf("get runtimeclasses lacks %q:\n%s", want, list)
		}
	}
	netns := run(t, "ip", "netns", "list")
	for _, tc := range []struct{ class, want string }{
		{"missing", `RuntimeClass "missing" not found`},
		{"kata", `names handler "kata-qemu"`},
	} {
		r := podsim(t, "", "apply", "-f", writeManifest(t, fmt.Sprintf(gvisorPodtest, "refused", tc.class, 1, 1)))
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("runtimeClassName %s: %s\nwant exit != 0 and %q", tc.class, r, tc.want)
		}
		if out := podsim(t, "", "get", "pod", "refused"); out.code == 0 {
			t.Errorf("runtimeClassName %s: the refused pod exists: %s", tc.class, out.stdout)
		}
		if now := run(t, "ip", "netns", "list"); now != netns {
			t.Errorf("runtimeClassName %s: a netns was made: %q", tc.class, now)
		}
	}
	applyPod(t, fmt.Sprintf(gvisorPodtest, "rcobj", "sandboxed", 4244, 4244), "rcobj")
	hostRel := strings.TrimSpace(string(must(os.ReadFile("/proc/sys/kernel/osrelease"))))
	if rel := strings.TrimSpace(mustPodsim(t, "exec", "rcobj", "-c", "c2", "--", "uname", "-r")); rel == hostRel {
		t.Errorf("RuntimeClass sandboxed (handler runsc): uname -r is the host's %q", rel)
	}
	mustPodsim(t, "delete", "runtimeclass", "kata")
	if list := mustPodsim(t, "get", "runtimeclasses"); strings.Contains(list, "kata") {
		t.Errorf("kata still listed after delete:\n%s", list)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestIntegrationGVisorShimKilled kills gVisor's shim of a running gVisor
// pod (SIGKILL, as an OOM kill or a crash would) and checks that nothing
// of the pod outlives it once it is deleted: runsc's processes go with the
// shim (no Sentry, gofer or runsc wait of the sandbox is left), and
// `podsim delete` then `podsim gc` leave nothing behind (the leak check:
// runsc's state files, its control socket, the null-netns mount, task
// bundles and rootfs mounts that containerd's cleanup after a dead shim
// may leave when gVisor's "shim delete" outlasts containerd's 5 s).
// Meanwhile the node agent rebuilds the sandbox (SandboxChanged) once
// containerd's cleanup is done; that is logged, not required: containerd
// 1.6's cleanup of a dead gVisor shim does not always finish.
func TestIntegrationGVisorShimKilled(t *testing.T) {
	requireRoot(t)
	requireRunsc(t)
	checkNoLeaks(t)
	applyPod(t, fmt.Sprintf(gvisorPodtest, "gvkill", "gvisor", 4245, 4245), "gvkill")
	old, sandboxID := checkOneSentry(t, getPod(t, "gvkill"))
	shim := shimPID(sandboxID)
	if shim == 0 {
		t.Fatalf("no gVisor shim with -id %s", sandboxID)
	}
	oldProcs := map[int]string{}
	for pid, cl := range hostCmdlines() {
		if strings.Contains(cl, "--root=/run/podsim/runsc") && strings.Contains(cl, sandboxID) {
			oldProcs[pid] = cl
		}
	}
	if len(oldProcs) < 4 { // Sentry, 3 gofers (and the runsc waits)
		t.Fatalf("only %d runsc processes of sandbox %s: %v", len(oldProcs), sandboxID, oldProcs)
	}
	if err := syscall.Kill(shim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	alive := func() []string {
		var left []string
		now := hostCmdlines()
		for pid, cl := range oldProcs {
			if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !strings.Contains(string(st), ") Z ") && now[pid] == cl {
				left = append(left, fmt.Sprintf("%d %s", pid, cl))
			}
		}
		return left
	}
	waitFor(t, 30*time.Second, "the killed shim's Sentry, gofers and runsc waits to exit", func() bool { return len(alive()) == 0 })
	if old == 0 {
		t.Fatal("no Sentry")
	}
	// What the agent made of it, for the log: a rebuilt sandbox, or not yet.
	time.Sleep(3 * time.Second)
	ev := mustPodsim(t, "describe", "pod", "gvkill")
	t.Logf("after the shim's death: SandboxChanged event: %v; pod phase %s", strings.Contains(ev, "SandboxChanged"), getPod(t, "gvkill").Status.Phase)
	mustPodsim(t, "delete", "pod", "gvkill", "--grace-period=1")
	mustPodsim(t, "gc")
	for pid, cl := range hostCmdlines() {
		if strings.Contains(cl, "--root=/run/podsim/runsc") && strings.Contains(cl, sandboxID) {
			t.Errorf("after delete and gc, runsc process %d of sandbox %s runs: %s", pid, sandboxID, cl)
		}
	}
}
