package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podsim/podsim/scenarios"
)

// hostCgroup is where the node reader mounts the node's /sys/fs/cgroup: a
// container's own /sys/fs/cgroup shows only its own cgroup.
const hostCgroup = "/host/sys/fs/cgroup"

// nodeReader is a short-lived privileged pod on one node, made the way
// `kubectl debug node/NAME` makes its pod: the host's PID, network and IPC
// namespaces (so its /proc lists the node's processes with their host PIDs,
// /proc/1 is the node's init, and /proc/self/net is the node's socket
// table), privileged (to read other processes' /proc/<pid>/ns and root),
// and the node's cgroup tree mounted read-only. Reads are execs of busybox
// tools in it, through the API server like every other exec.
type nodeReader struct {
	c    *Cluster
	ns   string
	pod  string
	node string
	// host is the node's kubelet: the process that stands for "the
	// node" in comparisons (PID 1 may be another container's init when
	// the node itself runs in a container, as kind's do).
	host    int
	hostWho string
	// rootDir is the kubelet's --root-dir ("" when no kubelet was found).
	rootDir string
}

var _ scenarios.Node = (*nodeReader)(nil)

// reader returns the node reader of node, starting it on first use.
func (b *Backend) reader(ctx context.Context, node string) (*nodeReader, error) {
	b.mu.Lock()
	r := b.readers[node]
	b.mu.Unlock()
	if r != nil {
		return r, nil
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	r = &nodeReader{c: b.c, ns: b.ns, pod: "podsim-node-reader-" + hex.EncodeToString(suffix), node: node}
	b.mu.Lock()
	b.readers[node] = r // Finish deletes it even when it never came up
	b.mu.Unlock()
	pods := b.c.cs.CoreV1().Pods(b.ns)
	if _, err := pods.Create(ctx, r.spec(b.c.opts), metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("starting a privileged pod with hostPID on node %s (kubectl debug node's way; refused by the cluster's policy?): %w", node, err)
	}
	err := poll(ctx, b.c.opts.Timeout, func() (bool, error) {
		p, err := pods.Get(ctx, r.pod, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, s := range p.Status.ContainerStatuses {
			if s.State.Running != nil {
				return true, nil
			}
		}
		_, err = podUp(p)
		return false, err
	})
	if err != nil {
		return nil, fmt.Errorf("the node-reader pod %s on node %s did not start: %w", r.pod, node, err)
	}
	r.host, r.hostWho = 1, "node "+node+"'s PID 1"
	if out, err := r.run(ctx, nil, "pidof", "kubelet"); err == nil {
		if f := strings.Fields(string(out)); len(f) > 0 {
			if pid, err := strconv.Atoi(f[len(f)-1]); err == nil {
				r.host, r.hostWho = pid, "node "+node+"'s kubelet"
				cl, _ := r.ReadFile(ctx, fmt.Sprintf("/proc/%d/cmdline", pid))
				r.rootDir = kubeletRootDir(strings.Split(string(cl), "\x00"))
			}
		}
	}
	return r, nil
}

func (r *nodeReader) spec(o Options) *corev1.Pod {
	priv, zero := true, int64(0)
	hostPathDir := corev1.HostPathDirectory
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: r.pod, Namespace: r.ns, Labels: map[string]string{"app.kubernetes.io/name": "podsim-node-reader"}},
		Spec: corev1.PodSpec{
			NodeName: r.node, HostPID: true, HostNetwork: true, HostIPC: true,
			RestartPolicy: corev1.RestartPolicyNever, TerminationGracePeriodSeconds: &zero,
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{
				Name: "reader", Image: o.NodeImage, ImagePullPolicy: o.PullPolicy,
				Command:         []string{"sleep", "86400"},
				SecurityContext: &corev1.SecurityContext{Privileged: &priv},
				VolumeMounts:    []corev1.VolumeMount{{Name: "cgroup", MountPath: hostCgroup, ReadOnly: true}},
			}},
			Volumes: []corev1.Volume{{Name: "cgroup", VolumeSource: corev1.VolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: "/sys/fs/cgroup", Type: &hostPathDir}}}},
		},
	}
}

