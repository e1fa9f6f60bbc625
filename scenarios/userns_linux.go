package scenarios

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/podsim/podsim/sandbox"
)

// PodTestUserNSYAML is the article's two-container pod (with its shared
// emptyDir) in a user namespace of its own: hostUsers: false.
const PodTestUserNSYAML = `apiVersion: v1
kind: Pod
metadata:
  name: podtest-userns
spec:
  hostUsers: false
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

func userNamespace() *Scenario {
	return &Scenario{
		Name:      "user-namespace",
		Summary:   "hostUsers: false: root in the pod is an unprivileged uid of its own on the host, in one user namespace shared by the pod",
		Manifests: []string{PodTestPlainYAML, PodTestUserNSYAML},
		// The node's runtime must give the pod a user namespace; the checks
		// read the node's /proc (the ID range from podsim's record with
		// podsim, from c1's uid_map on a cluster, where the API has none).
		Needs: []Capability{CapUserNamespaces},
		Run: func(ctx context.Context, t *T) {
			plain, err1 := t.Procs(ctx, "podtest")
			uns, err2 := t.Procs(ctx, "podtest-userns")
			n, err3 := t.node(ctx, "podtest-userns")
			if err := firstErr(err1, err2, err3); err != nil {
				t.Check("read the pods' processes", "", err.Error(), false)
				return
			}
			var u *sandbox.UserNamespace
			if uns.State != nil {
				u = uns.State.UserNS
			} else {
				u = userNSOf(t.ReadHost(ctx, n, fmt.Sprintf("/proc/%d/uid_map", uns.PID["c1"])))
			}
			if u == nil {
				t.Check("podtest-userns has an ID range", "podsim inspect podtest-userns", "no user namespace recorded", false)
				return
			}
			out, code, cmd := t.Exec(ctx, "podtest-userns", "c1", "id", "-u")
			hostUID := statusUID(ctx, n, uns.PID["c1"])
			plainUID := statusUID(ctx, n, plain.PID["c1"])
			t.Check(fmt.Sprintf("root inside (id -u is 0) is uid %d on the host (/proc/<pid>/status)", u.HostID), cmd+"; grep Uid /proc/<c1 pid>/status",
				fmt.Sprintf("inside: %s; host: Uid: %s; podtest's c1 (no user namespace) on the host: Uid: %s", strings.TrimSpace(out), hostUID, plainUID),
				code == 0 && strings.TrimSpace(out) == "0" && hostUID == fmt.Sprint(u.HostID) && plainUID == "0")

			ids, table := t.NSCompare(ctx, n, "user", uns.PID, "POD", "c1", "c2")
			t.Check("kernel: pause, c1 and c2 are in one user namespace, not the host's", "readlink /proc/<pid>/ns/user", table,
				ids["c1"].Inode != 0 && ids["POD"] == ids["c1"] && ids["c2"] == ids["c1"] && ids["c1"] != ids["host"])

			var maps []string
			same := true
			for _, name := range []string{"POD", "c1", "c2"} {
				m, err := n.ReadFile(ctx, fmt.Sprintf("/proc/%d/uid_map", uns.PID[name]))
				maps = append(maps, fmt.Sprintf("%-4s %s", name, strings.Join(strings.Fields(string(m)), " ")))
				same = same && err == nil && strings.Join(strings.Fields(string(m)), " ") == fmt.Sprintf("0 %d %d", u.HostID, u.Length)
			}
			t.Check(fmt.Sprintf("kernel: each uid_map maps the pod's 0-65535 to host %s (65536 IDs at 65536 × %d)", u.Range(), u.HostID/sandbox.UserNSLength),
				"cat /proc/<pid>/uid_map", strings.Join(maps, "\n"), same && u.HostID%sandbox.UserNSLength == 0 && u.HostID != 0)

			out, code, cmd = t.Exec(ctx, "podtest-userns", "c1", "sh", "-c", "echo written-by-root > /shared/owner && ls -ln /shared/owner")
			dir, err := t.B.VolumeDir(ctx, "podtest-userns", "shared")
			p := path.Join(dir, "owner")
			owner, oerr := n.Owner(ctx, p)
			if err = firstErr(err, oerr); err != nil {
				owner = err.Error()
			}
			t.Check(fmt.Sprintf("a file root writes in the emptyDir is owned by uid %d on the host", u.HostID), cmd+"; stat -c %u:%g "+p,
				fmt.Sprintf("inside: %s\nhost: %s", strings.TrimSpace(out), owner), code == 0 && owner == fmt.Sprintf("%d:%d", u.HostID, u.HostID))

			// CAP_MKNOD only makes device nodes in the host's user
			// namespace: the same root, same capabilities, no user
			// namespace (podtest) can; the pod's root cannot.
			mk := []string{"sh", "-c", "mknod /tmp/null-dev c 1 3 && echo made a device node"}
			out, code, cmd = t.Exec(ctx, "podtest-userns", "c1", mk...)
			outPlain, codePlain, _ := t.Exec(ctx, "podtest", "c1", mk...)
			t.Check("root inside cannot do what host root can: mknod of a device fails (podtest's root, without a user namespace, can)", cmd,
				fmt.Sprintf("podtest-userns: %s(exit %d)\npodtest:        %s(exit %d)", out, code, outPlain, codePlain),
				code != 0 && strings.Contains(out, "Operation not permitted") && codePlain == 0)
		},
	}
}

// userNSOf reads a pod's ID range from a uid_map with one line ("0 HOST
// LENGTH"): what the kernel says, where no record of the pod has it.
func userNSOf(uidMap string) *sandbox.UserNamespace {
	f := strings.Fields(uidMap)
	if len(f) != 3 || f[0] != "0" {
		return nil
	}
	host, err1 := strconv.ParseUint(f[1], 10, 32)
	n, err2 := strconv.ParseUint(f[2], 10, 32)
	if err1 != nil || err2 != nil {
		return nil
	}
	return &sandbox.UserNamespace{HostID: uint32(host), Length: uint32(n)}
}

// statusUID is the real uid of a process as the host sees it (the first
// field of Uid: in /proc/<pid>/status).
func statusUID(ctx context.Context, n Node, pid int) string {
	b, err := n.ReadFile(ctx, fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return err.Error()
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" {
			return f[1]
		}
	}
	return "?"
}
