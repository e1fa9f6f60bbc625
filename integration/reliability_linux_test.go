package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/podsim/podsim/sandbox"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// inventory is podsim's own leak accounting: what `podsim gc --dry-run`
// would remove (the idle bridge aside); the tests use it next to their
// independent snapshot.
func inventory(t *testing.T) string {
	t.Helper()
	out := mustPodsim(t, "gc", "--dry-run")
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		// The bridge stays between pods (idle); everything else must go.
		// The node agent runs between commands on purpose, like containerd.
		if l != "" && !strings.HasPrefix(l, "nothing") && !strings.HasSuffix(l, sandbox.IdleNote) && !strings.HasSuffix(l, sandbox.AgentNote) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// inventoryAdded is what the inventory holds now and did not hold in
// before (an earlier inventory): a test's own leftovers, not the host's.
func inventoryAdded(t *testing.T, before string) string {
	t.Helper()
	return strings.Join(added(strings.Split(before, "\n"), strings.Split(inventory(t), "\n")), "\n")
}

// containerdPID finds podsim's own containerd (embedded mode only).
func containerdPID() int {
	b, err := os.ReadFile("/run/podsim/containerd/containerd.pid")
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func fdCount(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents)
}

func rssKB(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestIntegrationCycles: create -> exec -> delete of the article's pod,
// PODSIM_CYCLES times (100 by default; 1000 for the long version), with no
// leaked object and no growth in containerd's open fds or memory.
func TestIntegrationCycles(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	inv0 := inventory(t)
	n := envInt("PODSIM_CYCLES", 100)
	p := writeManifest(t, podtest)
	warm := func() {
		mustPodsim(t, "apply", "-f", p)
		mustPodsim(t, "delete", "pod", "podtest")
	}
	warm() // first use builds caches (images, gRPC connections in containerd)
	cpid := containerdPID()
	fds0, rss0 := fdCount(cpid), rssKB(cpid)
	start := time.Now()
	for i := 0; i < n; i++ {
		mustPodsim(t, "apply", "-f", p)
		if out := mustPodsim(t, "exec", "podtest", "-c", "c2", "--", "cat", "/etc/hostname"); out != "podtest\n" {
			t.Fatalf("cycle %d: exec printed %q", i, out)
		}
		mustPodsim(t, "delete", "pod", "podtest")
	}
	t.Logf("%d cycles in %s (%.0f ms per cycle)", n, time.Since(start).Round(time.Millisecond), float64(time.Since(start).Milliseconds())/float64(n))
	if inv := inventoryAdded(t, inv0); inv != "" {
		t.Errorf("after %d cycles podsim's inventory holds new objects:\n%s", n, inv)
	}
	if cpid != 0 {
		// Shims and gRPC streams close asynchronously: give containerd a moment.
		time.Sleep(time.Second)
		fds1, rss1 := fdCount(cpid), rssKB(cpid)
		t.Logf("containerd pid %d: fds %d -> %d, RSS %d kB -> %d kB", cpid, fds0, fds1, rss0, rss1)
		if fds1 > fds0+10 {
			t.Errorf("containerd's open fds grew from %d to %d over %d cycles", fds0, fds1, n)
		}
		if rss1 > rss0*3/2+8192 {
			t.Errorf("containerd's RSS grew from %d kB to %d kB over %d cycles", rss0, rss1, n)
		}
	}
}

// TestIntegrationCrashAtEveryStep kills podsim with SIGKILL right after
// each step of pod creation; `podsim gc` must then leave the host clean and
// a new pod of the same name must work.
func TestIntegrationCrashAtEveryStep(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	p := writeManifest(t, podtest)
	var steps []string
	for _, s := range sandbox.CrashSteps {
		if s == "container:" { // one point after each container's start
			steps = append(steps, s+"c1", s+"c2")
			continue
		}
		steps = append(steps, s)
	}
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			cmd := podsimCmd("apply", "-f", p)
			cmd.Env = append(os.Environ(), "PODSIM_CRASH_AFTER="+step)
			out, err := cmd.CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("podsim was not killed after %s: err %v, output %s", step, err, out)
			}
			if inv := inventory(t); inv == "" && step != "record" {
				t.Errorf("nothing half-built after a crash at %s? the fault point did not fire", step)
			}
			mustPodsim(t, "gc")
			if inv := inventory(t); inv != "" {
				t.Errorf("gc after a crash at %s left:\n%s", step, inv)
			}
			mustPodsim(t, "apply", "-f", p)
			if out := mustPodsim(t, "exec", "podtest", "-c", "c1", "--", "hostname"); out != "podtest\n" {
				t.Errorf("pod after recovery: %q", out)
			}
			mustPodsim(t, "delete", "pod", "podtest")
		})
	}
}

