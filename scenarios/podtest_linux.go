package scenarios

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// PodTestYAML is the article's pod-multiple-containers.yaml, unchanged.
const PodTestYAML = `apiVersion: v1
kind: Pod
metadata:
  name: podtest
spec:
  containers:
  - name: c1
    image: busybox
    command: ['sleep', '5000']
    volumeMounts:
    - name: shared
      mountPath: /shared
  - name: c2
    image: busybox
    command: ['sleep', '5000']
    volumeMounts:
    - name: shared
      mountPath: /shared
  volumes:
  - name: shared
    emptyDir: {}
`

// PodTestSharedPIDYAML is the same pod with one PID namespace for the pod.
const PodTestSharedPIDYAML = `apiVersion: v1
kind: Pod
metadata:
  name: podtest-sharepid
spec:
  shareProcessNamespace: true
  containers:
  - name: c1
    image: busybox
    command: ['sleep', '5000']
  - name: c2
    image: busybox
    command: ['sleep', '5000']
`

// The article runs `nc -lk -p 5000 127.0.0.1 -e 'date'`. Debian's busybox nc
// has no -k; its way to keep listening after a client is -ll ("use -ll with
// -e for persistent server"), so podsim runs that.
var listener = []string{"nc", "-ll", "-p", "5000", "127.0.0.1", "-e", "date"}

const listenAddr = "127.0.0.1:5000"

func sharedVolume() *Scenario {
	return &Scenario{
		Name:      "shared-volume",
		Summary:   "an emptyDir volume is shared by c1 and c2; the rest of their filesystems is not",
		Manifests: []string{PodTestYAML},
		Run: func(ctx context.Context, t *T) {
			out, code, cmd := t.Exec(ctx, "podtest", "c1", "sh", "-c", "mount | grep shared")
			t.Check("c1 has a volume mounted on /shared", cmd, out, code == 0 && strings.Contains(out, " /shared "))

			out, code, cmd = t.Exec(ctx, "podtest", "c1", "sh", "-c", `echo "foo" > /tmp/foo && echo "bar" > /shared/bar && echo written`)
			t.Check("c1 writes /tmp/foo and /shared/bar", cmd, out, code == 0 && strings.Contains(out, "written"))

			out, code, cmd = t.Exec(ctx, "podtest", "c2", "cat", "/shared/bar")
			t.Check("c2 reads the file c1 wrote to the shared volume", cmd, out, code == 0 && strings.TrimSpace(out) == "bar")

			out, code, cmd = t.Exec(ctx, "podtest", "c2", "cat", "/tmp/foo")
			t.Check("c2 cannot see c1's /tmp/foo: its root filesystem is its own", cmd,
				fmt.Sprintf("%s(exit code %d)", out, code), code != 0 && strings.Contains(out, "No such file"))

			p, err := t.Procs(ctx, "podtest")
			if err != nil {
				t.Check("read the pod's processes", "", err.Error(), false)
				return
			}
			claim := "kernel: c1 and c2 are in different mount namespaces, neither the host's"
			n, ok := t.NeedsNode(ctx, "podtest", claim)
			if !ok {
				return
			}
			ids, table := t.NSCompare(ctx, n, "mnt", p.PID, "c1", "c2")
			t.Check(claim,
				"readlink /proc/<pid>/ns/mnt", table,
				ids["c1"].Inode != 0 && ids["host"].Inode != 0 && ids["c1"] != ids["c2"] && ids["c1"] != ids["host"] && ids["c2"] != ids["host"])

			// The same inode behind /shared in both mount namespaces: the
			// volume is one directory on the host, bind-mounted twice.
			i1, e1 := n.Inode(ctx, fmt.Sprintf("/proc/%d/root/shared/bar", p.PID["c1"]))
			i2, e2 := n.Inode(ctx, fmt.Sprintf("/proc/%d/root/shared/bar", p.PID["c2"]))
			t.Check("kernel: /shared/bar is the same inode in c1 and in c2", "stat /proc/<pid>/root/shared/bar",
				fmt.Sprintf("c1 /shared/bar inode %d, c2 /shared/bar inode %d (errors: %v %v)", i1, i2, e1, e2),
				e1 == nil && e2 == nil && i1 != 0 && i1 == i2)
			claim = "kernel: ... and in the emptyDir directory on the host"
			if !t.Needs(CapPodsimRecord, claim) {
				return
			}
			hostFile := filepath.Join(t.M.EmptyDirPath(p.State.Record, "shared"), "bar")
			ih, e3 := n.Inode(ctx, hostFile)
			t.Check(claim, "stat "+hostFile, fmt.Sprintf("host %s inode %d (error: %v); c1's %d", hostFile, ih, e3, i1),
				e3 == nil && ih == i1)
		},
	}
}

