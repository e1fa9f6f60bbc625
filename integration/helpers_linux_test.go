// Package integration holds podsim's root-only end-to-end tests. They run
// the podsim binary (PODSIM_BIN, built by `make integration`) like a user
// would, and check what it did *independently*: with ip, ctr, /proc and
// /sys/fs/cgroup, never by asking podsim alone.
package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/sandbox"
)

var podsimBin string

func TestMain(m *testing.M) {
	podsimBin = os.Getenv("PODSIM_BIN")
	if podsimBin == "" {
		if p, err := filepath.Abs("../bin/podsim"); err == nil {
			podsimBin = p
		}
	}
	noteUncleanHost()
	os.Exit(m.Run())
}

// noteUncleanHost says once, before any test runs, when podsim had already
// left objects on this machine: the tests judge only their own effect
// (checkNoLeaks compares before and after), so those objects fail nothing,
// but a person should know they are there and how to remove them.
func noteUncleanHost() {
	if os.Geteuid() != 0 {
		return
	}
	if _, err := os.Stat(podsimBin); err != nil {
		return
	}
	out, err := exec.Command(podsimBin, "gc", "--dry-run").Output()
	if err != nil {
		return
	}
	var left []string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && !strings.HasPrefix(l, "nothing") && !strings.Contains(l, sandbox.IdleNote) {
			left = append(left, "    "+l)
		}
	}
	if len(left) > 0 {
		fmt.Fprintf(os.Stderr, "NOTE: this machine was not clean before the tests started: podsim had left %d object(s) here\n"+
			"(a killed podsim, or an earlier run). The tests judge only their own effect and ignore them;\n"+
			"to remove them run:  sudo %s gc\n%s\n", len(left), podsimBin, strings.Join(left, "\n"))
	}
}

