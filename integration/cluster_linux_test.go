package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The local test cluster of hack/cluster (make cluster-up): upstream
// kubelet, kube-apiserver, kube-controller-manager and etcd on 127.0.0.1,
// the kubelet on a private containerd with the CRI plugin.

// clusterPodtest is the article's two-container pod, bound to the cluster's
// only node (there is no scheduler) and using the images podsim imported.
const clusterPodtest = `apiVersion: v1
kind: Pod
metadata:
  name: podtest
spec:
  nodeName: 127.0.0.1
  terminationGracePeriodSeconds: 1
  containers:
  - name: c1
    image: busybox
    imagePullPolicy: Never
    command: ['sleep', '5000']
    volumeMounts:
    - name: shared
      mountPath: /shared
  - name: c2
    image: busybox
    imagePullPolicy: Never
    command: ['sleep', '5000']
    volumeMounts:
    - name: shared
      mountPath: /shared
  volumes:
  - name: shared
    emptyDir: {}
`

// localCluster is what hack/cluster/env.sh prints.
type localCluster struct {
	env  map[string]string
	repo string
}

// requireCluster skips unless the cluster's binaries are built (make
// cluster-deps caches them; building takes ~6 minutes, so a plain
// `make integration` does not) or PODSIM_CLUSTER=1 asks for the test, in
// which case missing binaries fail it.
func requireCluster(t *testing.T) *localCluster {
	t.Helper()
	requireRoot(t)
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(filepath.Join(repo, "hack/cluster/build.sh"), "--check").CombinedOutput(); err != nil {
		if os.Getenv("PODSIM_CLUSTER") == "1" {
			t.Fatalf("PODSIM_CLUSTER=1 but the cluster's binaries are not built: run 'make cluster-deps' (%v %s)", err, out)
		}
		t.Skip("the local cluster's binaries are not built (make cluster-deps, ~6 minutes once; then make cluster-test)")
	}
	out, err := exec.Command(filepath.Join(repo, "hack/cluster/env.sh")).Output()
	if err != nil {
		t.Fatalf("hack/cluster/env.sh: %v", err)
	}
	c := &localCluster{env: map[string]string{}, repo: repo}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			c.env[k] = v
		}
	}
	if _, err := os.Stat(c.env["CLUSTER_STATE"]); err == nil {
		t.Skipf("a local cluster is already up (%s exists): the test brings up and tears down its own; run 'make cluster-down' first", c.env["CLUSTER_STATE"])
	}
	return c
}

func (c *localCluster) script(name string) (string, error) {
	out, err := exec.Command(filepath.Join(c.repo, "hack/cluster", name)).CombinedOutput()
	return string(out), err
}