func sharedLocalhost() *Scenario {
	return &Scenario{
		Name:      "shared-localhost",
		Summary:   "c1 and c2 share one network namespace: same eth0, same MAC, same localhost",
		Manifests: []string{PodTestYAML},
		Run: func(ctx context.Context, t *T) {
			out1, code1, cmd1 := t.Exec(ctx, "podtest", "c1", "ip", "link")
			out2, code2, cmd2 := t.Exec(ctx, "podtest", "c2", "ip", "link")
			mac1, mac2 := eth0MAC(out1), eth0MAC(out2)
			t.Check("c1 has an eth0", cmd1, out1, code1 == 0 && mac1 != "")
			t.Check("c2 shows the same eth0 with the same MAC address", cmd2, out2, code2 == 0 && mac2 != "" && mac1 == mac2)

			p, err := t.Procs(ctx, "podtest")
			if err != nil {
				t.Check("read the pod's processes", "", err.Error(), false)
				return
			}
			if claim := "the MAC is the one CNI gave the pod's eth0"; t.Needs(CapPodsimRecord, claim) {
				t.Check(claim, "podsim inspect podtest",
					fmt.Sprintf("CNI result: eth0 %s, IP %s, host-side veth %s", p.State.MAC, p.State.IP, p.State.HostIf),
					mac1 != "" && strings.EqualFold(mac1, p.State.MAC))
			}

			claim := "kernel: pause, c1 and c2 are in one network namespace (the pinned one), not the host's"
			n, ok := t.NeedsNode(ctx, "podtest", claim)
			if !ok {
				return
			}
			ids, table := t.NSCompare(ctx, n, "net", p.PID, "POD", "c1", "c2")
			pinOK := true
			if p.State != nil { // the pin under /run/netns is podsim's record; CRI pins its own
				pin, _ := readPin(p.State.NetNS)
				table += fmt.Sprintf("pin    %s net:[%d]\n", p.State.NetNS, pin)
				pinOK = ids["c1"].Inode == pin
			}
			t.Check(claim, "readlink /proc/<pid>/ns/net", table,
				ids["c1"].Inode != 0 && ids["host"].Inode != 0 && ids["c1"] == ids["c2"] && ids["c1"] == ids["POD"] && pinOK && ids["c1"] != ids["host"])

			if err := t.Background(ctx, "podtest", "c1", listener...); err != nil {
				t.Check("start a listener in c1", "", err.Error(), false)
				return
			}
			ok = t.WaitListening(ctx, n, p.PID["c1"], listenAddr, 20*time.Second)
			hostLs := t.HostListening(ctx, n)
			t.Check("c1 listens on 127.0.0.1:5000 (kernel socket table of the pod's netns), the host's loopback does not",
				t.B.ExecLine("podtest", "c1", listener)+"   (in the background)",
				fmt.Sprintf("/proc/%d/net/tcp has %s LISTEN: %v; host has it: %v", p.PID["c1"], listenAddr, ok, contains(hostLs, listenAddr)),
				ok && !contains(hostLs, listenAddr))

			out, code, cmd := t.Exec(ctx, "podtest", "c2", "nc", "localhost", "5000")
			t.Check("c2 connects to localhost:5000 and gets c1's date", cmd, out, code == 0 && dateRE.MatchString(out))
		},
	}
}

