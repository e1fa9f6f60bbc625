package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// requireRunsc skips when gVisor's runsc (Debian's package) is missing.
func requireRunsc(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("runsc"); err != nil {
		t.Skip("runsc (gVisor) is not installed: apt-get install runsc (make deps)")
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

// cgroupProcs lists the host PIDs in every container cgroup of the pod:
// container ID -> pids (cgroup.procs of the pids hierarchy, or v2's).
func cgroupProcs(t *testing.T, uid string) map[string][]int {
	t.Helper()
	pod := "pod" + strings.ReplaceAll(uid, "-", "_")
	out := map[string][]int{}
	for _, root := range []string{"/sys/fs/cgroup/pids/podsim/", "/sys/fs/cgroup/podsim/"} {
		for _, tier := range []string{"", "besteffort/", "burstable/"} {
			dirs, _ := filepath.Glob(root + tier + pod + "/*/cgroup.procs")
			for _, f := range dirs {
				b, _ := os.ReadFile(f)
				for _, l := range strings.Fields(string(b)) {
					var pid int
					if _, err := fmt.Sscan(l, &pid); err == nil {
						id := filepath.Base(filepath.Dir(f))
						out[id] = append(out[id], pid)
					}
				}
			}
		}
		if len(out) > 0 {
			break
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
    command: ['sleep', '%d']
    volumeMounts: [{name: shared, mountPath: /shared}]
  volumes:
  - {name: shared, emptyDir: {}}
`

// TestIntegrationRuntimeClassGVisor runs the article's two-container pod
// under runtimeClassName gvisor and checks from the host: the containers'
// commands are not host processes (the container cgroups hold gVisor's
// runsc-sandbox instead), the kernel inside is gVisor's (uname -r and
// /proc/version differ from the host's), the two containers still share
// localhost and the emptyDir (the file is one host file), and the Sentry
// runs in the pod's pinned network namespace. The same pod under runc is
// the control: there the command is a host process.
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
	procs := cgroupProcs(t, string(pod.UID))
	cls := hostCmdlines()
	sentries := 0
	var sentryPID int
	for id, pids := range procs {
		if !strings.HasSuffix(id, "-c1") && !strings.HasSuffix(id, "-c2") {
			continue
		}
		for _, pid := range pids {
			if strings.HasPrefix(cls[pid], "runsc-sandbox") {
				sentries++
				sentryPID = pid
			}
		}
	}
	if sentries < 2 {
		t.Fatalf("container cgroups of gvpod hold %d runsc-sandbox processes, want one per container: %v", sentries, procs)
	}

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
	checkInspectGVisor(t, "gvpod", hostRel)
}

// checkInspectGVisor reads inspect's gVisor section and checks each row
// against the host: the Sentry PID it names is a runsc-sandbox process,
// the gofer PID a runsc-gofer, and the kernel the container reports is not
// the host's (inspect asked the container, through the Sentry).
func checkInspectGVisor(t *testing.T, pod, hostRel string) {
	out := mustPodsim(t, "inspect", pod)
	if !strings.Contains(out, "gVisor (runtimeClassName gvisor, handler runsc)") {
		t.Fatalf("inspect %s has no gVisor section:\n%s", pod, out)
	}
	row := regexp.MustCompile(`(?m)^  (c1|c2)\s+pid (\d+), \d+ threads, [\d.]+ MB RSS, net \d+\s+pid (\d+), .*?net \d+\s+(\S+)\s+(.+?)\s{2,}`)
	rows := row.FindAllStringSubmatch(out, -1)
	if len(rows) != 2 {
		t.Fatalf("inspect %s: %d gVisor rows, want c1 and c2:\n%s", pod, len(rows), out)
	}
	cls := hostCmdlines()
	for _, r := range rows {
		sentry, _ := strconv.Atoi(r[2])
		gofer, _ := strconv.Atoi(r[3])
		if !strings.HasPrefix(cls[sentry], "runsc-sandbox") || !strings.HasPrefix(cls[gofer], "runsc-gofer") {
			t.Errorf("inspect: %s's Sentry %d is %q and gofer %d is %q on the host", r[1], sentry, cls[sentry], gofer, cls[gofer])
		}
		if r[4] == hostRel {
			t.Errorf("inspect: %s's kernel is %q, the host's", r[1], r[4])
		}
		if !strings.HasPrefix(r[5], "sleep") {
			t.Errorf("inspect: %s's PID 1 inside is %q, want its command", r[1], r[5])
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
