package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// crashyPod: "crash" exits 1 after a second, "steady" runs on (and exits
// on SIGTERM, so a kill takes no grace period).
const crashyPod = `apiVersion: v1
kind: Pod
metadata: {name: %s, labels: {app: %s}}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{name: data, emptyDir: {}}]
  initContainers:
  - name: init
    image: busybox
    command: ['sh', '-c', 'echo init >> /data/inits']
    volumeMounts: [{name: data, mountPath: /data}]
  containers:
  - name: crash
    image: busybox
    command: ['sh', '-c', 'echo x >> /data/runs; echo "run $(wc -l < /data/runs)"; sleep %s; exit 1']
    volumeMounts: [{name: data, mountPath: /data}]
    livenessProbe: {exec: {command: ['true']}, periodSeconds: 5}
  - name: steady
    image: busybox
    command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done']
    env: [{name: GREETING, value: hello}]
`

// bg is a podsim command left running (get -w), its output collected.
type bg struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	out bytes.Buffer
}

func (b *bg) Write(p []byte) (int, error) { b.mu.Lock(); defer b.mu.Unlock(); return b.out.Write(p) }
func (b *bg) String() string              { b.mu.Lock(); defer b.mu.Unlock(); return b.out.String() }

func startBG(t *testing.T, args ...string) *bg {
	t.Helper()
	b := &bg{cmd: exec.Command(podsimBin, args...)}
	b.cmd.Stdout, b.cmd.Stderr = b, b
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.cmd.Process.Signal(syscall.SIGTERM); b.cmd.Wait() })
	return b
}

// podID is the pod's sandbox ID, from a container's containerd ID.
func podID(t *testing.T, name, container string) string {
	t.Helper()
	id := strings.TrimPrefix(containerStatus(getPod(t, name), container).ContainerID, "containerd://")
	if i := strings.LastIndex(id, "-"+container); i > 0 {
		return id[:i]
	}
	t.Fatalf("container ID %q of %s/%s", id, name, container)
	return ""
}