func isolatedPS() *Scenario {
	return &Scenario{
		Name:      "isolated-ps",
		Summary:   "each container has its own PID namespace, unless the pod sets shareProcessNamespace",
		Manifests: []string{PodTestYAML, PodTestSharedPIDYAML},
		Run: func(ctx context.Context, t *T) {
			for _, pod := range []string{"podtest", "podtest-sharepid"} {
				shared := pod == "podtest-sharepid"
				if err := t.Background(ctx, pod, "c1", listener...); err != nil {
					t.Check("start a listener in c1 of "+pod, "", err.Error(), false)
					return
				}
				p, err := t.Procs(ctx, pod)
				if err != nil {
					t.Check("read the pod's processes", "", err.Error(), false)
					return
				}
				// Wait for c1's listener in the kernel's socket table; without
				// node access, ask ps in c1 itself.
				n, err := t.node(ctx, pod)
				if err == nil {
					t.WaitListening(ctx, n, p.PID["c1"], listenAddr, 20*time.Second)
				} else {
					Eventually(ctx, 20*time.Second, func() bool {
						out, _, _ := t.Exec(ctx, pod, "c1", "ps")
						return strings.Contains(out, "nc -ll")
					})
				}
				out, code, cmd := t.Exec(ctx, pod, "c2", "ps", "aux")
				pid1 := psPID1(out)
				if !shared {
					t.Check("podtest: ps aux in c2 does not show c1's nc listener", cmd, out, code == 0 && strings.Contains(out, "ps aux") && !strings.Contains(out, "nc -ll"))
					t.Check("podtest: c2's PID 1 is its own 'sleep 5000'", "(PID 1 line of the same ps aux)", pid1, strings.Contains(pid1, "sleep 5000"))
					claim := "kernel: pause, c1 and c2 each have their own PID namespace"
					if n == nil {
						t.Skip(claim, "no access to the node's kernel: "+err.Error())
						continue
					}
					ids, table := t.NSCompare(ctx, n, "pid", p.PID, "POD", "c1", "c2")
					t.Check(claim, "readlink /proc/<pid>/ns/pid", table,
						ids["c1"].Inode != 0 && ids["host"].Inode != 0 && ids["c1"] != ids["c2"] && ids["c1"] != ids["POD"] && ids["c2"] != ids["POD"] && ids["c1"] != ids["host"])
				} else {
					t.Check("podtest-sharepid (shareProcessNamespace: true): c2 sees c1's nc listener", cmd, out, code == 0 && strings.Contains(out, "nc -ll"))
					t.Check("podtest-sharepid: PID 1 is the pause container", "(PID 1 line of the same ps aux)", pid1, strings.Contains(pid1, "pause"))
					claim := "kernel: pause, c1 and c2 are in one PID namespace"
					if n == nil {
						t.Skip(claim, "no access to the node's kernel: "+err.Error())
						continue
					}
					ids, table := t.NSCompare(ctx, n, "pid", p.PID, "POD", "c1", "c2")
					t.Check(claim, "readlink /proc/<pid>/ns/pid", table,
						ids["c1"].Inode != 0 && ids["host"].Inode != 0 && ids["c1"] == ids["c2"] && ids["c1"] == ids["POD"] && ids["c1"] != ids["host"])
				}
			}
		},
	}
}

func portConflict() *Scenario {
	return &Scenario{
		Name:      "port-conflict",
		Summary:   "one network namespace is one port space: c2 cannot listen where c1 already does",
		Manifests: []string{PodTestYAML},
		Run: func(ctx context.Context, t *T) {
			if err := t.Background(ctx, "podtest", "c1", listener...); err != nil {
				t.Check("start a listener in c1", "", err.Error(), false)
				return
			}
			p, err := t.Procs(ctx, "podtest")
			if err != nil {
				t.Check("read the pod's processes", "", err.Error(), false)
				return
			}
			n, ok := t.NeedsNode(ctx, "podtest", "c1 listens on 127.0.0.1:5000")
			if !ok {
				return
			}
			ok = t.WaitListening(ctx, n, p.PID["c1"], listenAddr, 20*time.Second)
			t.Check("c1 listens on 127.0.0.1:5000", t.B.ExecLine("podtest", "c1", listener)+"   (in the background)",
				fmt.Sprintf("LISTEN %s in /proc/%d/net/tcp: %v", listenAddr, p.PID["c1"], ok), ok)

			out, code, cmd := t.Exec(ctx, "podtest", "c2", "nc", "-l", "-p", "5000", "127.0.0.1")
			t.Check("c2 cannot listen on the same port: address in use", cmd,
				fmt.Sprintf("%s(exit code %d)", out, code), code != 0 && strings.Contains(strings.ToLower(out), "address already in use"))

			c2ls := t.Listening(ctx, n, p.PID["c2"])
			hostLs := t.HostListening(ctx, n)
			t.Check("kernel: c2's socket table (/proc/<c2>/net/tcp) already holds c1's listener; the host's does not",
				fmt.Sprintf("cat /proc/%d/net/tcp", p.PID["c2"]),
				fmt.Sprintf("c2's netns listeners: %v; host listeners include %s: %v", c2ls, listenAddr, contains(hostLs, listenAddr)),
				contains(c2ls, listenAddr) && !contains(hostLs, listenAddr))
		},
	}
}

var (
	macRE  = regexp.MustCompile(`link/ether ([0-9a-f:]{17})`)
	dateRE = regexp.MustCompile(`\d{2}:\d{2}:\d{2} \w+ \d{4}`)
)

// eth0MAC finds the MAC of eth0 in `ip link` output.
func eth0MAC(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.Contains(l, " eth0") && i+1 < len(lines) {
			if m := macRE.FindStringSubmatch(lines[i+1]); m != nil {
				return m[1]
			}
		}
	}
	return ""
}

// psPID1 returns the line of PID 1 in busybox `ps aux` output.
func psPID1(out string) string {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && f[0] == "1" {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
