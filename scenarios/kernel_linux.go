package scenarios

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/podsim/podsim/namespaces"
)

// The kernel reads of the checks, through the backend's Node: this host's
// /proc for podsim's own pods, a privileged pod on the node for a cluster.
// pid is always a host PID (from t.Procs).

// node returns the Node of pod's node; "" is the scenario's default node.
func (t *T) node(ctx context.Context, pod string) (Node, error) { return t.B.Node(ctx, pod) }

// NeedsNode returns the node's kernel reader, or records claim as skipped
// with the reason the backend has none.
func (t *T) NeedsNode(ctx context.Context, pod, claim string) (Node, bool) {
	n, err := t.node(ctx, pod)
	if err != nil {
		t.Skip(claim, "no access to the node's kernel: "+err.Error())
		return nil, false
	}
	return n, true
}

// NS reads one namespace of a host process from /proc/<pid>/ns/<typ>.
func (t *T) NS(ctx context.Context, n Node, pid int, typ string) (namespaces.ID, error) {
	link, err := n.Readlink(ctx, fmt.Sprintf("/proc/%d/ns/%s", pid, typ))
	if err != nil {
		return namespaces.ID{}, err
	}
	return namespaces.ParseLink(link, typ)
}

// NSCompare reads one namespace type for several processes (and the
// host's, as seen from the node's HostPID) and returns a printable table;
// ids["host"] is the host's.
func (t *T) NSCompare(ctx context.Context, n Node, typ string, pids map[string]int, order ...string) (map[string]namespaces.ID, string) {
	ids := map[string]namespaces.ID{}
	var b strings.Builder
	host, herr := t.NS(ctx, n, n.HostPID(), typ)
	for _, name := range order {
		id, err := t.NS(ctx, n, pids[name], typ)
		if err != nil {
			fmt.Fprintf(&b, "%-6s pid %-7d %v\n", name, pids[name], err)
			continue
		}
		ids[name] = id
		fmt.Fprintf(&b, "%-6s pid %-7d %s\n", name, pids[name], id)
	}
	if herr != nil {
		// No host namespace to compare with: a stand-in that equals no
		// process's, so "is the host's" fails and "is not" says so.
		fmt.Fprintf(&b, "%-6s (%s, pid %d) %v\n", "host", n.HostWho(), n.HostPID(), herr)
		ids["host"] = namespaces.ID{Type: typ}
		return ids, b.String()
	}
	ids["host"] = host
	fmt.Fprintf(&b, "%-6s (%s, pid %d) %s\n", "host", n.HostWho(), n.HostPID(), host)
	return ids, b.String()
}

// Listening lists the TCP listeners of pid's network namespace, from the
// kernel's socket tables /proc/<pid>/net/tcp and tcp6.
func (t *T) Listening(ctx context.Context, n Node, pid int) []string {
	var out []string
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := n.ReadFile(ctx, fmt.Sprintf("/proc/%d/net/%s", pid, f))
		if err != nil {
			continue
		}
		ls, _ := namespaces.ParseListening(bytes.NewReader(b))
		out = append(out, ls...)
	}
	return out
}

// HostListening lists the TCP listeners of the host's network namespace.
func (t *T) HostListening(ctx context.Context, n Node) []string {
	return t.Listening(ctx, n, n.HostPID())
}

// WaitListening waits until a TCP listener shows up in pid's network
// namespace (read from the kernel, no sleep-and-hope).
func (t *T) WaitListening(ctx context.Context, n Node, pid int, addr string, timeout time.Duration) bool {
	return Eventually(ctx, timeout, func() bool { return contains(t.Listening(ctx, n, pid), addr) })
}

// ListensAny reports whether pid's network namespace has a listener on
// port on every address (0.0.0.0 or [::]).
func (t *T) ListensAny(ctx context.Context, n Node, pid, port int) bool {
	ls := t.Listening(ctx, n, pid)
	return contains(ls, fmt.Sprintf("0.0.0.0:%d", port)) || contains(ls, fmt.Sprintf("[::]:%d", port))
}

// ReadHost reads a host file on the node ("" and the error on failure).
func (t *T) ReadHost(ctx context.Context, n Node, path string) string {
	b, err := n.ReadFile(ctx, path)
	if err != nil {
		return ""
	}
	return string(b)
}

// CgroupDir is the cgroup directory of host process pid for the hierarchy
// that has file (memory.max, cpu.cfs_quota_us ...), read from
// /proc/<pid>/cgroup: the kernel's own answer, whoever made the cgroup.
func (t *T) CgroupDir(ctx context.Context, n Node, pid int, file string) (string, error) {
	b, err := n.ReadFile(ctx, fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	ctrl, _, _ := strings.Cut(file, ".")
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[0] == "0" && f[1] == "" { // cgroup v2: one hierarchy
			if _, err := n.ReadFile(ctx, path.Join(n.CgroupRoot(), "cgroup.controllers")); err == nil {
				return path.Join(n.CgroupRoot(), f[2]), nil
			}
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			if c == ctrl {
				return path.Join(n.CgroupRoot(), f[1], f[2]), nil
			}
		}
	}
	return "", fmt.Errorf("no %s cgroup in /proc/%d/cgroup", ctrl, pid)
}

// CgroupFile reads a cgroup file of host process pid's cgroup.
func (t *T) CgroupFile(ctx context.Context, n Node, pid int, file string) (string, error) {
	dir, err := t.CgroupDir(ctx, n, pid, file)
	if err != nil {
		return "", err
	}
	b, err := n.ReadFile(ctx, path.Join(dir, file))
	return strings.TrimSpace(string(b)), err
}

func inode(fi os.FileInfo) uint64 {
	if fi == nil {
		return 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

// readPin returns the namespace inode behind a /run/netns pin.
func readPin(path string) (uint64, error) {
	id, err := namespaces.Read(path, "net")
	return id.Inode, err
}
