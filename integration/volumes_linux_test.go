package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podsim/podsim/sandbox"
	corev1 "k8s.io/api/core/v1"
)

// Volumes kubelet fills itself (downwardAPI, projected), hostPath with its
// type checks, Memory emptyDirs sized as kubelet sizes them, and fsGroup:
// each checked from the host (stat of the volume's directory, the kernel's
// mountinfo and /proc/<pid>/status of the container's process found
// through the pod cgroup), not only through podsim.

// sandboxIDOf is podsim's sandbox ID of a pod (its containers are ID-NAME).
func sandboxIDOf(p *corev1.Pod) string {
	c := p.Status.ContainerStatuses[0]
	return strings.TrimSuffix(strings.TrimPrefix(c.ContainerID, "containerd://"), "-"+c.Name)
}

// volDir is a volume's directory on the host, kubelet's layout:
// kubernetes.io~PLUGIN/NAME under the pod's run (tmpfs kinds) or state dir.
func volDir(p *corev1.Pod, plugin, name string) string {
	root := "/run/podsim/pods"
	if plugin == "configmap" || plugin == "empty-dir" {
		root = "/var/lib/podsim/pods"
	}
	return filepath.Join(root, sandboxIDOf(p), "volumes", "kubernetes.io~"+plugin, name)
}

// appPID is the host PID of a container's process, from the pod cgroup.
func appPID(t *testing.T, p *corev1.Pod, name string) int {
	t.Helper()
	pid := containerPIDs(t, string(p.UID))[strings.TrimPrefix(containerStatus(p, name).ContainerID, "containerd://")]
	if pid == 0 {
		t.Fatalf("%s's process not found in the pod cgroup", name)
	}
	return pid
}

func statT(t *testing.T, path string) (os.FileInfo, *syscall.Stat_t) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi, fi.Sys().(*syscall.Stat_t)
}

