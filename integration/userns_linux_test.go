package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/podsim/podsim/scenarios"
)

// userNSPod is the scenario's hostUsers: false pod under another name.
func userNSPod(name string) string {
	return strings.Replace(scenarios.PodTestUserNSYAML, "name: podtest-userns", "name: "+name, 1)
}

// hostRange reads a process's uid_map and gid_map from the kernel and
// returns the host ID its uid 0 maps to; it fails unless both are one
// line "0 <host> 65536" with host a non-zero multiple of 65536.
func hostRange(t *testing.T, pid int) uint64 {
	t.Helper()
	var first uint64
	for _, f := range []string{"uid_map", "gid_map"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f))
		if err != nil {
			t.Fatal(err)
		}
		fs := strings.Fields(string(b))
		if len(fs) != 3 || fs[0] != "0" || fs[2] != "65536" {
			t.Fatalf("pid %d %s = %q, want one line 0 <host> 65536", pid, f, b)
		}
		h, _ := strconv.ParseUint(fs[1], 10, 32)
		if h == 0 || h%65536 != 0 || (first != 0 && h != first) {
			t.Fatalf("pid %d %s maps 0 to %d: want a non-zero multiple of 65536, the same for uids and gids", pid, f, h)
		}
		first = h
	}
	return first
}

// podUserNS checks a running hostUsers: false pod from the kernel: every
// process (pause and containers, found through the pod cgroup) is in one
// user namespace, not podsim's, with the same mapping; returns its host ID
// and the PIDs.
func podUserNS(t *testing.T, name string) (uint64, map[string]int) {
	t.Helper()
	pod := getPod(t, name)
	pids := containerPIDs(t, string(pod.UID))
	if len(pids) != 3 {
		t.Fatalf("%s: want the pause, c1 and c2 in the pod cgroup, got %v", name, pids)
	}
	self := nsInode(t, 0, "user")
	var ns string
	var host uint64
	for id, pid := range pids {
		n := nsInode(t, pid, "user")
		if n == self {
			t.Errorf("%s: %s (pid %d) is in podsim's own user namespace %s", name, id, pid, n)
		}
		if ns != "" && n != ns {
			t.Errorf("%s: %s (pid %d) is in %s, another process of the pod in %s: want one shared user namespace", name, id, pid, n, ns)
		}
		ns = n
		h := hostRange(t, pid)
		if host != 0 && h != host {
			t.Errorf("%s: %s maps to %d, another process to %d", name, id, h, host)
		}
		host = h
		// The containers run as root inside; the pause as its image's
		// USER, 65535 (as registry.k8s.io/pause): host uid h+65535.
		want, who := h, "root inside"
		if !strings.Contains(id, "-") {
			want, who = h+65535, "the pause's 65535 inside"
		}
		if uid := strings.Fields(statusField(t, pid, "Uid"))[0]; uid != strconv.FormatUint(want, 10) {
			t.Errorf("%s: %s (pid %d) runs as host uid %s, want %d (%s)", name, id, pid, uid, want, who)
		}
	}
	return host, pids
}

func ownerOf(t *testing.T, p string) string {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return fmt.Sprintf("%d:%d", st.Uid, st.Gid)
}

// remappedSnapshots lists the chowned image copies containerd holds for a
// host ID (ctr, not podsim).
func remappedSnapshots(t *testing.T, host uint64) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(run(t, "ctr", "-a", containerdAddress(t), "-n", "podsim", "snapshots", "ls"), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			if m := remappedRE.FindStringSubmatch(f[0]); m != nil && m[1] == strconv.FormatUint(host, 10) {
				out = append(out, f[0])
			}
		}
	}
	return out
}