// TestIntegrationBrokenPods: the pause or a shim killed under a running pod.
func TestIntegrationBrokenPods(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	inv0 := inventory(t)
	applyPod(t, podtest, "podtest")
	pod := getPod(t, "podtest")
	pids := containerPIDs(t, string(pod.UID))
	sandboxID := strings.TrimSuffix(strings.TrimPrefix(pod.Status.ContainerStatuses[0].ContainerID, "containerd://"), "-c1")
	// Kill the pause container's process: the pod's namespaces lose their holder.
	if err := syscall.Kill(pids[sandboxID], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var out string
	for i := 0; i < 50; i++ {
		out = mustPodsim(t, "get", "pods", "podtest")
		if strings.Contains(out, "Unknown") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out, "Unknown") {
		t.Errorf("pod with a dead pause container shows:\n%s", out)
	}
	mustPodsim(t, "delete", "pod", "podtest")

	// Kill the pod's shim: containerd loses the tasks; delete must still clean up.
	applyPod(t, podtest, "podtest")
	pod = getPod(t, "podtest")
	pids = containerPIDs(t, string(pod.UID))
	shim := parentPID(t, pids[strings.TrimSuffix(strings.TrimPrefix(pod.Status.ContainerStatuses[0].ContainerID, "containerd://"), "-c1")])
	if err := syscall.Kill(shim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	mustPodsim(t, "delete", "pod", "podtest")
	if inv := inventoryAdded(t, inv0); inv != "" {
		t.Errorf("after deleting a pod whose shim was killed:\n%s", inv)
	}
	// The container processes died with the shim (runc kills them: they are
	// in the shim's pdeath/subreaper tree) or were killed by delete.
	for id, pid := range pids {
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !strings.Contains(string(st), ") Z ") {
			t.Errorf("process %d of %s survived", pid, id)
		}
	}
}

// TestIntegrationConcurrency: PODSIM_PARALLEL (50) pods created at once by
// separate podsim processes all run with unique IPs; then five processes
// delete the same pod at once: one succeeds, the others say "not found".
func TestIntegrationConcurrency(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	n := envInt("PODSIM_PARALLEL", 50)
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]string, n)
	t.Cleanup(func() {
		for i := 0; i < n; i++ {
			podsim(t, "", "delete", "pod", fmt.Sprintf("par-%d", i), "--grace-period=0")
		}
	})
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, fmt.Sprintf("p%d.yaml", i))
		os.WriteFile(p, []byte(fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: par-%d\nspec:\n  containers:\n  - {name: c, image: busybox, command: [sleep, '5000']}\n", i)), 0o644)
		wg.Add(1)
		go func(i int, p string) {
			defer wg.Done()
			if out, err := podsimCmd("apply", "-f", p).CombinedOutput(); err != nil {
				errs[i] = fmt.Sprintf("pod %d: %v %s", i, err, out)
			}
		}(i, p)
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
	ips := map[string]string{}
	out := mustPodsim(t, "get", "pods", "-o", "wide")
	running := 0
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 6 || !strings.HasPrefix(f[0], "par-") {
			continue
		}
		if f[2] == "Running" {
			running++
		}
		if net.ParseIP(f[5]) == nil {
			t.Errorf("pod %s has no IP: %q", f[0], l)
		}
		if other, dup := ips[f[5]]; dup {
			t.Errorf("IP %s given to %s and %s", f[5], other, f[0])
		}
		ips[f[5]] = f[0]
	}
	if running != n || len(ips) != n {
		t.Errorf("%d of %d pods running, %d unique IPs:\n%s", running, n, len(ips), out)
	}
	// Concurrent delete of one pod.
	var ok, notFound, other int
	var mu sync.Mutex
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := podsimCmd("delete", "pod", "par-0", "--grace-period=0").CombinedOutput()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case strings.Contains(string(out), "not found"):
				notFound++
			default:
				other++
				t.Errorf("concurrent delete: %v %s", err, out)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || notFound != 4 || other != 0 {
		t.Errorf("concurrent deletes: %d ok, %d not found, %d other; want 1, 4, 0", ok, notFound, other)
	}
}