// TestIntegrationDescribeEvents: kubelet's events for a crash-looping pod
// (Scheduled, Pulled, Created, Started, BackOff with counts; Killing on
// delete), `describe pod` in kubectl's layout with values checked against
// containerd and the kernel, `get events`, `get pods -w` and `get events -w`
// printing changes as they happen, and `wait` with kubectl's conditions,
// timeouts, messages and exit codes.
func TestIntegrationDescribeEvents(t *testing.T) {
	requireRoot(t)
	freshAgent(t)
	checkNoLeaks(t)
	mustPodsim(t, "get", "pods") // containerd up before the watchers start
	podsW := startBG(t, "get", "pods", "-w")
	eventsW := startBG(t, "get", "events", "-w")
	applyPod(t, fmt.Sprintf(crashyPod, "crashy", "crashy", "1"), "crashy")
	waitFor(t, 60*time.Second, "CrashLoopBackOff", func() bool {
		return strings.Contains(mustPodsim(t, "get", "pods"), "CrashLoopBackOff")
	})
	p := getPod(t, "crashy")
	id := podID(t, "crashy", "steady")

	// describe while crash waits out a back-off (it restarts in between).
	var d string
	waitFor(t, 60*time.Second, "describe to show crash in CrashLoopBackOff", func() bool {
		d = mustPodsim(t, "describe", "pod", "crashy")
		return regexp.MustCompile(`(?m)^    State:\s+Waiting\n      Reason:\s+CrashLoopBackOff$`).MatchString(d)
	})
	addr := containerdAddress(t)
	ctrs := run(t, "ctr", "-a", addr, "-n", "podsim", "containers", "ls", "-q")
	tasks := run(t, "ctr", "-a", addr, "-n", "podsim", "tasks", "ls")
	m := regexp.MustCompile(`(?m)^  crash:\n    Container ID:\s+containerd://(\S+)$`).FindStringSubmatch(d)
	cid := ""
	if m != nil {
		cid = m[1]
	}
	restarts := "0"
	if _, n, ok := strings.Cut(cid, "-crash."); ok {
		restarts = n // attempt N is restart N
	}
	pin := "podsim-crashy-" + id[:6]
	netIP := run(t, "ip", "-n", pin, "-o", "-4", "addr", "show", "eth0")
	for _, want := range []string{
		`(?m)^Name:\s+crashy$`, `(?m)^Namespace:\s+default$`, `(?m)^Status:\s+Running$`,
		`(?m)^IP:\s+` + regexp.QuoteMeta(p.Status.PodIP) + `$`, `(?m)^Labels:\s+app=crashy$`,
		`(?m)^Init Containers:\n  init:\n`, `(?m)^    State:\s+Terminated\n      Reason:\s+Completed\n      Exit Code:\s+0$`,
		`(?m)^    Container ID:\s+containerd://` + id + `-crash\.[1-9]\d*$`,
		`(?m)^    Last State:\s+Terminated\n      Reason:\s+Error\n      Exit Code:\s+1$`,
		`(?m)^    Restart Count:\s+` + restarts + `$`,
		`(?m)^    Liveness:\s+exec \[true\] delay=0s timeout=1s period=5s #success=1 #failure=3$`,
		`(?m)^      GREETING:\s+hello$`, `(?m)^      /data from data \(rw\)$`,
		`(?m)^    Type:\s+EmptyDir \(a temporary directory that shares a pod's lifetime\)$`,
		`(?m)^QoS Class:\s+BestEffort$`, `(?m)^  Type\s+Reason\s+Age\s+From\s+Message$`,
		`Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default/crashy to `,
		`Normal\s+Pulled\s+.*kubelet\s+Container image "busybox" already present on machine`,
		`Normal\s+Created\s+.*kubelet\s+Created container: crash`,
		`Normal\s+Started\s+\S+ \(x\d+ over \S+\)\s+kubelet\s+Started container crash`,
		`Warning\s+BackOff\s+.*kubelet\s+Back-off restarting failed container crash in pod crashy_default\(` + string(p.UID) + `\)`,
	} {
		if !regexp.MustCompile(want).MatchString(d) {
			t.Errorf("describe pod has no match for %s", want)
		}
	}
	if !strings.Contains(netIP, " "+p.Status.PodIP+"/") {
		t.Errorf("the kernel's eth0 in %s (%q) does not have the described IP %s", pin, netIP, p.Status.PodIP)
	}
	if !strings.Contains(tasks, id+"-steady ") || !strings.Contains(ctrs, cid+"\n") {
		t.Errorf("containerd does not have the described containers %s-steady (task), %s:\n%s\n%s", id, cid, tasks, ctrs)
	}
	if t.Failed() {
		t.Logf("describe:\n%s", d)
	}

	ev := mustPodsim(t, "get", "events")
	if !regexp.MustCompile(`(?m)^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$`).MatchString(ev) {
		t.Errorf("get events header:\n%s", ev)
	}
	for _, r := range []string{"Scheduled", "Pulled", "Created", "Started", "BackOff"} {
		if !regexp.MustCompile(`(?m)^\S+\s+(Normal|Warning)\s+` + r + `\s+pod/crashy\s+`).MatchString(ev) {
			t.Errorf("get events has no %s row for pod/crashy:\n%s", r, ev)
		}
	}
	if ev := mustPodsim(t, "get", "events", "-A"); !regexp.MustCompile(`(?m)^default\s+\S+\s+Normal\s+Scheduled\s+pod/crashy`).MatchString(ev) {
		t.Errorf("get events -A has no NAMESPACE column:\n%s", ev)
	}

	// wait: kubectl's messages and exit codes, on a pod that is never
	// Ready again (restartPolicy Never, one container exited).
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: halfdone}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - {name: done, image: busybox, command: ['true']}
  - {name: app, image: busybox, command: ['sleep', '3600']}
