package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// hostNodeIP is the node's address read with ip(8), independently of
// podsim: the first IPv4 of the default route's interface.
func hostNodeIP(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`dev (\S+)`).FindStringSubmatch(run(t, "ip", "-4", "route", "show", "default"))
	if m == nil {
		t.Skip("no default route: no node IP to compare with")
	}
	a := regexp.MustCompile(`inet (\d+\.\d+\.\d+\.\d+)/`).FindStringSubmatch(run(t, "ip", "-4", "-o", "addr", "show", "dev", m[1]))
	if a == nil {
		t.Fatalf("no IPv4 address on %s", m[1])
	}
	return a[1]
}

// podProcs finds the pause's and the containers' host PIDs through the pod
// cgroup: "POD" and container names.
func podProcs(t *testing.T, pod *corev1.Pod) map[string]int {
	t.Helper()
	pids := containerPIDs(t, string(pod.UID))
	sandboxID := strings.TrimSuffix(strings.TrimPrefix(pod.Status.ContainerStatuses[0].ContainerID, "containerd://"), "-"+pod.Status.ContainerStatuses[0].Name)
	out := map[string]int{"POD": pids[sandboxID]}
	for id, pid := range pids {
		if strings.HasPrefix(id, sandboxID+"-") {
			out[strings.TrimPrefix(id, sandboxID+"-")] = pid
		}
	}
	return out
}

func vethCount(t *testing.T) int {
	return strings.Count(run(t, "ip", "-o", "link", "show", "type", "veth"), "\n")
}