func (c *localCluster) kubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(c.env["KUBECTL"], append([]string{"--kubeconfig", c.env["KUBECONFIG"]}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// podCgroupPIDs reads, from the kernel's cgroup files, the first process of
// each container cgroup of the pod: kubelet's cgroupfs layout is
// <root>/kubepods/<qos>/pod<uid>/<container id>, and the one that is not an
// app container is the sandbox (pause).
func (c *localCluster) podCgroupPIDs(t *testing.T, uid string) map[string]int {
	t.Helper()
	root := c.env["CLUSTER_CGROUP_ROOT"]
	var dirs []string
	for _, base := range []string{"/sys/fs/cgroup/pids/", "/sys/fs/cgroup/"} {
		for _, qos := range []string{"", "besteffort/", "burstable/"} {
			d, _ := filepath.Glob(base + root + "/kubepods/" + qos + "pod" + uid + "/*/cgroup.procs")
			dirs = append(dirs, d...)
		}
		if len(dirs) > 0 {
			break
		}
	}
	out := map[string]int{}
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var pid int
		if _, err := fmt.Sscan(string(b), &pid); err == nil {
			out[filepath.Base(filepath.Dir(f))] = pid
		}
	}
	return out
}

// TestIntegrationClusterPodtest brings the local cluster up, runs the
// article's podtest pod through the API and kubelet, checks from the host
// that c1, c2 and the pause share one network namespace that is not the
// host's (and have their own mount and PID namespaces), that kubectl exec
// works and both containers see the same eth0, then brings the cluster down
// and checks it left nothing (cluster-down compares the host with the
// inventory cluster-up took; the test also looks itself).
func TestIntegrationClusterPodtest(t *testing.T) {
	c := requireCluster(t)

	var pinned []string // the /run/netns pin of the pod's netns
	var cgroupDirs []string
	var pids []int
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(c.env["CLUSTER_STATE"], "log", "*.log"))
			for _, l := range logs {
				if out, err := exec.Command("tail", "-n", "15", l).Output(); err == nil {
					t.Logf("--- %s\n%s", l, out)
				}
			}
		}
		start := time.Now()
		out, err := c.script("down.sh")
		if err != nil {
			t.Errorf("cluster-down: %v\n%s", err, out)
			return
		}
		t.Logf("cluster-down took %s: %s", time.Since(start).Round(100*time.Millisecond), strings.TrimSpace(out))
		// Independently of the script's own inventory.
		for _, pid := range pids {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
				if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); strings.Contains(exe, "busybox") || strings.Contains(exe, "pause") {
					t.Errorf("process %d (%s) of the pod still runs", pid, exe)
				}
			}
		}
		for _, p := range append(pinned, cgroupDirs...) {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("%s is still there after cluster-down", p)
			}
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
	t.Log(strings.TrimSpace(c.kubectl(t, "", "get", "nodes", "-o", "wide")))

	start = time.Now()
	c.kubectl(t, clusterPodtest, "apply", "-f", "-")
	c.kubectl(t, "", "wait", "--for=condition=Ready", "pod/podtest", "--timeout=120s")
	t.Logf("podtest Ready %s after kubectl apply", time.Since(start).Round(100*time.Millisecond))

	var pod corev1.Pod
	if err := json.Unmarshal([]byte(c.kubectl(t, "", "get", "pod", "podtest", "-o", "json")), &pod); err != nil {
		t.Fatal(err)
	}
	apps := map[string]string{} // container id -> name
	for _, st := range pod.Status.ContainerStatuses {
		apps[strings.TrimPrefix(st.ContainerID, "containerd://")] = st.Name
	}
	byName := map[string]int{}
	for id, pid := range c.podCgroupPIDs(t, string(pod.UID)) {
		name, ok := apps[id]
		if !ok {
			name = "POD"
		}
		byName[name] = pid
		pids = append(pids, pid)
	}
	if len(byName) != 3 || byName["POD"] == 0 || byName["c1"] == 0 || byName["c2"] == 0 {
		t.Fatalf("pod cgroups hold %v, want POD (pause), c1 and c2", byName)
	}
	for _, h := range []string{"pids", "memory", "cpu", ""} {
		d, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", h, c.env["CLUSTER_CGROUP_ROOT"], "kubepods", "*", "pod"+string(pod.UID)))
		cgroupDirs = append(cgroupDirs, d...)
	}

	// One network namespace for pause, c1 and c2, not the host's; ipc and
	// uts of the pause too; own mount and PID namespaces per container.
	hostNet := nsInode(t, 0, "net")
	for _, typ := range []string{"net", "ipc", "uts"} {
		p, c1, c2 := nsInode(t, byName["POD"], typ), nsInode(t, byName["c1"], typ), nsInode(t, byName["c2"], typ)
		t.Logf("%s: POD %s  c1 %s  c2 %s", typ, p, c1, c2)
		if c1 != p || c2 != p {
			t.Errorf("%s namespaces differ: POD %s, c1 %s, c2 %s", typ, p, c1, c2)
		}
	}
	if n := nsInode(t, byName["c1"], "net"); n == hostNet {
		t.Errorf("c1 is in the host's network namespace %s", n)
	}
	for _, typ := range []string{"mnt", "pid"} {
		if c1, c2 := nsInode(t, byName["c1"], typ), nsInode(t, byName["c2"], typ); c1 == c2 {
			t.Errorf("c1 and c2 share %s namespace %s; kubelet gives each container its own", typ, c1)
		}
	}
	// The netns pin the CRI plugin made for the sandbox: a /run/netns entry
	// with the pod's inode.
	var podNetIno uint64
	if fi, err := os.Stat(fmt.Sprintf("/proc/%d/ns/net", byName["POD"])); err == nil {
		podNetIno = inodeOf(fi)
	}
	if ents, err := os.ReadDir("/run/netns"); err == nil {
		for _, e := range ents {
			p := filepath.Join("/run/netns", e.Name())
			if fi, err := os.Stat(p); err == nil && inodeOf(fi) == podNetIno {
				pinned = append(pinned, p)
			}
		}
	}
	if len(pinned) != 1 {
		t.Errorf("want one /run/netns pin of the pod's netns (inode %d), found %v", podNetIno, pinned)
	}

	// kubectl exec through apiserver -> kubelet -> the CRI stream server.
	if got := strings.TrimSpace(c.kubectl(t, "", "exec", "podtest", "-c", "c1", "--", "sh", "-c", "echo hello from $(hostname)")); got != "hello from podtest" {
		t.Errorf("kubectl exec in c1 printed %q, want %q", got, "hello from podtest")
	}
	mac1 := strings.TrimSpace(c.kubectl(t, "", "exec", "podtest", "-c", "c1", "--", "cat", "/sys/class/net/eth0/address"))
	mac2 := strings.TrimSpace(c.kubectl(t, "", "exec", "podtest", "-c", "c2", "--", "cat", "/sys/class/net/eth0/address"))
	if mac1 == "" || mac1 != mac2 {
		t.Errorf("eth0 MAC in c1 %q, in c2 %q: want one and the same", mac1, mac2)
	}
	c.kubectl(t, "", "exec", "podtest", "-c", "c1", "--", "sh", "-c", "echo bar > /shared/bar")
	if got := strings.TrimSpace(c.kubectl(t, "", "exec", "podtest", "-c", "c2", "--", "cat", "/shared/bar")); got != "bar" {
		t.Errorf("c2 reads %q from /shared/bar, want what c1 wrote (bar)", got)
	}

	start = time.Now()
	c.kubectl(t, "", "delete", "pod", "podtest", "--wait=true", "--timeout=60s")
	t.Logf("podtest deleted in %s", time.Since(start).Round(100*time.Millisecond))
	for _, p := range pinned {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("netns pin %s is still there after the pod was deleted", p)
		}
	}

	// podsim compare --against kubelet: the same podtest made by podsim and
	// by this kubelet, every difference explained (--strict), the namespace
	// matrix equal (else exit 2).
	t.Run("CompareAgainstKubelet", func(t *testing.T) {
		before := snapshot(t)
		r := podsim(t, "", "compare", "--against", "kubelet", "--kubeconfig", c.env["KUBECONFIG"], "--strict", "--json",
			filepath.Join(c.repo, "hack/bench/podtest.yaml"))
		if r.code != 0 {
			t.Fatalf("podsim compare --against kubelet --strict: %s", r)
		}
		var out struct {
			Diffs []struct {
				Area, Container, Item, Podsim, CRI string
				Equal                              bool
			} `json:"diffs"`
			Summary struct{ Items, Equal, Different, Essential, Unexplained int } `json:"summary"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("compare --json: %v\n%s", err, r.stdout)
		}
		t.Logf("compare --against kubelet: %+v", out.Summary)
		for _, d := range out.Diffs {
			if !d.Equal {
				t.Logf("  differs: %s %s %s: podsim %q, kubelet %q", d.Area, d.Container, d.Item, d.Podsim, d.CRI)
			}
		}
		if out.Summary.Items < 100 || out.Summary.Essential != 0 || out.Summary.Unexplained != 0 {
			t.Errorf("summary %+v: want 100+ items, none essential or unexplained", out.Summary)
		}
		if after := snapshot(t); !slices.Equal(before, after) {
			t.Errorf("podsim's side left something:\nbefore %v\nafter  %v", before, after)
		}
	})
}

func inodeOf(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}