`, "halfdone")
	if out := mustPodsim(t, "wait", "--for=condition=Ready=False", "pod/halfdone", "--timeout=20s"); out != "pod/halfdone condition met\n" {
		t.Errorf("wait --for=condition=Ready=False: %q", out)
	}
	if r := podsim(t, "", "wait", "--for=condition=Ready", "pod/halfdone", "--timeout=2s"); r.code != 1 ||
		!strings.Contains(r.stderr, "error: timed out waiting for the condition on pods/halfdone") {
		t.Errorf("wait for Ready of a pod with an exited container: %s", r)
	}
	if r := podsim(t, "", "wait", "--for=condition=Ready", "pod/nope", "--timeout=1s"); r.code != 1 || !strings.Contains(r.stderr, `pods "nope" not found`) {
		t.Errorf("wait for a missing pod: %s", r)
	}
	if r := podsim(t, "", "wait", "--for=jsonpath={.x}", "pod/crashy"); r.code == 0 || !strings.Contains(r.stderr, "--for=condition=Ready or --for=delete") {
		t.Errorf("wait with an unsupported --for: %s", r)
	}
	waited := startBG(t, "wait", "--for=delete", "pod/crashy", "--timeout=60s")
	mustPodsim(t, "delete", "pod", "crashy", "--grace-period=2")
	if err := waited.cmd.Wait(); err != nil || waited.String() != "pod/crashy condition met\n" {
		t.Errorf("wait --for=delete: %v %q", err, waited.String())
	}

	// The watchers printed each change once, as it happened.
	waitFor(t, 10*time.Second, "get events -w to print the Killing event of the delete", func() bool {
		return strings.Contains(eventsW.String(), "Stopping container steady")
	})
	lines := strings.Split(strings.TrimSpace(podsW.String()), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("get pods -w printed:\n%s", podsW.String())
	}
	var sawBackoff, sawRunning bool
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		sawBackoff = sawBackoff || (len(f) > 2 && f[0] == "crashy" && f[2] == "CrashLoopBackOff")
		sawRunning = sawRunning || (len(f) > 2 && f[0] == "crashy" && f[2] == "Running")
		if i > 0 && l == lines[i] {
			t.Errorf("get pods -w printed an unchanged row twice: %q", l)
		}
	}
	if !sawBackoff || !sawRunning {
		t.Errorf("get pods -w did not follow the pod through Running and CrashLoopBackOff:\n%s", podsW.String())
	}
	if !strings.Contains(eventsW.String(), "Back-off restarting failed container crash") {
		t.Errorf("get events -w did not print the BackOff event:\n%s", eventsW.String())
	}
}

// TestIntegrationSandboxRebuild: the pause of a built pod is SIGKILLed
// (its host PID found through containerd); the agent does what kubelet
// does — SandboxChanged, every container killed, the old netns, veth and
// IP released, a new netns (new inode) with a new IP, the init container
// run again, every app container restarted (counts up) — and the hosts
// files of the pod and of a Service selecting it follow the new IP. All
// checked from the kernel and the host.
func TestIntegrationSandboxRebuild(t *testing.T) {
	requireRoot(t)
	freshAgent(t)
	checkNoLeaks(t)
	p := writeManifest(t, `apiVersion: v1
