package scenarios

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/podsim/podsim/sandbox"
)

// PodTestHostYAML is the article's two-container pod with every host
// namespace switch on: the containers run in the host's network, UTS,
// PID and IPC namespaces, each still in its own mount namespace.
const PodTestHostYAML = `apiVersion: v1
kind: Pod
metadata:
  name: podtest-host
spec:
  hostNetwork: true
  hostPID: true
  hostIPC: true
  containers:
  - name: c1
    image: busybox
    command: ['sleep', '5000']
  - name: c2
    image: busybox
    command: ['sleep', '5000']
`

// PodTestPlainYAML is the same pod without the switches.
const PodTestPlainYAML = `apiVersion: v1
kind: Pod
metadata:
  name: podtest
spec:
  containers:
  - name: c1
    image: busybox
    command: ['sleep', '5000']
  - name: c2
    image: busybox
    command: ['sleep', '5000']
`

func hostNamespaces() *Scenario {
	return &Scenario{
		Name:      "host-namespaces",
		Summary:   "hostNetwork, hostPID, hostIPC: the same pod in the host's net/uts/pid/ipc namespaces (own mnt still), against one in its own",
		Manifests: []string{PodTestPlainYAML, PodTestHostYAML},
		Run: func(ctx context.Context, t *T) {
			plain, err1 := t.Procs(ctx, "podtest")
			host, err2 := t.Procs(ctx, "podtest-host")
			if err := firstErr(err1, err2); err != nil {
				t.Check("read the pods' processes", "", err.Error(), false)
				return
			}
			n, ok := t.NeedsNode(ctx, "podtest-host", "kernel: the pods' namespaces against the host's")
			if !ok {
				return
			}
			for _, typ := range []string{"net", "uts", "ipc", "pid"} {
				why := sandbox.HostReason(&host.Pod.Spec, typ)
				ids, table := t.NSCompare(ctx, n, typ, plain.PID, "POD", "c1", "c2")
				t.Check(fmt.Sprintf("kernel: podtest's pause, c1 and c2 are not in the host's %s namespace", typ),
					"readlink /proc/<pid>/ns/"+typ, table,
					ids["c1"].Inode != 0 && ids["host"].Inode != 0 && ids["POD"] != ids["host"] && ids["c1"] != ids["host"] && ids["c2"] != ids["host"])
				ids, table = t.NSCompare(ctx, n, typ, host.PID, "POD", "c1", "c2")
				t.Check(fmt.Sprintf("kernel: podtest-host's pause, c1 and c2 are in the host's %s namespace (%s)", typ, why),
					"readlink /proc/<pid>/ns/"+typ, table,
					ids["c1"].Inode != 0 && ids["host"].Inode != 0 && ids["POD"] == ids["host"] && ids["c1"] == ids["host"] && ids["c2"] == ids["host"])
			}
			ids, table := t.NSCompare(ctx, n, "mnt", host.PID, "c1", "c2")
			t.Check("kernel: podtest-host's c1 and c2 still have mount namespaces of their own", "readlink /proc/<pid>/ns/mnt", table,
				ids["c1"].Inode != 0 && ids["host"].Inode != 0 && ids["c1"] != ids["c2"] && ids["c1"] != ids["host"] && ids["c2"] != ids["host"])

			// The node's IP as the node reports it: podsim reads it with
			// netlink, a cluster's kubelet reports it as status.hostIP.
			nodeIP, hostIP, plainIP := host.Pod.Status.HostIP, host.Pod.Status.PodIP, plain.Pod.Status.PodIP
			ipSource := "status.hostIP"
			if host.State != nil {
				ip, err := sandbox.NodeIP()
				nodeIP, ipSource = fmt.Sprint(ip), fmt.Sprintf("on %s, read with netlink %s", interfaceOf(ip), errOrEmpty(err))
				hostIP, plainIP = host.State.IP, plain.State.IP
			}
			t.Check("podtest-host's IP is the node's (as kubelet reports a hostNetwork pod)", t.B.Name()+": get pods -o wide",
				fmt.Sprintf("podtest-host IP %s, node IP %s (%s); podtest IP %s", hostIP, nodeIP, ipSource, plainIP),
				nodeIP != "" && hostIP == nodeIP && plainIP != nodeIP)

			if ip := net.ParseIP(nodeIP); ip != nil && ip.IsLoopback() {
				why := "the node's address is " + nodeIP + ", a loopback address every network namespace has on its own lo, so `ip addr` cannot tell the host's interfaces from the pod's"
				t.Skip("c1 of podtest-host sees the host's interfaces with the node's address", why)
				t.Skip("c1 of podtest does not: only its own lo and eth0", why)
			} else {
				out, code, cmd := t.Exec(ctx, "podtest-host", "c1", "ip", "-o", "addr")
				t.Check("c1 of podtest-host sees the host's interfaces with the node's address", cmd, grepLines(out, "inet ", 8),
					code == 0 && nodeIP != "" && strings.Contains(out, " "+nodeIP+"/"))
				out, code, cmd = t.Exec(ctx, "podtest", "c1", "ip", "-o", "addr")
				t.Check("c1 of podtest does not: only its own lo and eth0", cmd, grepLines(out, "inet ", 8),
					code == 0 && !strings.Contains(out, " "+nodeIP+"/"))
			}

			nodeName := strings.TrimSpace(t.ReadHost(ctx, n, "/proc/sys/kernel/hostname"))
			out, code, cmd := t.Exec(ctx, "podtest-host", "c2", "hostname")
			t.Check("podtest-host's hostname is the node's (host UTS namespace)", cmd, fmt.Sprintf("%s(node: %s)", out, nodeName),
				code == 0 && nodeName != "" && strings.TrimSpace(out) == nodeName)

			self := strconv.Itoa(n.HostPID())
			out, code, cmd = t.Exec(ctx, "podtest-host", "c2", "ps", "-o", "pid,args")
			line := psLine(out, self)
			t.Check(fmt.Sprintf("ps in podtest-host's c2 shows a host process: %s (pid %s)", n.HostWho(), self), cmd, line,
				code == 0 && line != "")
			out, code, cmd = t.Exec(ctx, "podtest", "c2", "ps", "-o", "pid,args")
			t.Check("ps in podtest's c2 does not: its PID namespace holds its own processes only", cmd, firstLines(out, 6),
				code == 0 && psLine(out, self) == "" && strings.Contains(psPID1(out), "sleep 5000"))

			// The pod's ports are the host's: a listener in podtest-host
			// shows in podsim's own socket table and answers on the host's
			// loopback. Only 127.0.0.1 and a random high port are used.
			port := 20000 + rand.Intn(20000)
			addr := fmt.Sprintf("127.0.0.1:%d", port)
			l := []string{"nc", "-ll", "-p", strconv.Itoa(port), "127.0.0.1", "-e", "date"}
			if err := t.Background(ctx, "podtest-host", "c1", l...); err != nil {
				t.Check("start a listener in podtest-host's c1", "", err.Error(), false)
				return
			}
			ok = t.WaitListening(ctx, n, n.HostPID(), addr, 20*time.Second)
			reply := n.Dial(ctx, addr)
			t.Check(fmt.Sprintf("kernel: c1's listener on %s is in the host's socket table, and the host connects to it", addr),
				t.B.ExecLine("podtest-host", "c1", l)+"   (in the background); cat /proc/<host>/net/tcp; nc "+strings.Replace(addr, ":", " ", 1),
				fmt.Sprintf("host /proc/net/tcp has %s LISTEN: %v; reply from the host: %q", addr, ok, strings.TrimSpace(reply)),
				ok && dateRE.MatchString(reply))
		},
	}
}