// TestIntegrationConfinement: what CRI gives a container by default,
// checked from inside the container and from /proc.
func TestIntegrationConfinement(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	// A service on the host's loopback that pods must not reach.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("host-secret\n"))
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	applyPod(t, `apiVersion: v1
kind: Pod
metadata:
  name: confined
spec:
  containers:
  - name: plain
    image: busybox
    command: ['sleep', '5000']
  - name: nopriv
    image: busybox
    command: ['sleep', '5000']
    securityContext:
      allowPrivilegeEscalation: false
      runAsUser: 1000
  - name: netadmin
    image: busybox
    command: ['sleep', '5000']
    securityContext:
      capabilities: {drop: [NET_RAW], add: [NET_ADMIN]}
  - name: priv
    image: busybox
    command: ['sleep', '5000']
    securityContext: {privileged: true}
`, "confined")
	pod := getPod(t, "confined")
	pids := containerPIDs(t, string(pod.UID))
	sandboxID := strings.TrimSuffix(strings.TrimPrefix(pod.Status.ContainerStatuses[0].ContainerID, "containerd://"), "-plain")
	status := func(name string) string {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pids[sandboxID+"-"+name]))
		return string(b)
	}
	capEff := func(name string) uint64 {
		m := regexp.MustCompile(`CapEff:\s+([0-9a-f]+)`).FindStringSubmatch(status(name))
		if m == nil {
			t.Fatalf("no CapEff for %s", name)
		}
		v, _ := strconv.ParseUint(m[1], 16, 64)
		return v
	}
	// containerd's (and CRI's) default set: CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID
	// SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE.
	var want uint64
	for _, bit := range []uint{0, 1, 4, 3, 27, 13, 6, 7, 31, 8, 10, 18, 5, 29} {
		want |= 1 << bit
	}
	if got := capEff("plain"); got != want {
		t.Errorf("default capabilities = %#x, want CRI's default set %#x", got, want)
	}
	if !strings.Contains(status("nopriv"), "NoNewPrivs:\t1") {
		t.Errorf("allowPrivilegeEscalation: false did not set no_new_privs")
	}
	if got := capEff("priv"); got&(1<<21) == 0 {
		t.Errorf("privileged container lacks CAP_SYS_ADMIN: %#x", got)
	}
	if st := status("nopriv"); !regexp.MustCompile(`Uid:\s+1000\s`).MatchString(st) {
		t.Errorf("runAsUser 1000 not applied")
	}
	// Inside the plain container.
	for _, tc := range []struct {
		cmd  string
		want string // expected output substring; exit code must be non-zero when fail is set
		fail bool
	}{
		{"cat /proc/sys/kernel/hostname > /proc/sys/kernel/hostname", "", true}, // /proc/sys is read-only
		{fmt.Sprintf("nc -w 2 127.0.0.1 %d", port), "", true},                   // the host's loopback is not the pod's
		{"ip link set lo mtu 65535", "", true},                                  // no CAP_NET_ADMIN
	} {
		r := podsim(t, "", "exec", "confined", "-c", "plain", "--", "sh", "-c", tc.cmd)
		if tc.fail && r.code == 0 {
			t.Errorf("%q succeeded in a confined container: %s", tc.cmd, r)
		}
		if !tc.fail && r.code != 0 {
			t.Errorf("%q: %s", tc.cmd, r)
		}
		if tc.want != "" && strings.TrimSpace(r.stdout) != tc.want {
			t.Errorf("%q printed %q, want %q", tc.cmd, r.stdout, tc.want)
		}
		if strings.Contains(r.stdout, "host-secret") {
			t.Errorf("a pod reached a service on the host's 127.0.0.1")
		}
	}
	// Masked paths (CRI's list): /dev/null is bound over them, so they read empty.
	masked := 0
	for _, p := range []string{"/proc/kcore", "/proc/timer_list", "/proc/sched_debug", "/proc/keys"} {
		if !nonEmpty(p) {
			continue // not in this kernel, or empty on the host too
		}
		masked++
		if r := podsim(t, "", "exec", "confined", "-c", "plain", "--", "sh", "-c", "wc -c < "+p); strings.TrimSpace(r.stdout) != "0" {
			t.Errorf("%s is not masked in the container: %s", p, r)
		}
	}
	if masked == 0 {
		t.Log("no masked /proc file has content on this host; masking not checked")
	}
	// It sees only its own processes: sleep and ps (plus the shell).
	if r := podsim(t, "", "exec", "confined", "-c", "plain", "--", "ps", "-o", "pid,comm"); strings.Count(r.stdout, "\n") > 4 {
		t.Errorf("container sees other processes:\n%s", r.stdout)
	}
	// A non-root user gets no effective capabilities (as in Kubernetes).
	if got := capEff("nopriv"); got != 0 {
		t.Errorf("runAsUser 1000 has effective capabilities %#x", got)
	}
	if got := capEff("netadmin"); got&(1<<12) == 0 || got&(1<<13) != 0 {
		t.Errorf("capabilities add NET_ADMIN / drop NET_RAW: CapEff %#x", got)
	}
	// NET_ADMIN added: changing a link works (in the pod's netns only).
	if r := podsim(t, "", "exec", "confined", "-c", "netadmin", "--", "sh", "-c", "ip link set lo mtu 65535 && ip link set lo mtu 65536"); r.code != 0 {
		t.Errorf("capabilities add NET_ADMIN not applied: %s", r)
	}
}