kind: Service
metadata: {name: websvc}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`)
	t.Cleanup(func() { podsim(t, "", "delete", "-f", p) })
	mustPodsim(t, "apply", "-f", p)
	applyPod(t, fmt.Sprintf(crashyPod, "web", "web", "3600"), "web")
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: busybox, command: ['sleep', '3600']}]
`, "client")
	before := getPod(t, "web")
	id, oldIP := podID(t, "web", "steady"), before.Status.PodIP
	pids := containerPIDs(t, string(before.UID))
	pausePID, steadyPID := pids[id], pids[id+"-steady"]
	if pausePID == 0 || steadyPID == 0 {
		t.Fatalf("pause or steady not in the pod cgroup: %v", pids)
	}
	// The pause's PID as containerd reports it is the one the kernel shows.
	addr := containerdAddress(t)
	if tl := run(t, "ctr", "-a", addr, "-n", "podsim", "tasks", "ls"); !regexp.MustCompile(`(?m)^` + id + `\s+` + strconv.Itoa(pausePID) + `\s+RUNNING`).MatchString(tl) {
		t.Fatalf("containerd's pause task is not pid %d:\n%s", pausePID, tl)
	}
	oldNet := nsInode(t, pausePID, "net")
	pin := "/run/netns/podsim-web-" + id[:6]
	oldVeth := vethOf(t, pin)
	if !hostsHas(t, "client", oldIP, "websvc") {
		t.Fatalf("client's hosts file does not resolve websvc to %s:\n%s", oldIP, mustPodsim(t, "exec", "client", "--", "cat", "/etc/hosts"))
	}

	// Hold the old namespace open: the kernel reuses a freed namespace's
	// inode number, so only a namespace still alive proves the new one new.
	held, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pausePID))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := syscall.Kill(pausePID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var after map[string]int
	var steadyID string
	waitFor(t, 90*time.Second, "a new pause and a new steady", func() bool {
		after = containerPIDs(t, string(before.UID))
		s := containerStatus(getPod(t, "web"), "steady")
		steadyID = strings.TrimPrefix(s.ContainerID, "containerd://")
		// The new pause is the process /pause itself (not runc's short-lived
		// setup process, which sits in the cgroup while runc starts it).
		cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", after[id]))
		return after[id] != 0 && after[id] != pausePID && strings.TrimRight(string(cl), "\x00") == "/pause" &&
			s.State.Running != nil && after[steadyID] != 0 && s.RestartCount == 1
	})
	now := getPod(t, "web")
	newNet := nsInode(t, after[id], "net")
	if newNet == oldNet {
		t.Errorf("the new pause is in the old network namespace %s", oldNet)
	}
	if steadyID != id+"-steady.1" {
		t.Errorf("steady's new attempt is %s, want %s-steady.1", steadyID, id)
	}
	if got := nsInode(t, after[steadyID], "net"); got != newNet {
		t.Errorf("steady's new process is in %s, the new pause in %s", got, newNet)
	}
	if pinNS := run(t, "stat", "-L", "-c", "%i", pin); !strings.Contains(newNet, strings.TrimSpace(pinNS)) {
		t.Errorf("the pin %s (inode %s) is not the new pause's %s", pin, pinNS, newNet)
	}
	newIP := now.Status.PodIP
	if newIP == oldIP || !strings.Contains(run(t, "ip", "-n", filepath.Base(pin), "-o", "-4", "addr", "show", "eth0"), " "+newIP+"/") {
		t.Errorf("pod IP %s -> %s; the kernel's eth0 in the new netns does not have the new IP", oldIP, newIP)
	}
	if l, _ := exec.Command("ip", "-o", "link", "show", oldVeth).CombinedOutput(); oldVeth == "" || !strings.Contains(string(l), "does not exist") {
		t.Errorf("the old veth %q is still on the host: %s", oldVeth, l)
	}
	if m, _ := filepath.Glob("/var/lib/podsim/cni/networks/*/" + oldIP); len(m) > 0 {
		t.Errorf("the old IP %s is still reserved by host-local IPAM: %v", oldIP, m)
	}
	inits, _ := os.ReadFile(fmt.Sprintf("/var/lib/podsim/pods/%s/volumes/kubernetes.io~empty-dir/data/inits", id))
	if strings.Count(string(inits), "init") != 2 {
		t.Errorf("the init container ran %d times into the kept emptyDir, want 2 (again on the new sandbox)", strings.Count(string(inits), "init"))
	}
	if s := containerStatus(now, "crash"); s.RestartCount != 1 || s.LastTerminationState.Terminated == nil {
		t.Errorf("crash after the rebuild: %+v", s)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !(hostsHas(t, "client", newIP, "websvc") && !hostsHas(t, "client", oldIP, "websvc") && hostsHas(t, "web", newIP, "web")) {
		if time.Now().After(deadline) {
			t.Errorf("hosts files do not follow the new IP %s (was %s):\nclient:\n%s\nweb:\n%s", newIP, oldIP,
				podsim(t, "", "exec", "client", "--", "cat", "/etc/hosts").stdout, podsim(t, "", "exec", "web", "--", "cat", "/etc/hosts").stdout)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if ev := mustPodsim(t, "get", "events"); !regexp.MustCompile(`Normal\s+SandboxChanged\s+pod/web\s+Pod sandbox changed, it will be killed and re-created.`).MatchString(ev) ||
		!regexp.MustCompile(`Normal\s+Killing\s+pod/web\s+Stopping container steady`).MatchString(ev) {
		t.Errorf("events of the rebuild:\n%s", ev)
	}
}

// vethOf is the host end of the pod's eth0: the interface whose index is
// eth0's peer (iflink), read in the pod's netns.
func vethOf(t *testing.T, pin string) string {
	t.Helper()
	out := run(t, "ip", "-n", filepath.Base(pin), "-o", "link", "show", "eth0")
	m := regexp.MustCompile(`eth0@if(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("eth0 in %s: %q", pin, out)
	}
	for _, l := range strings.Split(run(t, "ip", "-o", "link", "show"), "\n") {
		if f := strings.Fields(l); len(f) > 1 && strings.TrimSuffix(f[0], ":") == m[1] {
			return strings.Split(strings.TrimSuffix(f[1], ":"), "@")[0]
		}
	}
	return ""
}

// hostsHas reports whether a line of the pod's /etc/hosts (read in the
// container) maps ip to name.
func hostsHas(t *testing.T, pod, ip, name string) bool {
	t.Helper()
	r := podsim(t, "", "exec", pod, "--", "cat", "/etc/hosts")
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == ip {
			for _, n := range f[1:] {
				if n == name || strings.HasPrefix(n, name+".") {
					return true
				}
			}
		}
	}
	return false
}

// TestIntegrationAgentKilledMidRestart: the node agent SIGKILLs itself
// (PODSIM_AGENT_CRASH_AFTER=restart) after it recorded a restart and before the
// new attempt exists, then (rebuild:teardown) after it removed a dead
// sandbox and before the new one exists. Each time the next podsim command
// starts a new agent that carries on: restart counts step by one, one
// container per name, one pause, one pin; after delete, `podsim gc
// --dry-run` finds nothing and the host is as before.
func TestIntegrationAgentKilledMidRestart(t *testing.T) {
	requireRoot(t)
	freshAgent(t)
	checkNoLeaks(t)
	inv := inventory(t)
	t.Setenv("PODSIM_AGENT_CRASH_AFTER", "restart") // inherited by the agent apply starts
	applyPod(t, fmt.Sprintf(crashyPod, "midrestart", "midrestart", "1"), "midrestart")
	recs, _ := filepath.Glob("/var/lib/podsim/pods/*/pod.json")
	var rec struct {
		ID         string
		Containers map[string]struct{ RestartCount int }
	}
	for _, r := range recs { // read the record itself: a podsim command would start a new agent
		if b, _ := os.ReadFile(r); strings.Contains(string(b), `"name": "midrestart"`) {
			rec.ID = filepath.Base(filepath.Dir(r))
		}
	}
	if rec.ID == "" {
		t.Fatal("no record of pod midrestart")
	}
	waitFor(t, 30*time.Second, "the agent to record a restart and kill itself", func() bool {
		b, _ := os.ReadFile("/var/lib/podsim/pods/" + rec.ID + "/pod.json")
		json.Unmarshal(b, &rec)
		return rec.Containers["crash"].RestartCount == 1 && agentPID(t) == 0
	})
	addr := containerdAddress(t) // (system info does not start the agent)
	if ctrs := run(t, "ctr", "-a", addr, "-n", "podsim", "containers", "ls", "-q"); strings.Contains(ctrs, rec.ID+"-crash.1") {
		t.Fatalf("the agent died after making attempt 1, not between record and create:\n%s", ctrs)
	}
	t.Setenv("PODSIM_AGENT_CRASH_AFTER", "")
	id := podID(t, "midrestart", "steady") // this command starts a new agent
	waitFor(t, 60*time.Second, "the new agent to restart crash twice more", func() bool {
		return containerStatus(getPod(t, "midrestart"), "crash").RestartCount >= 3
	})
	// Exactly the current attempt (two while a restart is under way).
	var ctrs string
	var crashes []string
	deadline := time.Now().Add(20 * time.Second)
	for len(crashes) != 1 && time.Now().Before(deadline) {
		ctrs = run(t, "ctr", "-a", addr, "-n", "podsim", "containers", "ls", "-q")
		crashes = regexp.MustCompile(`(?m)^`+id+`-crash(\.\d+)?$`).FindAllString(ctrs, -1)
		time.Sleep(100 * time.Millisecond)
	}
	if len(crashes) != 1 {
		t.Errorf("containers of crash after the agent's death: %v, want exactly the current attempt", crashes)
	}
	// Every attempt's log begins with "run N": N counts the runs, so the
	// recorded restart count must match the emptyDir's count of runs.
	runs, _ := os.ReadFile(fmt.Sprintf("/var/lib/podsim/pods/%s/volumes/kubernetes.io~empty-dir/data/runs", id))
	s := containerStatus(getPod(t, "midrestart"), "crash")
	if n := strings.Count(string(runs), "x"); n != int(s.RestartCount)+1 && !(s.State.Running == nil && n == int(s.RestartCount)) {
		t.Errorf("restart count %d after the agent's death, but the container ran %d times", s.RestartCount, n)
	}

	// Mid-rebuild: the pause dies and the agent dies after removing it.
	if pid := agentPID(t); pid > 0 {
		syscall.Kill(pid, syscall.SIGTERM)
		waitFor(t, 10*time.Second, "the agent to stop", func() bool { return agentPID(t) == 0 })
	}
	t.Setenv("PODSIM_AGENT_CRASH_AFTER", "rebuild:teardown")
	oldIP := getPod(t, "midrestart").Status.PodIP // starts the agent with the crash point
	waitFor(t, 10*time.Second, "the agent", func() bool { return agentPID(t) != 0 })
	pause := containerPIDs(t, string(getPod(t, "midrestart").UID))[id]
	if pause == 0 {
		t.Fatal("no pause process in the pod cgroup")
	}
	syscall.Kill(pause, syscall.SIGKILL)
	waitFor(t, 60*time.Second, "the agent to kill itself mid-rebuild", func() bool { return agentPID(t) == 0 })
	t.Setenv("PODSIM_AGENT_CRASH_AFTER", "")
	if ns := run(t, "ip", "netns", "list"); strings.Contains(ns, "podsim-midrestart-") {
		t.Fatalf("the agent died after the new netns was pinned, not between teardown and the new sandbox:\n%s", ns)
	}
	mustPodsim(t, "get", "pods") // starts a new agent, which finishes the rebuild
	waitFor(t, 90*time.Second, "the rebuilt pod", func() bool {
		p := getPod(t, "midrestart")
		return containerStatus(p, "steady").State.Running != nil && p.Status.PodIP != "" && p.Status.PodIP != oldIP
	})
	ctrs = run(t, "ctr", "-a", addr, "-n", "podsim", "containers", "ls", "-q")
	if n := strings.Count(ctrs, id+"\n"); n != 1 {
		t.Errorf("%d pause containers after the rebuild:\n%s", n, ctrs)
	}
	if ns := run(t, "ip", "netns", "list"); strings.Count(ns, "podsim-midrestart-") != 1 {
		t.Errorf("netns pins after the rebuild:\n%s", ns)
	}
	mustPodsim(t, "delete", "pod", "midrestart", "--grace-period=1")
	// What the killed agents left (at most the lease of the rebuild it was
	// in) is podsim gc's to remove; after it nothing is left.
	t.Logf("gc after delete:\n%s", mustPodsim(t, "gc"))
	if left := inventoryAdded(t, inv); left != "" {
		t.Errorf("after delete and gc, gc --dry-run still finds:\n%s", left)
	}
}

// TestIntegrationRestartCycles: a container that exits at once, restarted
// PODSIM_RESTART_CYCLES times (100 by default; PODSIM_BACKOFF_BASE 10ms):
// no leftover containers, snapshots or shims, the pod's log files bounded,
// its event list bounded, the agent's open fds and containerd's steady.
func TestIntegrationRestartCycles(t *testing.T) {
	requireRoot(t)
	n := envInt("PODSIM_RESTART_CYCLES", 100)
	freshAgent(t)
	t.Setenv("PODSIM_BACKOFF_BASE", "10ms")
	checkNoLeaks(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: cycler}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: crash, image: busybox, command: ['sh', '-c', 'echo once; exit 1']}
  - {name: steady, image: busybox, command: ['sleep', '3600']}
`, "cycler")
	id := podID(t, "cycler", "steady")
	addr := containerdAddress(t)
	waitFor(t, 30*time.Second, "the first restarts", func() bool {
		return containerStatus(getPod(t, "cycler"), "crash").RestartCount >= 3
	})
	agent, ctrd := agentPID(t), containerdPID()
	fdA, fdC, rssA, rssC := fdCount(agent), fdCount(ctrd), rssKB(agent), rssKB(ctrd)
	start := time.Now()
	waitFor(t, time.Duration(n)*2*time.Second, fmt.Sprintf("%d restarts", n), func() bool {
		time.Sleep(400 * time.Millisecond)
		return containerStatus(getPod(t, "cycler"), "crash").RestartCount >= int32(n)
	})
	took := time.Since(start)
	if agentPID(t) != agent {
		t.Fatalf("the agent changed during the cycles (pid %d, now %d)", agent, agentPID(t))
	}
	fdA2, fdC2, rssA2, rssC2 := fdCount(agent), fdCount(ctrd), rssKB(agent), rssKB(ctrd)
	ctrs := run(t, "ctr", "-a", addr, "-n", "podsim", "containers", "ls", "-q")
	snaps := run(t, "ctr", "-a", addr, "-n", "podsim", "snapshots", "ls")
	crashCtrs := regexp.MustCompile(`(?m)^`+id+`-crash(\.\d+)?$`).FindAllString(ctrs, -1)
	crashSnaps := regexp.MustCompile(`(?m)^`+id+`-crash(\.\d+)?\s`).FindAllString(snaps, -1)
	// Each restart runs the shim binary briefly ("... start", "... delete")
	// beside the pod's long-lived shim: count only the daemons, and look a
	// few times so a slow machine's short-lived ones are not counted.
	var shims []string
	for i := 0; i < 10; i++ {
		if shims = shimDaemons(); len(shims) == 1 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	logs, _ := filepath.Glob("/var/log/podsim/pods/default_cycler_*/crash/*.log")
	evs, err := os.Stat(fmt.Sprintf("/var/lib/podsim/pods/%s/events.jsonl", id))
	if err != nil {
		t.Fatalf("the pod's event log: %v", err)
	}
	t.Logf("%d restarts in %s (%s per cycle); agent fds %d -> %d, RSS %d -> %d kB; containerd fds %d -> %d, RSS %d -> %d kB; "+
		"crash containers %d, snapshots %d, shims %d, log files %d, events.jsonl %d bytes",
		n, took.Round(time.Second), (took / time.Duration(n)).Round(time.Millisecond), fdA, fdA2, rssA, rssA2, fdC, fdC2, rssC, rssC2,
		len(crashCtrs), len(crashSnaps), len(shims), len(logs), evs.Size())
	if len(crashCtrs) > 2 || len(crashSnaps) > 2 {
		t.Errorf("old attempts are left: containers %v, snapshots %v", crashCtrs, crashSnaps)
	}
	if len(shims) != 1 {
		t.Errorf("%d podsim shim daemons for one pod, want 1:\n%s", len(shims), strings.Join(shims, "\n"))
	}
	if len(logs) > 3 {
		t.Errorf("%d log files of crash kept, want the current and the previous attempt's: %v", len(logs), logs)
	}
	if fdA2 > fdA+10 || fdC2 > fdC+10 {
		t.Errorf("open fds grew: agent %d -> %d, containerd %d -> %d", fdA, fdA2, fdC, fdC2)
	}
	if evs.Size() > 64<<10 {
		t.Errorf("the pod's events file grew to %d bytes", evs.Size())
	}
}

// shimDaemons lists the command lines of the runc shims serving podsim's
// containerd namespace, leaving out the shim binary's short-lived "start"
// and "delete" invocations (containerd runs them around every task).
func shimDaemons() []string {
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if !strings.Contains(args[0], "containerd-shim") || !slices.Contains(args, "podsim") {
			continue
		}
		if last := args[len(args)-1]; last == "start" || last == "delete" {
			continue
		}
		out = append(out, filepath.Base(filepath.Dir(p))+" "+strings.Join(args, " "))
	}
	return out
}