// run execs cmd in the reader; stdout, or an error with stderr.
func (r *nodeReader) run(ctx context.Context, stdin []byte, cmd ...string) ([]byte, error) {
	var out, errb bytes.Buffer
	var in *bytes.Reader
	if stdin != nil {
		in = bytes.NewReader(stdin)
	}
	var code int
	var err error
	if in != nil {
		code, err = r.c.execIn(ctx, r.ns, r.pod, "reader", cmd, in, &out, &errb)
	} else {
		code, err = r.c.execIn(ctx, r.ns, r.pod, "reader", cmd, nil, &out, &errb)
	}
	if err == nil && code != 0 {
		err = fmt.Errorf("%s on node %s: exit %d: %s", strings.Join(cmd, " "), r.node, code, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), err
}

func (r *nodeReader) ReadFile(ctx context.Context, p string) ([]byte, error) {
	return r.run(ctx, nil, "cat", r.hostPath(p))
}

func (r *nodeReader) Readlink(ctx context.Context, p string) (string, error) {
	b, err := r.run(ctx, nil, "readlink", r.hostPath(p))
	return strings.TrimSpace(string(b)), err
}

func (r *nodeReader) Inode(ctx context.Context, p string) (uint64, error) {
	b, err := r.run(ctx, nil, "stat", "-L", "-c", "%i", r.hostPath(p))
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

func (r *nodeReader) WriteFile(ctx context.Context, p string, data []byte) error {
	_, err := r.run(ctx, data, "sh", "-c", `cat > "$1"`, "sh", r.hostPath(p))
	return err
}

// Dial connects from the node's network namespace (the reader has
// hostNetwork) with busybox nc.
func (r *nodeReader) Dial(ctx context.Context, addr string) string {
	host, port, _ := strings.Cut(addr, ":")
	b, err := r.run(ctx, nil, "nc", "-w", "3", host, port)
	if err != nil {
		return string(b) + err.Error()
	}
	return string(b)
}

// kubeletRootDir is the --root-dir of a kubelet command line (kubelet's
// default /var/lib/kubelet when it has none).
func kubeletRootDir(args []string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--root-dir="); ok {
			return v
		}
		if a == "--root-dir" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return "/var/lib/kubelet"
}

// Kill: the reader shares the node's PID namespace and is privileged.
func (r *nodeReader) Kill(ctx context.Context, pid int) error {
	_, err := r.run(ctx, nil, "kill", "-9", strconv.Itoa(pid))
	return err
}

// Hold starts a sleep in the reader with the file open on fd 3; release
// kills that sleep (by its PID, a node PID: the reader has hostPID). It
// ends with the reader at the latest.
func (r *nodeReader) Hold(ctx context.Context, p string) (func(), error) {
	out, err := r.run(ctx, nil, "sh", "-c", `sleep 3600 3<"$1" </dev/null >/dev/null 2>&1 & echo $!`, "sh", r.hostPath(p))
	if err != nil {
		return nil, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return nil, fmt.Errorf("holding %s on node %s: %q", p, r.node, out)
	}
	return func() { _, _ = r.run(context.WithoutCancel(ctx), nil, "kill", strconv.Itoa(pid)) }, nil
}

func (r *nodeReader) Owner(ctx context.Context, p string) (string, error) {
	b, err := r.run(ctx, nil, "stat", "-c", "%u:%g", r.hostPath(p))
	return strings.TrimSpace(string(b)), err
}

// Processes lists the node's processes in one exec: for each, a "P pid"
// line, its /proc/<pid>/cgroup and a "C cmdline" line.
func (r *nodeReader) Processes(ctx context.Context) ([]scenarios.Process, error) {
	script := `for d in /proc/[0-9]*; do echo "P ${d#/proc/}"; cat $d/cgroup 2>/dev/null; echo "C $(tr '\0' ' ' < $d/cmdline 2>/dev/null)"; done`
	out, err := r.run(ctx, nil, "sh", "-c", script)
	if err != nil {
		return nil, err
	}
	return parseProcesses(string(out)), nil
}

// parseProcesses reads Processes' output (a pure function for tests): the
// cgroup is the memory hierarchy's path on cgroup v1, else the unified one.
func parseProcesses(out string) []scenarios.Process {
	var ps []scenarios.Process
	var cur *scenarios.Process
	var unified string
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "P "):
			pid, err := strconv.Atoi(strings.TrimSpace(l[2:]))
			if err != nil {
				cur = nil
				continue
			}
			ps = append(ps, scenarios.Process{PID: pid})
			cur, unified = &ps[len(ps)-1], ""
		case cur == nil:
		case strings.HasPrefix(l, "C "):
			cur.Cmdline = strings.TrimSpace(l[2:])
			if cur.Cgroup == "" {
				cur.Cgroup = unified
			}
			cur = nil
		default:
			f := strings.SplitN(l, ":", 3)
			if len(f) != 3 {
				continue
			}
			if f[0] == "0" && f[1] == "" {
				unified = f[2]
			}
			if slices.Contains(strings.Split(f[1], ","), "memory") {
				cur.Cgroup = f[2]
			}
		}
	}
	return ps
}