// TestIntegrationHostNamespaces turns each switch on alone and checks, from
// /proc/<pid>/ns of the processes found through the pod cgroup, that exactly
// the namespaces it names are the host's (/proc/self/ns), for the pause and
// both containers, and that each container keeps its own mount namespace.
func TestIntegrationHostNamespaces(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	nodeIP := hostNodeIP(t)
	for _, tc := range []struct {
		field string
		host  []string // namespace types that must be the host's
	}{
		{"hostNetwork", []string{"net", "uts"}},
		{"hostPID", []string{"pid"}},
		{"hostIPC", []string{"ipc"}},
	} {
		t.Run(tc.field, func(t *testing.T) {
			name := "hostns-" + strings.ToLower(strings.TrimPrefix(tc.field, "host"))
			veths, netns := vethCount(t), run(t, "ip", "netns", "list")
			applyPod(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  %s: true
  containers:
  - {name: c1, image: busybox, command: [sleep, '5000']}
  - {name: c2, image: busybox, command: [sleep, '5000']}
`, name, tc.field), name)
			pod := getPod(t, name)
			pids := podProcs(t, pod)
			if pids["POD"] == 0 || pids["c1"] == 0 || pids["c2"] == 0 {
				t.Fatalf("pids from the pod cgroup = %v", pids)
			}
			for _, typ := range []string{"net", "uts", "ipc", "pid"} {
				wantHost := false
				for _, h := range tc.host {
					wantHost = wantHost || h == typ
				}
				for _, p := range []string{"POD", "c1", "c2"} {
					got := nsInode(t, pids[p], typ)
					if isHost := got == nsInode(t, 0, typ); isHost != wantHost {
						t.Errorf("%s: %s of %s is %s; host's %s: got %v, want %v", tc.field, typ, p, got, nsInode(t, 0, typ), isHost, wantHost)
					}
				}
			}
			a, b := nsInode(t, pids["c1"], "mnt"), nsInode(t, pids["c2"], "mnt")
			if a == b || a == nsInode(t, 0, "mnt") {
				t.Errorf("mnt: c1 %s c2 %s host %s, want one of its own each", a, b, nsInode(t, 0, "mnt"))
			}
			wide := mustPodsim(t, "get", "pods", "-o", "wide")
			insp := mustPodsim(t, "inspect", name)
			if !strings.Contains(insp, "host ("+tc.field+": true)") {
				t.Errorf("inspect does not say 'host (%s: true)':\n%s", tc.field, insp)
			}
			switch tc.field {
			case "hostNetwork":
				if pod.Status.PodIP != nodeIP || pod.Status.HostIP != nodeIP {
					t.Errorf("podIP %s hostIP %s, want the node's %s", pod.Status.PodIP, pod.Status.HostIP, nodeIP)
				}
				if vethCount(t) != veths || run(t, "ip", "netns", "list") != netns {
					t.Errorf("a hostNetwork pod made a veth or a netns: veths %d -> %d, netns %q -> %q", veths, vethCount(t), netns, run(t, "ip", "netns", "list"))
				}
				if !regexp.MustCompile(name + `\s.*` + regexp.QuoteMeta(nodeIP) + `\s.*host \(hostNetwork: true\)`).MatchString(wide) {
					t.Errorf("get pods -o wide does not show the node IP and a host netns:\n%s", wide)
				}
				host, _ := os.Hostname()
				if out := mustPodsim(t, "exec", name, "-c", "c2", "--", "hostname"); strings.TrimSpace(out) != host {
					t.Errorf("hostname in c2 = %q, want the node's %q", out, host)
				}
				if out := mustPodsim(t, "exec", name, "-c", "c1", "--", "ip", "-4", "-o", "addr"); !strings.Contains(out, " "+nodeIP+"/") {
					t.Errorf("c1 does not see the host's address %s:\n%s", nodeIP, out)
				}
			case "hostPID":
				self := fmt.Sprint(os.Getpid())
				out := mustPodsim(t, "exec", name, "-c", "c1", "--", "ps", "-o", "pid,args")
				if !regexp.MustCompile(`(?m)^\s*` + self + `\s`).MatchString(out) {
					t.Errorf("ps in c1 does not show the test process %s:\n%s", self, out)
				}
			}
		})
	}
}

// TestIntegrationHostNamespacesTrace: --trace says which namespaces are the
// host's and why.
func TestIntegrationHostNamespacesTrace(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	p := writeManifest(t, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hostns-trace\nspec:\n  hostNetwork: true\n  hostPID: true\n  containers:\n  - {name: c1, image: busybox, command: [sleep, '5000']}\n")
	t.Cleanup(func() { podsim(t, "", "delete", "pod", "hostns-trace", "--grace-period=1") })
	r := podsim(t, "", "apply", "-f", p, "--trace")
	if r.code != 0 {
		t.Fatalf("apply: %s", r)
	}
	all := r.stdout + r.stderr
	for _, want := range []string{"no pin, no CNI", "host (hostNetwork: true)", "host (hostPID: true)"} {
		if !strings.Contains(all, want) {
			t.Errorf("trace lacks %q:\n%s", want, all)
		}
	}
}

// TestIntegrationIsolationRefused: what Kubernetes refuses is refused with
// the field named, exit code non-zero, and nothing left.
func TestIntegrationIsolationRefused(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	const c = "  containers:\n  - name: c1\n    image: busybox\n"
	for _, tc := range []struct{ name, spec, want string }{
		{"hostPID with shareProcessNamespace", "  hostPID: true\n  shareProcessNamespace: true\n" + c, "spec.shareProcessNamespace: true cannot be combined with spec.hostPID"},
		{"hostNetwork with hostPort != containerPort", "  hostNetwork: true\n" + c + "    ports:\n    - {containerPort: 8080, hostPort: 9090}\n", "hostPort 9090 must equal containerPort 8080"},
		{"hostNetwork with a net sysctl", "  hostNetwork: true\n  securityContext:\n    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: '0'}]\n" + c, "may not be set with spec.hostNetwork"},
		{"ephemeralContainers in a manifest", "  ephemeralContainers:\n  - {name: dbg, image: busybox}\n" + c, "podsim debug"},
		{"unknown runtimeClassName", "  runtimeClassName: kata-fc\n" + c, `RuntimeClass "kata-fc" not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := podsim(t, "", "apply", "-f", writeManifest(t, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: refused\nspec:\n"+tc.spec))
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("want a non-zero exit and %q, got %s", tc.want, r)
			}
		})
	}
}

// TestIntegrationDebugContainer: podsim debug adds an ephemeral container
// that the kernel shows in the pod's network namespace and, with --target,
// in the target's PID namespace; bad requests leave the pod as it was; the
// containers go with the pod (the leak check).
func TestIntegrationDebugContainer(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	applyPod(t, podtest, "podtest")

	r := podsim(t, "", "debug", "podtest", "-i", "--image=busybox", "--target=c1", "-c", "dbg", "--", "ps", "aux")
	if r.code != 0 || !regexp.MustCompile(`(?m)^\s*1 .*sleep 5000`).MatchString(r.stdout) {
		t.Errorf("debug -i --target=c1 ps aux: want c1's sleep 5000 as PID 1, got %s", r)
	}
	if r := podsim(t, "", "debug", "podtest", "-i", "--image=busybox", "-c", "exit3", "--", "sh", "-c", "exit 3"); r.code != 3 {
		t.Errorf("debug -i exit code = %d, want 3 (%s)", r.code, r)
	}
	if out := mustPodsim(t, "logs", "podtest", "-c", "dbg"); !strings.Contains(out, "sleep 5000") {
		t.Errorf("logs -c dbg: %q", out)
	}
	out := mustPodsim(t, "debug", "podtest", "--image=busybox", "--target=c1", "-c", "shell", "--", "sleep", "3600")
	if !strings.Contains(out, "shell") {
		t.Errorf("debug (detached): %q", out)
	}
	pod := getPod(t, "podtest")
	pids := podProcs(t, pod)
	if pids["shell"] == 0 {
		t.Fatalf("no process of the ephemeral container in the pod cgroup: %v", pids)
	}
	for _, typ := range []string{"net", "ipc", "uts"} {
		if a, b := nsInode(t, pids["shell"], typ), nsInode(t, pids["POD"], typ); a != b {
			t.Errorf("%s: ephemeral %s, pause %s: want the pod's", typ, a, b)
		}
	}
	if a, b, c := nsInode(t, pids["shell"], "pid"), nsInode(t, pids["c1"], "pid"), nsInode(t, pids["c2"], "pid"); a != b || a == c {
		t.Errorf("pid: ephemeral %s c1 %s c2 %s: want c1's (--target)", a, b, c)
	}
	if a, b := nsInode(t, pids["shell"], "mnt"), nsInode(t, pids["c1"], "mnt"); a == b {
		t.Errorf("mnt: ephemeral shares c1's %s", a)
	}
	if len(pod.Spec.EphemeralContainers) != 3 || len(pod.Status.EphemeralContainerStatuses) != 3 {
		t.Errorf("spec.ephemeralContainers %d, statuses %d, want 3", len(pod.Spec.EphemeralContainers), len(pod.Status.EphemeralContainerStatuses))
	}
	for _, s := range pod.Status.EphemeralContainerStatuses {
		if s.Name == "shell" && s.State.Running == nil {
			t.Errorf("shell status %+v, want running", s.State)
		}
		if s.Name == "dbg" && (s.State.Terminated == nil || s.State.Terminated.ExitCode != 0) {
			t.Errorf("dbg status %+v, want terminated 0", s.State)
		}
	}
	if pod.Status.Phase != "Running" || !strings.Contains(mustPodsim(t, "get", "pods"), "2/2") {
		t.Errorf("ephemeral containers changed the pod's phase or READY: %s", pod.Status.Phase)
	}
	if insp := mustPodsim(t, "inspect", "podtest"); !strings.Contains(insp, "target c1") {
		t.Errorf("inspect does not mark the ephemeral container's pid namespace as its target's:\n%s", insp)
	}

	// Bad requests: a clear error, exit != 0, the pod's spec unchanged.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--image=busybox", "--target=nope"}, `--target "nope" is not a container of pod podtest`},
		{[]string{"--image=nosuchimage:1.0"}, `nosuchimage:1.0`},
		{[]string{"--image=busybox", "-c", "c1"}, `a container named "c1" already exists`},
		{[]string{}, "--image is required"},
	} {
		r := podsim(t, "", append([]string{"debug", "podtest"}, append(tc.args, "--", "true")...)...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("debug %v: want a non-zero exit and %q, got %s", tc.args, tc.want, r)
		}
	}
	if r := podsim(t, "", "debug", "nopod", "--image=busybox"); r.code == 0 || !strings.Contains(r.stderr, `pod "nopod"`) {
		t.Errorf("debug into a missing pod: %s", r)
	}
	var after corev1.Pod
	_ = json.Unmarshal([]byte(mustPodsim(t, "get", "pod", "podtest", "-o", "json")), &after)
	if len(after.Spec.EphemeralContainers) != 3 {
		t.Errorf("a refused debug changed spec.ephemeralContainers: %d", len(after.Spec.EphemeralContainers))
	}
}

// TestIntegrationHostNetworkGC: a hostNetwork pod's record has no netns;
// gc (what cleans a host after a crash) removes it all the same, with its
// ephemeral container, and touches no host interface.
func TestIntegrationHostNetworkGC(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	links := run(t, "ip", "-o", "link", "show")
	applyPod(t, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hostnet-gc\nspec:\n  hostNetwork: true\n  containers:\n  - {name: c1, image: busybox, command: [sleep, '5000']}\n", "hostnet-gc")
	mustPodsim(t, "debug", "hostnet-gc", "--image=busybox", "--target=c1", "-c", "dbg", "--", "sleep", "3600")
	if out := mustPodsim(t, "gc"); !strings.Contains(out, "hostnet-gc") {
		t.Errorf("gc did not name the pod: %s", out)
	}
	if r := podsim(t, "", "get", "pod", "hostnet-gc"); r.code == 0 {
		t.Errorf("pod still listed after gc: %s", r)
	}
	var names []string
	for _, l := range strings.Split(links, "\n") {
		if f := strings.Fields(l); len(f) > 1 && !strings.HasPrefix(f[1], "veth") && !strings.HasPrefix(f[1], "podsim0") {
			names = append(names, strings.Split(f[1], "@")[0])
		}
	}
	after := run(t, "ip", "-o", "link", "show")
	for _, n := range names {
		if !strings.Contains(after, " "+n) {
			t.Errorf("host interface %s is gone after the hostNetwork pod's gc", n)
		}
	}
}