// TestIntegrationUserNamespace: two hostUsers: false pods, checked from
// the kernel: one user namespace per pod shared by its pause and
// containers, uid_map/gid_map with a 65536-ID range of its own (no
// overlap), root inside running as that uid, files it writes owned by it
// on the host, its rootfs a chowned copy; the range and the copy freed on
// delete and, after a crash, by gc.
func TestIntegrationUserNamespace(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	applyPod(t, userNSPod("userns-a"), "userns-a")
	applyPod(t, userNSPod("userns-b"), "userns-b")
	a, pidsA := podUserNS(t, "userns-a")
	b, _ := podUserNS(t, "userns-b")
	if a == b || (a < b && a+65536 > b) || (b < a && b+65536 > a) {
		t.Fatalf("the pods' ranges overlap: %d and %d", a, b)
	}

	// A file root writes in the emptyDir is the pod's uid on the host.
	name := fmt.Sprintf("owner-%d", os.Getpid())
	if out, err := podsimCmd("exec", "userns-a", "-c", "c1", "--", "sh", "-c", "echo x > /shared/"+name).CombinedOutput(); err != nil {
		t.Fatalf("write in the emptyDir: %v %s", err, out)
	}
	files, _ := filepath.Glob("/var/lib/podsim/pods/*/volumes/kubernetes.io~empty-dir/shared/" + name)
	if len(files) != 1 {
		t.Fatalf("host file of /shared/%s: %v", name, files)
	}
	if got, want := ownerOf(t, files[0]), fmt.Sprintf("%d:%d", a, a); got != want {
		t.Errorf("%s is owned by %s on the host, want %s", files[0], got, want)
	}
	// Its rootfs is the chowned copy: the image's root-owned files are the pod's root's.
	for id, pid := range pidsA {
		if !strings.Contains(id, "-") {
			continue // the pause image has no /bin
		}
		if got, want := ownerOf(t, fmt.Sprintf("/proc/%d/root/bin", pid)), fmt.Sprintf("%d:%d", a, a); got != want {
			t.Errorf("%s: /bin in its rootfs is owned by %s on the host, want %s", id, got, want)
		}
	}
	if got := remappedSnapshots(t, a); len(got) == 0 {
		t.Errorf("no chowned image copy for %d in containerd", a)
	}

	// Delete frees the range and its copies: the next pod gets the lowest
	// free block, which is a's again if a was the lower one.
	mustPodsim(t, "delete", "pod", "userns-a")
	if got := remappedSnapshots(t, a); len(got) > 0 {
		t.Errorf("after delete, containerd still holds %v", got)
	}
	applyPod(t, userNSPod("userns-c"), "userns-c")
	c, _ := podUserNS(t, "userns-c")
	if a < b && c != a {
		t.Errorf("after userns-a (%d) was deleted the next pod got %d, not the freed range", a, c)
	}
	mustPodsim(t, "delete", "pod", "userns-c")

	// A podsim killed after the pause started leaves a range and a copy;
	// gc frees both (the next pod gets the range again).
	cmd := podsimCmd("apply", "-f", writeManifest(t, userNSPod("userns-crash")))
	cmd.Env = append(os.Environ(), "PODSIM_CRASH_AFTER=pause")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("podsim was not killed after the pause: %v %s", err, out)
	}
	inv := inventory(t)
	if !strings.Contains(inv, "userns-crash") {
		t.Fatalf("nothing half-built after the crash:\n%s", inv)
	}
	mustPodsim(t, "gc")
	if got := remappedSnapshots(t, c); len(got) > 0 {
		t.Errorf("gc left the crashed pod's copies %v", got)
	}
	applyPod(t, userNSPod("userns-d"), "userns-d")
	if d, _ := podUserNS(t, "userns-d"); d != c {
		t.Errorf("after gc the next pod got %d, want the crashed pod's freed range %d", d, c)
	}
}

// TestIntegrationUserNamespaceRefused: the combinations Kubernetes refuses
// are refused by name, with nothing made.
func TestIntegrationUserNamespaceRefused(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	for _, tc := range []struct{ extra, want string }{
		{"  hostNetwork: true\n", "spec.hostUsers: false cannot be combined with spec.hostNetwork"},
		{"  securityContext:\n    runAsUser: 70000\n", "outside the pod's user namespace"},
	} {
		y := strings.Replace(userNSPod("userns-bad"), "  containers:\n", tc.extra+"  containers:\n", 1)
		r := podsim(t, "", "apply", "-f", writeManifest(t, y))
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("apply with %q: exit %d, stderr %q; want an error containing %q", tc.extra, r.code, r.stderr, tc.want)
		}
	}
}