// TestIntegrationNetwork: pods reach each other and the node's bridge
// address only; podsim adds no default route, no NAT, and leaves
// net.ipv4.ip_forward as it found it.
func TestIntegrationNetwork(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	fwdBefore, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	applyPod(t, `apiVersion: v1
kind: Pod
metadata:
  name: net-a
spec:
  containers:
  - {name: web, image: busybox, command: ['sh', '-c', 'mkdir /www && echo from-a > /www/index.html && exec httpd -f -p 8081 -h /www']}
---
apiVersion: v1
kind: Pod
metadata:
  name: net-b
spec:
  containers:
  - {name: c, image: busybox, command: ['sleep', '5000']}
`, "net-a", "net-b")
	a := getPod(t, "net-a")
	var out string
	for i := 0; i < 50; i++ { // httpd needs a moment after its container starts
		r := podsim(t, "", "exec", "net-b", "--", "wget", "-qO-", "http://"+a.Status.PodIP+":8081/")
		if out = r.stdout; r.code == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out != "from-a\n" {
		t.Errorf("pod b could not reach pod a at %s: %q", a.Status.PodIP, out)
	}
	// The node reaches the pod over the bridge's connected route.
	if b, err := exec.Command("wget", "-qO-", "-T", "3", "http://"+a.Status.PodIP+":8081/").Output(); err == nil && string(b) != "from-a\n" {
		t.Errorf("host fetch: %q", b)
	} else if err != nil {
		if _, lerr := exec.LookPath("wget"); lerr == nil {
			t.Errorf("the host cannot reach pod %s: %v", a.Status.PodIP, err)
		}
	}
	routes := mustPodsim(t, "exec", "net-b", "--", "ip", "route")
	if strings.Contains(routes, "default") {
		t.Errorf("pod has a default route (it could reach beyond the bridge):\n%s", routes)
	}
	br := run(t, "ip", "-4", "-o", "addr", "show", "podsim0")
	gw := regexp.MustCompile(`inet (\S+)/`).FindStringSubmatch(br)
	if gw == nil {
		t.Fatalf("bridge has no address: %s", br)
	}
	if r := podsim(t, "", "exec", "net-b", "--", "ping", "-c", "1", "-W", "2", gw[1]); r.code != 0 {
		t.Errorf("pod cannot reach the bridge address %s: %s", gw[1], r)
	}
	if r := podsim(t, "", "exec", "net-b", "--", "ping", "-c", "1", "-W", "1", "192.0.2.1"); r.code == 0 {
		t.Errorf("pod reached an address outside the pod network")
	}
	if fwdAfter, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); string(fwdAfter) != string(fwdBefore) {
		t.Errorf("net.ipv4.ip_forward changed from %q to %q", fwdBefore, fwdAfter)
	}
}

// nonEmpty reads one byte: /proc/kcore is as large as the address space.
func nonEmpty(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 1)
	n, _ := f.Read(b)
	return n == 1
}

