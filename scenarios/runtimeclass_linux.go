package scenarios

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// PodTestGVisorYAML is the article's pod under gVisor: the same two
// containers and emptyDir, with runtimeClassName gvisor (handler runsc).
var PodTestGVisorYAML = strings.Replace(strings.Replace(PodTestYAML, "name: podtest\n", "name: podtest-gvisor\n", 1),
	"spec:\n", "spec:\n  runtimeClassName: gvisor\n", 1)

// runtimeClass is the kernel boundary moving: the same pod under runc and
// under gVisor shares localhost either way, but under gVisor the pod is one
// gVisor sandbox: the containers' kernel is its Sentry (its own uname and
// /proc/version, its own network stack holding the sockets), and the host
// sees one Sentry and a gofer per container, not the commands.
func runtimeClass() *Scenario {
	return &Scenario{
		Name:      "runtime-class",
		Summary:   "runtimeClassName gvisor: the podtest pod under runc and under gVisor: same shared localhost, another kernel (one Sentry for the pod), other host processes",
		Manifests: []string{PodTestYAML, PodTestGVisorYAML},
		// The node's runtime must have gVisor (a RuntimeClass gvisor); the
		// host view reads the node's /proc.
		Needs: []Capability{CapRuntimeClass},
		Run: func(ctx context.Context, t *T) {
			n, err := t.node(ctx, "podtest")
			if err != nil {
				t.Check("read the node's kernel", "", err.Error(), false)
				return
			}
			hostRel := strings.TrimSpace(t.ReadHost(ctx, n, "/proc/sys/kernel/osrelease"))
			hostVer := strings.TrimSpace(t.ReadHost(ctx, n, "/proc/version"))
			for _, pod := range []string{"podtest", "podtest-gvisor"} {
				gv := pod == "podtest-gvisor"
				p, err := t.Procs(ctx, pod)
				if err != nil {
					t.Check("read "+pod+"'s processes", "", err.Error(), false)
					return
				}
				localhostCheck(ctx, t, pod, p.PID["c1"], gv)
				out, code, cmd := t.Exec(ctx, pod, "c1", "sh", "-c", "uname -r; cat /proc/version")
				rel := firstLines(out, 1)
				if gv {
					t.Check("podtest-gvisor's kernel is gVisor's Sentry: uname -r and /proc/version are not the host's", cmd,
						fmt.Sprintf("%s(host: %s, %s)", out, hostRel, hostVer), code == 0 && strings.TrimSpace(rel) != hostRel && !strings.Contains(out, hostVer))
				} else {
					t.Check("podtest's kernel is the host's: uname -r and /proc/version are the host's", cmd,
						fmt.Sprintf("%s(host: %s)", out, hostRel), code == 0 && strings.TrimSpace(rel) == hostRel && strings.Contains(out, hostVer))
				}
				hostView(ctx, t, n, gv, p.PID)
			}
		},
	}
}

// localhostCheck: a listener in c1 on 127.0.0.1:5000 answers c2. Under
// runc it is in the socket table of the network namespace c1's host
// process is in. Under gVisor the host kernel never sees it: the socket is
// in the Sentry's own network stack (netstack), so the host's socket table
// of the pod's netns stays without it while c2 gets its reply.
func localhostCheck(ctx context.Context, t *T, pod string, c1PID int, gv bool) {
	l := []string{"nc", "-ll", "-p", "5000", "127.0.0.1", "-e", "date"}
	if err := t.Background(ctx, pod, "c1", l...); err != nil {
		t.Check("start a listener in "+pod+"'s c1", "", err.Error(), false)
		return
	}
	node, _ := t.node(ctx, pod)
	if gv {
		var out, cmd string
		code := -1
		Eventually(ctx, 20*time.Second, func() bool {
			out, code, cmd = t.Exec(ctx, pod, "c2", "nc", "127.0.0.1", "5000")
			return code == 0 && dateRE.MatchString(out)
		})
		inHost := contains(t.Listening(ctx, node, c1PID), "127.0.0.1:5000")
		t.Check(fmt.Sprintf("%s: c2 reaches c1's listener on localhost (one Sentry, one network stack for the pod), a socket the host kernel does not hold", pod),
			"podsim exec "+pod+" -c c1 -- "+shellJoin(l)+" (background); "+cmd,
			fmt.Sprintf("reply %q; kernel: 127.0.0.1:5000 LISTEN in the Sentry's netns (/proc/%d/net/tcp): %v (netstack keeps its sockets to itself)", strings.TrimSpace(out), c1PID, inHost),
			code == 0 && dateRE.MatchString(out) && !inHost)
		return
	}
	listening := t.WaitListening(ctx, node, c1PID, "127.0.0.1:5000", 20*time.Second)
	out, code, cmd := t.Exec(ctx, pod, "c2", "nc", "127.0.0.1", "5000")
	t.Check(fmt.Sprintf("%s: c2 reaches c1's listener on localhost (one network namespace for the pod)", pod),
		"podsim exec "+pod+" -c c1 -- "+shellJoin(l)+" (background); "+cmd,
		fmt.Sprintf("reply %q; kernel: 127.0.0.1:5000 LISTEN in /proc/%d/net/tcp: %v", strings.TrimSpace(out), c1PID, listening),
		code == 0 && dateRE.MatchString(out) && listening)
}