func readHost(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitFile waits until a host file holds want (kubelet's rewrite is done
// before podsim label returns; the wait only absorbs a slow disk).
func waitFile(t *testing.T, path, want string) string {
	t.Helper()
	var got string
	for i := 0; i < 50; i++ {
		b, _ := os.ReadFile(path)
		if got = string(b); strings.Contains(got, want) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("%s = %q, want it to contain %q", path, got, want)
	return got
}

const downwardPodYAML = `apiVersion: v1
kind: Pod
metadata:
  name: dapod
  labels: {app: shop, tier: backend}
  annotations: {note: first}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: busybox
    command: ['sleep', '3600']
    resources: {limits: {memory: 48Mi}}
    volumeMounts:
    - {name: podinfo, mountPath: /etc/podinfo}
    - {name: all, mountPath: /etc/all}
  volumes:
  - name: podinfo
    downwardAPI:
      defaultMode: 0640
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: annotations, fieldRef: {fieldPath: metadata.annotations}}
      - {path: mem, resourceFieldRef: {containerName: app, resource: limits.memory, divisor: 1Mi}, mode: 0600}
  - name: all
    projected:
      defaultMode: 0444
      sources:
      - configMap: {name: dacfg, items: [{key: color, path: cfg/color}]}
      - secret: {name: dasec}
      - downwardAPI: {items: [{path: tier, fieldRef: {fieldPath: "metadata.labels['tier']"}}]}
      - configMap: {name: missing-but-optional, optional: true}
`

// TestIntegrationDownwardAPIVolume: a downwardAPI volume and a projected
// volume (ConfigMap, Secret and downwardAPI sources) laid out as kubelet's
// AtomicWriter does, on tmpfs, with the modes asked for; then `podsim
// label`, `podsim annotate` and `apply` with new labels rewrite the files
// (seen on the host and inside), a ConfigMap update reaches the projected
// volume, and a serviceAccountToken source is refused with nothing left.
func TestIntegrationDownwardAPIVolume(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	objs := writeManifest(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dacfg}\ndata: {color: teal}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: dasec}\nstringData: {token: t0k3n}\n")
	t.Cleanup(func() { podsim(t, "", "delete", "-f", objs) })
	mustPodsim(t, "apply", "-f", objs)
	applyPod(t, downwardPodYAML, "dapod")
	p := getPod(t, "dapod")
	dir := volDir(p, "downward-api", "podinfo")
	if fs := strings.TrimSpace(run(t, "stat", "-f", "-c", "%T", dir)); fs != "tmpfs" {
		t.Errorf("downwardAPI volume %s is on %s, want tmpfs (kubelet's Memory-backed wrapper)", dir, fs)
	}
	if got := readHost(t, filepath.Join(dir, "labels")); got != "app=\"shop\"\ntier=\"backend\"" {
		t.Errorf("labels file on the host = %q", got)
	}
	if got := readHost(t, filepath.Join(dir, "mem")); got != "48" {
		t.Errorf("mem file = %q, want 48", got)
	}
	for f, want := range map[string]os.FileMode{"labels": 0o640, "mem": 0o600} {
		if fi, _ := statT(t, filepath.Join(dir, f)); fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", f, fi.Mode().Perm(), want)
		}
	}
	if target, err := os.Readlink(filepath.Join(dir, "labels")); err != nil || target != "..data/labels" {
		t.Errorf("labels is not kubelet's ..data symlink: %q %v", target, err)
	}
	all := volDir(p, "projected", "all")
	for f, want := range map[string]string{"cfg/color": "teal", "token": "t0k3n", "tier": "backend"} {
		if got := readHost(t, filepath.Join(all, f)); got != want {
			t.Errorf("projected %s = %q, want %q", f, got, want)
		}
		if fi, _ := statT(t, filepath.Join(all, f)); fi.Mode().Perm() != 0o444 {
			t.Errorf("projected %s mode %v, want 0444", f, fi.Mode().Perm())
		}
	}
	if r := podsim(t, "", "exec", "dapod", "--", "sh", "-c", "echo x > /etc/all/new"); r.code == 0 {
		t.Error("the projected volume is writable; kubelet mounts it read-only")
	}

	// kubectl's rules: changing a key needs --overwrite.
	if r := podsim(t, "", "label", "pod", "dapod", "tier=frontend"); r.code == 0 || !strings.Contains(r.stderr, "--overwrite") {
		t.Errorf("label without --overwrite: %s", r)
	}
	oldData, _ := os.Readlink(filepath.Join(dir, "..data"))
	if out := mustPodsim(t, "label", "--overwrite", "pod/dapod", "tier=frontend", "app-"); !strings.Contains(out, "pod/dapod labeled") {
		t.Errorf("label output %q", out)
	}
	waitFile(t, filepath.Join(dir, "labels"), "tier=\"frontend\"")
	if got := readHost(t, filepath.Join(dir, "labels")); strings.Contains(got, "app=") {
		t.Errorf("removed label still in the file: %q", got)
	}
	if newData, _ := os.Readlink(filepath.Join(dir, "..data")); newData == oldData {
		t.Errorf("..data still points to %s: the files were not swapped atomically", oldData)
	}
	if _, err := os.Stat(filepath.Join(dir, oldData)); !os.IsNotExist(err) {
		t.Errorf("the old data directory %s is still there", oldData)
	}
	waitFile(t, filepath.Join(all, "tier"), "frontend")
	// Inside, through the container's bind mount of the same tmpfs.
	if out := mustPodsim(t, "exec", "dapod", "--", "cat", "/etc/podinfo/labels", "/etc/all/tier"); !strings.Contains(out, "tier=\"frontend\"") || !strings.HasSuffix(out, "frontend") {
		t.Errorf("inside after label: %q", out)
	}
	if l := getPod(t, "dapod").Labels; l["tier"] != "frontend" || l["app"] != "" {
		t.Errorf("pod labels after label = %v", l)
	}
	mustPodsim(t, "annotate", "pod", "dapod", "note=second", "--overwrite")
	waitFile(t, filepath.Join(dir, "annotations"), "note=\"second\"")

	// apply with only the metadata changed: configured, files follow.
	changed := strings.Replace(downwardPodYAML, "tier: backend", "tier: canary", 1)
	if out := mustPodsim(t, "apply", "-f", writeManifest(t, changed)); !strings.Contains(out, "configured") {
		t.Errorf("apply with new labels: %q, want configured", out)
	}
	waitFile(t, filepath.Join(dir, "labels"), "tier=\"canary\"")
	// A ConfigMap update reaches the projected volume too.
	mustPodsim(t, "apply", "-f", writeManifest(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dacfg}\ndata: {color: plum}\n"))
	waitFile(t, filepath.Join(all, "cfg/color"), "plum")

	// No API server, no token: refused by name, nothing built.
	bad := "apiVersion: v1\nkind: Pod\nmetadata: {name: tokpod}\nspec:\n  containers:\n  - {name: c, image: busybox}\n  volumes:\n  - name: t\n    projected:\n      sources:\n      - serviceAccountToken: {path: token}\n"
	r := podsim(t, "", "apply", "-f", writeManifest(t, bad))
	if r.code == 0 || !strings.Contains(r.stderr, "serviceAccountToken") || !strings.Contains(r.stderr, "API server") {
		t.Errorf("serviceAccountToken source: %s", r)
	}
	if r := podsim(t, "", "get", "pod", "tokpod"); r.code == 0 {
		t.Error("the refused pod exists")
	}
}

// TestIntegrationHostPathTypes: every hostPath type against real host
// objects (a directory, a file, a unix socket, /dev/null): the *OrCreate
// types create what is missing (0755 directory, 0644 file), the container
// sees each kind, readOnly holds; a failed type check refuses the pod with
// the path and the reason, exit != 0, and creates nothing (not even the
// DirectoryOrCreate path of the same pod).
func TestIntegrationHostPathTypes(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(base, "app.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	mkdir, mkfile := filepath.Join(base, "made", "dir"), filepath.Join(base, "made-file")
	y := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: hostpod}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: busybox
    command: ['sleep', '3600']
    volumeMounts:
    - {name: dir, mountPath: /h/dir}
    - {name: ro, mountPath: /h/ro, readOnly: true}
    - {name: newdir, mountPath: /h/newdir}
    - {name: newfile, mountPath: /h/newfile}
    - {name: file, mountPath: /h/file}
    - {name: sock, mountPath: /h/sock}
    - {name: devnull, mountPath: /h/null}
  volumes:
  - {name: dir, hostPath: {path: %[1]s, type: Directory}}
  - {name: ro, hostPath: {path: %[1]s}}
  - {name: newdir, hostPath: {path: %[2]s, type: DirectoryOrCreate}}
  - {name: newfile, hostPath: {path: %[3]s, type: FileOrCreate}}
  - {name: file, hostPath: {path: %[4]s, type: File}}
  - {name: sock, hostPath: {path: %[5]s, type: Socket}}
  - {name: devnull, hostPath: {path: /dev/null, type: CharDevice}}
`, base, mkdir, mkfile, file, sock)
	applyPod(t, y, "hostpod")
	if fi, err := os.Stat(mkdir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
		t.Errorf("DirectoryOrCreate made %v (%v), want a 0755 directory", fi, err)
	}
	if fi, err := os.Stat(mkfile); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Errorf("FileOrCreate made %v (%v), want a 0644 file", fi, err)
	}
	out := mustPodsim(t, "exec", "hostpod", "--", "sh", "-c",
		"stat -c '%n %F' /h/dir /h/newdir /h/newfile /h/file /h/sock /h/null; cat /h/file; echo hi > /h/newdir/x; echo no > /h/ro/y 2>&1 || echo ro-refused")
	for _, want := range []string{"/h/dir directory", "/h/newdir directory", "/h/newfile regular", "/h/file regular", "/h/sock socket", "/h/null character special file", "from the host", "ro-refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("inside: %q lacks %q", out, want)
		}
	}
	if got := readHost(t, filepath.Join(mkdir, "x")); got != "hi\n" {
		t.Errorf("the container's write reached the host as %q", got)
	}
	if _, err := os.Stat(filepath.Join(base, "y")); err == nil {
		t.Error("a write through the readOnly hostPath reached the host")
	}

	untouched := filepath.Join(base, "never")
	for _, tc := range []struct{ vol, want string }{
		{fmt.Sprintf("{path: %s, type: Directory}", file), "hostPath type check failed: " + file + " is not a directory, it's a File"},
		{fmt.Sprintf("{path: %s, type: File}", filepath.Join(base, "nope")), "hostPath " + filepath.Join(base, "nope") + " doesn't exist"},
		{fmt.Sprintf("{path: %s, type: Socket}", file), "is not a socket file"},
		{"{path: /dev/null, type: BlockDevice}", "/dev/null is not a block device, it's a CharDevice"},
		{fmt.Sprintf("{path: %s, type: CharDevice}", base), "is not a character device, it's a Directory"},
		{fmt.Sprintf("{path: %s, type: FileOrCreate}", filepath.Join(base, "no", "f")), "its directory " + filepath.Join(base, "no") + " does not exist"},
	} {
		bad := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: badhost}\nspec:\n  containers:\n  - {name: c, image: busybox, command: [sleep, '60']}\n  volumes:\n  - {name: first, hostPath: {path: %s, type: DirectoryOrCreate}}\n  - {name: v, hostPath: %s}\n", untouched, tc.vol)
		r := podsim(t, "", "apply", "-f", writeManifest(t, bad))
		if r.code == 0 {
			podsim(t, "", "delete", "pod", "badhost", "--now")
			t.Errorf("hostPath %s: apply succeeded", tc.vol)
			continue
		}
		if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, `volume "v"`) {
			t.Errorf("hostPath %s: stderr %q, want %q naming the volume", tc.vol, r.stderr, tc.want)
		}
		if _, err := os.Stat(untouched); err == nil {
			t.Fatalf("hostPath %s: the refused pod created its DirectoryOrCreate path %s", tc.vol, untouched)
		}
		if r := podsim(t, "", "get", "pod", "badhost"); r.code == 0 {
			t.Errorf("hostPath %s: the refused pod exists", tc.vol)
		}
	}
}

// TestIntegrationEmptyDirMedium: a Memory emptyDir is a tmpfs whose size
// is sizeLimit, or the pod's memory limit when none is set (kubelet's
// rule), read from the container's mountinfo; the kernel refuses a write
// past it; a disk emptyDir's sizeLimit is refused by name.
func TestIntegrationEmptyDirMedium(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: mempod}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: busybox
    command: ['sleep', '3600']
    resources: {limits: {memory: 96Mi}}
    volumeMounts:
    - {name: small, mountPath: /small}
    - {name: podsized, mountPath: /podsized}
  volumes:
  - {name: small, emptyDir: {medium: Memory, sizeLimit: 4Mi}}
  - {name: podsized, emptyDir: {medium: Memory}}
`, "mempod")
	p := getPod(t, "mempod")
	mi := readHost(t, fmt.Sprintf("/proc/%d/mountinfo", appPID(t, p, "app")))
	for mp, size := range map[string]string{"/small": "size=4096k", "/podsized": "size=98304k"} {
		line := ""
		for _, l := range strings.Split(mi, "\n") {
			if f := strings.Fields(l); len(f) > 4 && f[4] == mp {
				line = l
			}
		}
		if !strings.Contains(line, " - tmpfs ") || !strings.Contains(line, size) {
			t.Errorf("mountinfo of %s = %q, want a tmpfs with %s", mp, line, size)
		}
	}
	r := podsim(t, "", "exec", "mempod", "--", "sh", "-c", "dd if=/dev/zero of=/small/big bs=1M count=5 2>&1")
	if r.code == 0 || !strings.Contains(r.stdout, "No space left") {
		t.Errorf("writing 5 MiB into a 4Mi Memory emptyDir: %s", r)
	}
}

// TestIntegrationEmptyDirSizeLimitEviction is kubelet's eviction manager
// for a disk emptyDir's sizeLimit: under the limit the pod runs on past a
// full monitoring period; once a container writes past it (measured on
// the host with du, independently of podsim) the node agent evicts the
// pod: every container stopped with kubelet's 1 s grace period, phase
// Failed, reason Evicted with kubelet's message, a Warning event, and
// nothing restarted although the restartPolicy is Always.
func TestIntegrationEmptyDirSizeLimitEviction(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: fillpod}
spec:
  terminationGracePeriodSeconds: 30
  containers:
  - name: filler
    image: busybox
    command: ['sh', '-c', 'trap "exit 0" TERM; dd if=/dev/zero of=/scratch/small bs=1M count=1; sleep 3600 & wait']
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  - name: other
    image: busybox
    command: ['sleep', '3600']
  volumes:
  - {name: scratch, emptyDir: {sizeLimit: 3Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: fillnever}
spec:
  restartPolicy: Never   # no restarts and no probes: the agent watches it for its sizeLimit alone
  containers:
  - name: c
    image: busybox
    command: ['sh', '-c', 'dd if=/dev/zero of=/data/big bs=1M count=3; exec sleep 3600']
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - {name: data, emptyDir: {sizeLimit: 1Mi}}
`, "fillpod", "fillnever")
	p := getPod(t, "fillpod")
	sb := sandboxIDOf(p)
	pids := map[string]int{} // the containers' processes; the pause stays (the sandbox is kept until delete)
	for _, name := range []string{"filler", "other"} {
		pids[name] = appPID(t, p, name)
	}
	dir := filepath.Join("/var/lib/podsim/pods", sb, "volumes/kubernetes.io~empty-dir/scratch")
	du := func() int64 {
		out, err := exec.Command("du", "-s", "-B1", dir).Output()
		if err != nil {
			t.Fatalf("du -s -B1 %s: %v", dir, err)
		}
		var n int64
		fmt.Sscan(string(out), &n)
		return n
	}
	time.Sleep(sandbox.EvictionMonitoringPeriod + 2*time.Second)
	if p = getPod(t, "fillpod"); p.Status.Phase != corev1.PodRunning || p.Status.Reason != "" {
		t.Fatalf("under its limit (du %d bytes of 3Mi) the pod must run on: phase %s reason %q", du(), p.Status.Phase, p.Status.Reason)
	}
	mustPodsim(t, "exec", "fillpod", "-c", "filler", "--", "dd", "if=/dev/zero", "of=/scratch/big", "bs=1M", "count=4")
	if n := du(); n <= 3<<20 {
		t.Fatalf("du says the emptyDir holds %d bytes after writing 5 MiB", n)
	}
	start := time.Now()
	waitFor(t, 2*sandbox.EvictionMonitoringPeriod+10*time.Second, "the eviction", func() bool {
		p = getPod(t, "fillpod")
		return p.Status.Phase == corev1.PodFailed && p.Status.Reason == "Evicted"
	})
	t.Logf("evicted %s after the write", time.Since(start).Round(100*time.Millisecond))
	if want := `Usage of EmptyDir volume "scratch" exceeds the limit "3Mi". `; p.Status.Message != want {
		t.Errorf("status.message = %q, want kubelet's %q", p.Status.Message, want)
	}
	waitFor(t, 15*time.Second, "the pod's processes to go", func() bool {
		for _, pid := range pids {
			if !gone(pid) {
				return false
			}
		}
		return true
	})
	// kubelet's 1 s (the eviction's override of 0, raised to 1), not the
	// pod's 30 s: filler exits 0 on its SIGTERM; other, a PID 1 without a
	// handler, is SIGKILLed (137).
	if time.Since(start) > 2*sandbox.EvictionMonitoringPeriod+10*time.Second {
		t.Errorf("the processes took %s to go: the eviction waited out the pod's grace period", time.Since(start))
	}
	time.Sleep(3 * time.Second) // long enough for the agent to restart something, were it to
	p = getPod(t, "fillpod")
	for name, code := range map[string]int32{"filler": 0, "other": 137} {
		cs := containerStatus(p, name)
		if cs.RestartCount != 0 || cs.State.Terminated == nil || cs.State.Terminated.ExitCode != code {
			t.Errorf("%s after the eviction: restarts %d, state %+v; want exit %d, never restarted", name, cs.RestartCount, cs.State, code)
		}
	}
	if ev := podEvents(t, sb); !strings.Contains(ev, `"Evicted"`) || !strings.Contains(ev, "exceeds the limit") {
		t.Errorf("events lack the Warning Evicted: %s", ev)
	}
	if out := mustPodsim(t, "get", "pods"); !strings.Contains(out, "Evicted") {
		t.Errorf("get pods does not show Evicted:\n%s", out)
	}
	if p := getPod(t, "fillnever"); p.Status.Reason != "Evicted" || !strings.Contains(p.Status.Message, `"data" exceeds the limit "1Mi"`) {
		t.Errorf("fillnever (restartPolicy Never) past its 1Mi: phase %s reason %q message %q; want Evicted", p.Status.Phase, p.Status.Reason, p.Status.Message)
	}
	mustPodsim(t, "delete", "pod", "fillpod", "fillnever")
}

// TestIntegrationFSGroup: fsGroup as kubelet applies it: a supplementary
// group of the container's process (/proc/<pid>/status Groups:, with
// supplementalGroups after it), the volumes' files on the host
// group-owned by it, group rw (r for read-only kinds) and directories
// setgid, so a file the non-root container creates is the group's too and
// a 0400 Secret is readable through the group; supplementalGroupsPolicy
// Strict leaves out the image's /etc/group groups.
func TestIntegrationFSGroup(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	objs := writeManifest(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fscfg}\ndata: {a: b}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: fssec}\nstringData: {key: s3cr3t}\n")
	t.Cleanup(func() { podsim(t, "", "delete", "-f", objs) })
	mustPodsim(t, "apply", "-f", objs)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: fspod}
spec:
  restartPolicy: Never
  securityContext: {runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000], fsGroupChangePolicy: OnRootMismatch}
  containers:
  - name: app
    image: busybox
    command: ['sh', '-c', 'echo data > /scratch/made-by-app && sleep 3600']
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: cfg, mountPath: /cfg}
    - {name: sec, mountPath: /sec}
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: cfg, configMap: {name: fscfg}}
  - {name: sec, secret: {secretName: fssec, defaultMode: 0400}}
`, "fspod")
	p := getPod(t, "fspod")
	status := readHost(t, fmt.Sprintf("/proc/%d/status", appPID(t, p, "app")))
	var groups, gid string
	for _, l := range strings.Split(status, "\n") {
		if g, ok := strings.CutPrefix(l, "Groups:"); ok {
			groups = " " + strings.Join(strings.Fields(g), " ") + " "
		}
		if g, ok := strings.CutPrefix(l, "Gid:"); ok {
			gid = strings.Fields(g)[0]
		}
	}
	if gid != "3000" || !strings.Contains(groups, " 2000 ") || !strings.Contains(groups, " 4000 ") {
		t.Errorf("/proc/PID/status: Gid %s Groups %q, want gid 3000 and groups 2000 (fsGroup), 4000", gid, groups)
	}
	scratch := volDir(p, "empty-dir", "scratch")
	if fi, st := statT(t, scratch); st.Gid != 2000 || fi.Mode()&os.ModeSetgid == 0 || fi.Mode().Perm() != 0o777 {
		t.Errorf("emptyDir %s: gid %d mode %v, want gid 2000, setgid, 0777", scratch, st.Gid, fi.Mode())
	}
	var made string
	for i := 0; i < 50 && made == ""; i++ {
		if b, err := os.ReadFile(filepath.Join(scratch, "made-by-app")); err == nil {
			made = string(b)
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if _, st := statT(t, filepath.Join(scratch, "made-by-app")); st.Uid != 1000 || st.Gid != 2000 {
		t.Errorf("the app's file: uid %d gid %d, want 1000 and 2000 (inherited from the setgid directory, not its gid 3000)", st.Uid, st.Gid)
	}
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{
		{filepath.Join(volDir(p, "configmap", "cfg"), "..data", "a"), 0o644},
		{filepath.Join(volDir(p, "secret", "sec"), "..data", "key"), 0o440},
	} {
		if fi, st := statT(t, f.path); st.Gid != 2000 || fi.Mode().Perm() != f.mode {
			t.Errorf("%s: gid %d mode %v, want gid 2000 and %v", f.path, st.Gid, fi.Mode().Perm(), f.mode)
		}
	}
	if out := mustPodsim(t, "exec", "fspod", "--", "cat", "/sec/key"); out != "s3cr3t" {
		t.Errorf("uid 1000 reads the 0400 secret through fsGroup as %q", out)
	}

	// Strict: exactly the primary group and the pod's groups.
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: strictpod}
spec:
  restartPolicy: Never
  securityContext: {runAsUser: 0, supplementalGroupsPolicy: Strict, supplementalGroups: [4000]}
  containers:
  - {name: app, image: busybox, command: ['sleep', '3600']}
`, "strictpod")
	sp := getPod(t, "strictpod")
	for _, l := range strings.Split(readHost(t, fmt.Sprintf("/proc/%d/status", appPID(t, sp, "app"))), "\n") {
		if g, ok := strings.CutPrefix(l, "Groups:"); ok && strings.Join(strings.Fields(g), " ") != "0 4000" {
			t.Errorf("Strict: Groups %q, want \"0 4000\" (no /etc/group groups of the image)", g)
		}
	}
}
