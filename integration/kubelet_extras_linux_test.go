package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fidelityPod = `apiVersion: v1
kind: Pod
metadata:
  name: fidelity
spec:
  shareProcessNamespace: true
  containers:
  - name: c1
    image: busybox
    command: ['sleep', '5000']
    resources:
      limits: {memory: 64Mi, cpu: 500m}
  - name: c2
    image: busybox
    command: ['sleep', '5000']
`

// TestIntegrationConfinementAsKubelet checks issue 18 from the host and
// from inside: what kubelet + CRI give every container (the cgroup
// filesystem, kubelet's masked paths, no /run tmpfs, /dev/termination-log),
// an unprivileged pause, and the pod cgroup in its QoS tier.
func TestIntegrationConfinementAsKubelet(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	applyPod(t, fidelityPod, "fidelity")
	pod := getPod(t, "fidelity")
	uid := string(pod.UID)
	pids := containerPIDs(t, uid)
	var pause, c1 int
	var sandboxID string
	for id, pid := range pids {
		switch {
		case strings.HasSuffix(id, "-c1"):
			c1 = pid
		case !strings.Contains(id, "-"):
			pause, sandboxID = pid, id
		}
	}
	if pause == 0 || c1 == 0 {
		t.Fatalf("pause or c1 not found in the pod cgroup: %v", pids)
	}
	v2 := false
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		v2 = true
	}

	// Item 4, from the host: the pause's credentials, capabilities, seccomp.
	st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pause))
	for _, want := range []string{"Uid:\t65535\t65535\t65535\t65535", "Gid:\t65535\t65535\t65535\t65535", "CapEff:\t0000000000000000", "CapPrm:\t0000000000000000", "Seccomp:\t2"} {
		if !strings.Contains(string(st), want) {
			t.Errorf("pause /proc/%d/status lacks %q:\n%s", pause, want, st)
		}
	}
	// ... and from inside: c2 shares the pause's PID namespace and may not
	// look into it.
	for _, cmd := range [][]string{{"cat", "/proc/1/environ"}, {"ls", "/proc/1/root/"}} {
		r := podsim(t, "", append([]string{"exec", "fidelity", "-c", "c2", "--"}, cmd...)...)
		if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "Permission denied") {
			t.Errorf("c2: %v on the pause: want Permission denied, got %s", cmd, r)
		}
	}

	// Items 1, 2, 3, 6, from the host: c1's mount table.
	mi, _ := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", c1))
	mounts := map[string]string{}
	for _, l := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(l); len(f) > 5 {
			mounts[f[4]] = l
		}
	}
	for _, mp := range []string{"/proc/interrupts", "/dev/termination-log"} {
		if _, ok := mounts[mp]; !ok {
			t.Errorf("c1 has no %s mount (masked / termination log)", mp)
		}
	}
	if l, ok := mounts["/run"]; ok {
		t.Errorf("c1 has a /run mount: %s", l)
	}
	// The cgroup filesystems (on v1 one per controller, in runc's tmpfs at
	// /sys/fs/cgroup; on v2 cgroup2 itself) are read-only.
	cgMounts := 0
	for mp, l := range mounts {
		_, after, _ := strings.Cut(l, " - ")
		if fstype := strings.Fields(after); strings.HasPrefix(mp, "/sys/fs/cgroup") && len(fstype) > 0 && strings.HasPrefix(fstype[0], "cgroup") {
			cgMounts++
			if opts := strings.Split(strings.Fields(l)[5], ","); opts[0] != "ro" {
				t.Errorf("c1's %s is not read-only: %s", mp, l)
			}
		}
	}
	if cgMounts == 0 {
		t.Error("c1 has no cgroup filesystem at /sys/fs/cgroup")
	}
	// The pause has neither /run nor a cgroup filesystem, as under CRI.
	pmi, _ := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pause))
	if strings.Contains(string(pmi), " /run ") {
		t.Error("the pause has a /run mount")
	}

	// ... and from inside.
	limit := mustPodsim(t, "exec", "fidelity", "-c", "c1", "--", "sh", "-c",
		"cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes")
	if strings.TrimSpace(limit) != "67108864" {
		t.Errorf("c1 reads its memory limit from /sys/fs/cgroup as %q, want 67108864", limit)
	}
	if out := mustPodsim(t, "exec", "fidelity", "-c", "c1", "--", "sh", "-c", "wc -c < /proc/interrupts"); strings.TrimSpace(out) != "0" {
		t.Errorf("c1 reads %s bytes of /proc/interrupts, want it masked (0)", out)
	}
	mustPodsim(t, "exec", "fidelity", "-c", "c1", "--", "sh", "-c", "echo goodbye > /dev/termination-log")
	tl := filepath.Join("/var/lib/podsim/pods", sandboxID, "containers", "c1", "termination-log")
	if fi, err := os.Stat(tl); err != nil || fi.Mode().Perm() != 0o666 {
		t.Errorf("termination-log file %s: %v, mode %v, want 0666", tl, err, fi)
	} else if b, _ := os.ReadFile(tl); strings.TrimSpace(string(b)) != "goodbye" {
		t.Errorf("termination-log file holds %q, want what c1 wrote", b)
	}

	// Item 5: a Burstable pod in the burstable tier, weighing its requests
	// (500m -> 512 shares), the tier at least as much.
	podDir := "pod" + strings.ReplaceAll(uid, "-", "_")
	file, want := "/sys/fs/cgroup/cpu/podsim/burstable/"+podDir+"/cpu.shares", "512"
	tier := "/sys/fs/cgroup/cpu/podsim/burstable/cpu.shares"
	if v2 {
		file, want = "/sys/fs/cgroup/podsim/burstable/"+podDir+"/cpu.weight", "20" // 1 + (512-2)*9999/262142
		tier = "/sys/fs/cgroup/podsim/burstable/cpu.weight"
	}
	if b, err := os.ReadFile(file); err != nil || strings.TrimSpace(string(b)) != want {
		t.Errorf("%s = %q (%v), want %s", file, b, err, want)
	}
	if b, err := os.ReadFile(tier); err != nil || strings.TrimSpace(string(b)) == "" {
		t.Errorf("burstable tier weight %s: %q %v", tier, b, err)
	}
}