func (r *nodeReader) HostPID() int       { return r.host }
func (r *nodeReader) HostWho() string    { return r.hostWho }
func (r *nodeReader) CgroupRoot() string { return hostCgroup }

// hostPath maps a host path to where the reader sees it: /proc is the
// reader's own, which with hostPID is the node's; cgroup files are under
// the mounted host tree.
func (r *nodeReader) hostPath(p string) string {
	if strings.HasPrefix(p, "/sys/fs/cgroup/") {
		return path.Join(hostCgroup, strings.TrimPrefix(p, "/sys/fs/cgroup/"))
	}
	return p
}

// pids finds the host PIDs of a pod's containers: every process whose
// /proc/<pid>/cgroup names the pod's cgroup (pod<uid>), grouped by the
// container ID in its path; each container's first process is the one
// whose parent is outside the group (the runc shim). The group whose path
// names no app container is the sandbox: "POD", the pause.
func (r *nodeReader) pids(ctx context.Context, uid types.UID, ids map[string]string) (map[string]int, error) {
	m := uidMatch(uid)
	script := `grep -l -e "$1" -e "$2" /proc/[0-9]*/cgroup 2>/dev/null | while read f; do d=${f%/cgroup}; ` +
		`echo "${d#/proc/} $(sed -n 's/^PPid:[[:space:]]*//p' $d/status) $(grep -m1 -e "$1" -e "$2" $f)"; done`
	out, err := r.run(ctx, nil, "sh", "-c", script, "sh", m[0], m[1])
	if err != nil {
		return nil, err
	}
	return groupPIDs(string(out), ids), nil
}

// groupPIDs turns "pid ppid cgroup-line" lines into container -> PID (see
// nodeReader.pids); a pure function for tests.
func groupPIDs(out string, ids map[string]string) map[string]int {
	type proc struct{ pid, ppid int }
	groups := map[string][]proc{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		pid, err1 := strconv.Atoi(f[0])
		ppid, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			continue
		}
		name := "POD"
		for id, n := range ids {
			if strings.Contains(f[2], id) {
				name = n
			}
		}
		groups[name] = append(groups[name], proc{pid, ppid})
	}
	res := map[string]int{}
	for name, ps := range groups {
		in := map[int]bool{}
		for _, p := range ps {
			in[p.pid] = true
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].pid < ps[j].pid })
		for _, p := range ps {
			if !in[p.ppid] {
				res[name] = p.pid
				break
			}
		}
	}
	return res
}