// requireRoot skips when the test cannot run: not root, or no podsim binary.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("integration tests need root (sudo make test)")
	}
	if _, err := os.Stat(podsimBin); err != nil {
		t.Skipf("podsim binary %s not found: run 'make build' or set PODSIM_BIN", podsimBin)
	}
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		t.Skip("kernel without namespaces")
	}
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// podsim runs the binary with a timeout and returns its output and exit code.
func podsim(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(podsimBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting podsim: %v", err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(cmdTimeout()):
		cmd.Process.Kill()
		<-done
		t.Fatalf("podsim %v timed out", args)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
}

// mustPodsim runs podsim and fails the test on a non-zero exit.
func mustPodsim(t *testing.T, args ...string) string {
	t.Helper()
	r := podsim(t, "", args...)
	if r.code != 0 {
		t.Fatalf("podsim %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// run runs a host tool (ip, ctr...) used to check podsim independently.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func writeManifest(t *testing.T, y string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// applyPod applies a manifest and registers its deletion, also on failure.
func applyPod(t *testing.T, y string, names ...string) {
	t.Helper()
	p := writeManifest(t, y)
	t.Cleanup(func() {
		for _, n := range names {
			podsim(t, "", "delete", "pod", n, "--grace-period=1")
		}
	})
	mustPodsim(t, "apply", "-f", p)
}

func getPod(t *testing.T, name string) *corev1.Pod {
	t.Helper()
	var p corev1.Pod
	if err := json.Unmarshal([]byte(mustPodsim(t, "get", "pod", name, "-o", "json")), &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

// containerdAddress asks podsim which daemon it uses, for ctr.
func containerdAddress(t *testing.T) string {
	t.Helper()
	out := mustPodsim(t, "system", "info")
	m := regexp.MustCompile(`(?m)^address: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no address in %q", out)
	}
	return m[1]
}

// snapshot lists everything podsim could have left on the host, read with
// host tools and the kernel's files. Two snapshots taken before and after
// a test must be equal.
func snapshot(t *testing.T) []string {
	t.Helper()
	var items []string
	add := func(kind string, lines ...string) {
		for _, l := range lines {
			if l = strings.TrimSpace(l); l != "" {
				items = append(items, kind+": "+l)
			}
		}
	}
	for _, l := range strings.Split(run(t, "ip", "netns", "list"), "\n") {
		if strings.HasPrefix(l, "podsim") {
			add("netns", strings.Fields(l)[0])
		}
	}
	for _, l := range strings.Split(run(t, "ip", "-o", "link", "show"), "\n") {
		// podsim0 itself is kept between pods on purpose (like containerd,
		// it is shared infrastructure); what is plugged into it is not.
		if f := strings.Fields(l); len(f) > 1 && strings.HasPrefix(f[1], "veth") {
			add("link", strings.Split(f[1], "@")[0])
		}
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(l); len(f) > 4 && (strings.HasPrefix(f[4], "/run/netns/podsim-") || strings.HasPrefix(f[4], "/run/podsim/") || strings.HasPrefix(f[4], "/var/lib/podsim/")) {
			add("mount", f[4])
		}
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/podsim/*/")
	d2, _ := filepath.Glob("/sys/fs/cgroup/podsim/*/")
	for _, d := range append(dirs, d2...) {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			add("cgroup", d)
		}
	}
	// runsc keeps one state and one lock file per gVisor container there.
	for _, d := range []string{"/var/lib/podsim/pods", "/run/podsim/pods", "/var/log/podsim/pods", "/var/lib/podsim/deployments", "/run/podsim/runsc/podsim"} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			add("file", filepath.Join(d, e.Name()))
		}
	}
	addr := containerdAddress(t)
	for _, what := range []string{"containers", "tasks", "snapshots", "leases", "ingests"} {
		var out string
		switch what {
		case "ingests": // content being written (`ctr content active`: REF SIZE AGE)
			var refs []string
			for i, l := range strings.Split(run(t, "ctr", "-a", addr, "-n", "podsim", "content", "active"), "\n") {
				if f := strings.Fields(l); i > 0 && len(f) > 0 {
					refs = append(refs, f[0])
				}
			}
			out = strings.Join(refs, "\n")
		case "snapshots":
			// Image layers are cached on purpose (keys sha256:...);
			// container snapshots are named after their containers.
			var keep []string
			for i, l := range strings.Split(run(t, "ctr", "-a", addr, "-n", "podsim", what, "ls"), "\n") {
				// ...except a hostUsers: false pod's chowned copy of an
				// image (sha256:<chain>-<hostID>-<hostID>), which is the pod's.
				if f := strings.Fields(l); i > 0 && len(f) > 0 && (!strings.HasPrefix(f[0], "sha256:") || remappedRE.MatchString(f[0])) {
					keep = append(keep, f[0])
				}
			}
			out = strings.Join(keep, "\n")
		default:
			out = run(t, "ctr", "-a", addr, "-n", "podsim", what, "ls", "-q")
		}
		add("containerd "+what, strings.Split(out, "\n")...)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		cl := strings.ReplaceAll(string(b), "\x00", " ")
		if (strings.Contains(cl, "containerd-shim") && strings.Contains(cl, "-namespace podsim")) ||
			strings.HasPrefix(cl, "/pause") || strings.Contains(cl, "--podsim-cri-logger") ||
			((strings.HasPrefix(cl, "runsc-") || strings.HasPrefix(filepath.Base(strings.Fields(cl + " x")[0]), "runsc")) &&
				strings.Contains(cl, "--root=/run/podsim/runsc")) { // gVisor's Sentry, gofers and the shim's runsc calls
			add("process", filepath.Base(filepath.Dir(p))+" "+cl)
		}
	}
	sort.Strings(items)
	return items
}

// remappedRE matches the name of the chowned image copy containerd's
// client makes for a user namespace's host ID.
var remappedRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}-(\d+)-(\d+)$`)

// checkNoLeaks registers a cleanup that fails the test if the test left
// anything podsim made: what is there after the test's own cleanups ran
// and was not there before it. Objects left before the test (by a killed
// podsim, say) are not its doing: TestMain names them once, and a test
// that runs `podsim gc` may remove them.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	before := snapshot(t)
	t.Cleanup(func() {
		var left []string
		// Shims exit asynchronously after their last container is deleted.
		for i := 0; i < 50; i++ {
			if left = added(before, snapshot(t)); len(left) == 0 {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("podsim left objects behind (not there before the test):\n  %s", strings.Join(left, "\n  "))
	})
}

// added lists the items of after that are not in before.
func added(before, after []string) []string {
	had := map[string]bool{}
	for _, b := range before {
		had[b] = true
	}
	var out []string
	for _, a := range after {
		if !had[a] {
			out = append(out, a)
		}
	}
	return out
}

// containerPIDs finds the host PIDs of a pod's containers from the pod
// cgroup (cgroup.procs), not from podsim: container ID -> pid.
func containerPIDs(t *testing.T, uid string) map[string]int {
	t.Helper()
	_, dirs := podCgroupDirs(uid)
	out := map[string]int{}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			continue
		}
		if pid := mainProcess(strings.Fields(string(b))); pid != 0 {
			out[filepath.Base(d)] = pid
		}
	}
	return out
}

// podCgroupDirs finds a pod's cgroup directory (of the pids hierarchy on
// cgroup v1, the unified one on v2) and its containers' below it. The pod
// cgroup is in its QoS tier, as kubelet's: podsim/pod<uid> (Guaranteed),
// podsim/burstable/pod<uid>, podsim/besteffort/pod<uid>.
func podCgroupDirs(uid string) (pod string, containers []string) {
	name := "pod" + strings.ReplaceAll(uid, "-", "_")
	for _, root := range []string{"/sys/fs/cgroup/pids/podsim/", "/sys/fs/cgroup/podsim/"} {
		for _, tier := range []string{"", "besteffort/", "burstable/"} {
			if st, err := os.Stat(root + tier + name); err == nil && st.IsDir() {
				pod = root + tier + name
				ents, _ := os.ReadDir(pod)
				for _, e := range ents {
					if e.IsDir() {
						containers = append(containers, filepath.Join(pod, e.Name()))
					}
				}
				return pod, containers
			}
		}
	}
	return "", nil
}

// mainProcess is the container's own process among its cgroup's PIDs: of
// those whose parent is not in the cgroup (the shim is: the container's
// process, and any `exec`'d one), the one that started first. The lowest
// PID is not it: a child (the `sleep 1` of a shell loop) gets a lower PID
// once the kernel's PID counter wraps (pid_max is 32768 here).
func mainProcess(pids []string) int {
	in := map[string]bool{}
	for _, p := range pids {
		in[p] = true
	}
	best, bestStart := 0, uint64(0)
	for _, p := range pids {
		st, err := os.ReadFile("/proc/" + p + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... starttime (field 22): after the last ')'.
		f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
		if len(f) < 20 || in[f[1]] {
			continue
		}
		var pid int
		var start uint64
		fmt.Sscan(p, &pid)
		fmt.Sscan(f[19], &start)
		if best == 0 || start < bestStart {
			best, bestStart = pid, start
		}
	}
	return best
}

func nsInode(t *testing.T, pid int, typ string) string {
	t.Helper()
	path := "/proc/self/ns/" + typ
	if pid > 0 {
		path = fmt.Sprintf("/proc/%d/ns/%s", pid, typ)
	}
	l, err := os.Readlink(path)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// runShell runs a shell pipeline (for tests of podsim in pipes) and returns its stdout.
func runShell(script string) (string, error) {
	out, err := exec.Command("bash", "-c", script).Output()
	return string(out), err
}

func podsimCmd(args ...string) *exec.Cmd { return exec.Command(podsimBin, args...) }

// cmdTimeout bounds one podsim command: generous, because `run all` in a
// software-emulated VM (make vm-test without KVM) is 20x slower than here.
func cmdTimeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("PODSIM_CMD_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return 15 * time.Minute
}