func debugContainer() *Scenario {
	return &Scenario{
		Name:      "debug-container",
		Summary:   "kubectl debug --target: an ephemeral container joins the pod's network and the target's PID namespace",
		Manifests: []string{PodTestPlainYAML},
		Run: func(ctx context.Context, t *T) {
			if !t.Needs(CapDebug, "a debug container with --target=c1 sees c1's processes, in the pod's network namespace") {
				return
			}
			var out lockedBuffer
			_, code, err := t.M.Debug(ctx, t.Namespace, "podtest", sandbox.DebugOptions{Name: "debugger", Image: "busybox", Target: "c1",
				Command: []string{"ps", "aux"}, Attach: true, IO: sandbox.ExecIO{Stdout: &out, Stderr: &out}})
			obs := out.String()
			if err != nil {
				obs += err.Error()
			}
			t.Check("a debug container with --target=c1 sees c1's processes: PID 1 is c1's 'sleep 5000'",
				"podsim debug podtest -i --image=busybox --target=c1 -c debugger -- ps aux", obs,
				err == nil && code == 0 && strings.Contains(psPID1(obs), "sleep 5000") && strings.Contains(obs, "ps aux"))
			logs := t.Logs(ctx, "podtest", "debugger")
			t.Check("its output is in its log, like any container's", "podsim logs podtest -c debugger", firstLines(logs, 4),
				strings.Contains(logs, "sleep 5000"))

			_, _, err = t.M.Debug(ctx, t.Namespace, "podtest", sandbox.DebugOptions{Name: "shell", Image: "busybox", Target: "c1",
				Command: []string{"sleep", "3600"}})
			st, gerr := t.M.Get(ctx, t.Namespace, "podtest")
			if err = firstErr(err, gerr); err != nil {
				t.Check("add a detached debug container", "podsim debug podtest --image=busybox --target=c1 -c shell -- sleep 3600", err.Error(), false)
				return
			}
			var statuses []string
			pids := map[string]int{"POD": int(st.Pause.PID)}
			for _, c := range st.Containers {
				pids[c.Name] = int(c.PID)
			}
			for _, c := range st.KubePod().Status.EphemeralContainerStatuses {
				state := "waiting"
				switch {
				case c.State.Running != nil:
					state = "running"
				case c.State.Terminated != nil:
					state = fmt.Sprintf("terminated (exit %d)", c.State.Terminated.ExitCode)
				}
				statuses = append(statuses, c.Name+": "+state)
			}
			for _, c := range st.Ephemeral {
				pids[c.Name] = int(c.PID)
			}
			t.Check("both are in spec.ephemeralContainers and status.ephemeralContainerStatuses", "podsim get pod podtest -o yaml",
				fmt.Sprintf("spec.ephemeralContainers: %d; statuses: %s", len(st.Pod.Spec.EphemeralContainers), strings.Join(statuses, ", ")),
				len(st.Pod.Spec.EphemeralContainers) == 2 && contains(statuses, "debugger: terminated (exit 0)") && contains(statuses, "shell: running"))

			n, _ := t.B.Node(ctx, "podtest")
			ids, table := t.NSCompare(ctx, n, "net", pids, "POD", "c1", "shell")
			t.Check("kernel: the debug container is in the pod's network namespace (the pause's, c1's)", "readlink /proc/<pid>/ns/net", table,
				ids["shell"].Inode != 0 && ids["host"].Inode != 0 && ids["shell"] == ids["POD"] && ids["shell"] == ids["c1"] && ids["shell"] != ids["host"])
			ids, table = t.NSCompare(ctx, n, "pid", pids, "c1", "c2", "shell")
			t.Check("kernel: it is in c1's PID namespace (--target), not c2's nor the pause's", "readlink /proc/<pid>/ns/pid", table,
				ids["shell"].Inode != 0 && ids["host"].Inode != 0 && ids["shell"] == ids["c1"] && ids["shell"] != ids["c2"] && ids["shell"] != ids["host"])
			ids, table = t.NSCompare(ctx, n, "mnt", pids, "c1", "shell")
			t.Check("kernel: it has its own mount namespace (its own image's files)", "readlink /proc/<pid>/ns/mnt", table,
				ids["shell"].Inode != 0 && ids["host"].Inode != 0 && ids["shell"] != ids["c1"] && ids["shell"] != ids["host"])

			o, code, cmd := t.Exec(ctx, "podtest", "shell", "ip", "link")
			mac := eth0MAC(o)
			t.Check("it sees the pod's eth0 with the MAC CNI gave the pod", cmd, fmt.Sprintf("%s(pod MAC %s)", firstLines(o, 6), st.MAC),
				code == 0 && mac != "" && strings.EqualFold(mac, st.MAC))
		},
	}
}

// psLine is the line of pid in `ps -o pid,args` output, or "".
func psLine(out, pid string) string {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 && f[0] == pid {
			return strings.TrimSpace(sc.Text())
		}
	}
	return ""
}

// interfaceOf is the name of the host interface holding ip.
func interfaceOf(ip net.IP) string {
	ifs, _ := net.Interfaces()
	for _, i := range ifs {
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				return i.Name
			}
		}
	}
	return ""
}

// dialRead connects to addr from podsim (the host) and reads the reply.
func dialRead(addr string) string {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	var b bytes.Buffer
	_, _ = b.ReadFrom(c)
	return b.String()
}