// TestIntegrationConcurrentDeploymentApply: three `podsim apply` of the same
// 2-replica Deployment at once end with exactly 2 pods (each apply reads
// the Deployment's pods and creates the missing ones; without the
// per-Deployment lock all three saw two missing and made six).
func TestIntegrationConcurrentDeploymentApply(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	p := writeManifest(t, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: race
spec:
  replicas: 2
  selector:
    matchLabels: {app: race}
  template:
    metadata:
      labels: {app: race}
    spec:
      containers:
      - name: c
        image: busybox
        command: ['sleep', '5000']
`)
	t.Cleanup(func() { podsim(t, "", "delete", "deployment", "race", "--grace-period=0") })
	var wg sync.WaitGroup
	res := make([]result, 3)
	for i := range res {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res[i] = podsim(t, "", "apply", "-f", p)
		}(i)
	}
	wg.Wait()
	for i, r := range res {
		if r.code != 0 {
			t.Errorf("apply %d: %s", i, r)
		}
	}
	if pods := strings.Fields(mustPodsim(t, "get", "pods", "-l", "app=race", "-o", "name")); len(pods) != 2 {
		t.Errorf("after 3 concurrent applies: %d pods %v, want 2", len(pods), pods)
	}
}

// TestIntegrationContainerdKilledMidCreate: podsim's own containerd dies
// with SIGKILL while a pod is being built (its init container runs). The
// apply fails with an error and keeps the record; the next podsim command
// starts containerd again (which finds the pod's shim still running), and
// `podsim gc` then leaves the host clean; the same pod can be made again.
// Only where podsim runs its own containerd: a system daemon is not ours
// to kill.
func TestIntegrationContainerdKilledMidCreate(t *testing.T) {
	requireRoot(t)
	mustPodsim(t, "get", "pods") // make sure a containerd is up
	ctrd := containerdPID()
	if ctrd == 0 {
		t.Skip("podsim uses a containerd it did not start (system socket or --containerd-address)")
	}
	checkNoLeaks(t)
	p := writeManifest(t, `apiVersion: v1
kind: Pod
metadata:
  name: ctrd-crash
spec:
  initContainers:
  - name: slow-init
    image: busybox
    command: ['sleep', '30']
  containers:
  - name: app
    image: busybox
    command: ['sleep', '5000']
`)
	t.Cleanup(func() { podsim(t, "", "gc") })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	apply := exec.CommandContext(ctx, podsimBin, "apply", "-f", p)
	var out bytes.Buffer
	apply.Stdout, apply.Stderr = &out, &out
	if err := apply.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the init container runs: the pause, its shim and the
	// init task exist in containerd.
	addr := containerdAddress(t)
	running := false
	for i := 0; i < 200 && !running; i++ {
		tasks, _ := exec.Command("ctr", "-a", addr, "-n", "podsim", "tasks", "ls").Output()
		running = strings.Contains(string(tasks), "-slow-init")
		time.Sleep(50 * time.Millisecond)
	}
	if !running {
		apply.Process.Kill()
		apply.Wait()
		t.Fatalf("the init container never ran; apply said:\n%s", out.String())
	}
	if err := syscall.Kill(ctrd, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := apply.Wait()
	if ctx.Err() != nil {
		t.Fatalf("apply hung after containerd was killed:\n%s", out.String())
	}
	if err == nil {
		t.Fatalf("apply succeeded although containerd died under it:\n%s", out.String())
	}
	t.Logf("apply after containerd died: %v\n%s", err, out.String())
	if !strings.Contains(out.String(), "error:") {
		t.Errorf("apply failed without an error line:\n%s", out.String())
	}
	// The next command brings containerd back; it still knows the pod.
	if r := podsim(t, "", "get", "pods", "ctrd-crash"); r.code != 0 {
		t.Errorf("get pods after containerd restarted: %s", r)
	}
	if pid := containerdPID(); pid == 0 || pid == ctrd {
		t.Errorf("containerd not restarted (pid %d, killed %d)", pid, ctrd)
	}
	mustPodsim(t, "gc")
	if inv := inventory(t); inv != "" {
		t.Errorf("gc after containerd died mid-create left:\n%s", inv)
	}
	applyPod(t, podtest, "podtest")
	if out := mustPodsim(t, "exec", "podtest", "-c", "c1", "--", "hostname"); out != "podtest\n" {
		t.Errorf("pod after recovery: %q", out)
	}
	mustPodsim(t, "delete", "pod", "podtest")
}