// hostView reads, on the node, what the container's process is: the
// command itself under runc; under gVisor the pod's one Sentry
// (runsc-sandbox: c1's task and the pause's are that one process), in the
// pod cgroup with a gofer per container beside it, and which network
// namespace it is in.
func hostView(ctx context.Context, t *T, n Node, gv bool, pids map[string]int) {
	pid := pids["c1"]
	cl := cmdline(ctx, n, pid)
	net, _ := t.NS(ctx, n, pid, "net")
	pause, _ := t.NS(ctx, n, pids["POD"], "net")
	obs := fmt.Sprintf("c1's task pid %d on the host: %s\n  net %s (pause's: %s)", pid, cl, net, pause)
	if !gv {
		t.Check("kernel: podtest's c1 is a host process running its own command (sleep 5000), in the pod's netns",
			"cat /proc/<c1 pid>/cmdline; readlink /proc/<pid>/ns/net", obs, cl == "sleep 5000" && net == pause && net.Inode != 0)
		return
	}
	procs, err := n.Processes(ctx)
	podCg := ""
	for _, p := range procs {
		if p.PID == pids["POD"] {
			podCg = p.Cgroup // runsc runs the whole sandbox in the pod cgroup
		}
	}
	sentries, gofers := 0, 0
	var sleeps []string
	for _, p := range procs {
		if podCg == "" || (p.Cgroup != podCg && !strings.HasPrefix(p.Cgroup, podCg+"/")) {
			continue
		}
		switch c := p.Cmdline; {
		case strings.HasPrefix(c, "runsc-sandbox"):
			sentries++
		case strings.HasPrefix(c, "runsc-gofer"):
			gofers++
		case c == "sleep 5000":
			sleeps = append(sleeps, fmt.Sprint(p.PID))
		}
	}
	obs += fmt.Sprintf("; pause's task pid %d\n  in the pod cgroup %s: %d runsc-sandbox (Sentry), %d runsc-gofer; host processes 'sleep 5000': %v%s", pids["POD"], podCg, sentries, gofers, sleeps, errOrEmpty(err))
	t.Check("kernel: podtest-gvisor is one gVisor sandbox: c1's task is the pause's, the pod's only Sentry (runsc-sandbox), with a gofer per container (pause, c1, c2) and no host process running c1's command",
		"cat /proc/<c1 pid>/cmdline; ps -e; cat /proc/<pid>/cgroup; readlink /proc/<pid>/ns/net", obs,
		err == nil && strings.HasPrefix(cl, "runsc-sandbox") && pid == pids["POD"] && sentries == 1 && gofers == 3 && len(sleeps) == 0 && net == pause && net.Inode != 0)
}

// cmdline is a node process's command line, its arguments joined by spaces.
func cmdline(ctx context.Context, n Node, pid int) string {
	b, _ := n.ReadFile(ctx, fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// allCmdlines are this host's processes' command lines.
func allCmdlines() map[int]string {
	out := map[int]string{}
	ps, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range ps {
		var pid int
		if _, err := fmt.Sscan(filepath.Base(p), &pid); err == nil {
			b, _ := os.ReadFile(p + "/cmdline")
			out[pid] = strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}
