package scenarios

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/objects"
	"github.com/podsim/podsim/sandbox"
)

// Local is the Backend of podsim's own pods: the sandbox.Manager builds
// them on this host, exec goes through the runc shim, and the kernel is
// read from this host's /proc and /sys/fs/cgroup directly.
type Local struct {
	M       *sandbox.Manager
	O       *objects.Manager
	NS      string
	Keep    bool // leave the objects after the scenario
	created []objects.Ref
}

var _ Backend = (*Local)(nil)

// NewLocal is the backend of podsim's own pods in namespace ns.
func NewLocal(m *sandbox.Manager, ns string, keep bool) *Local {
	return &Local{M: m, O: objects.New(m), NS: ns, Keep: keep}
}

func (l *Local) Name() string      { return "podsim" }
func (l *Local) Namespace() string { return l.NS }

// Has: podsim's own pods can do everything the scenarios ask.
func (l *Local) Has(Capability) (bool, string) { return true, "" }

// Apply applies a manifest and remembers its objects so the scenario
// deletes them at the end.
func (l *Local) Apply(ctx context.Context, manifest string, out io.Writer) error {
	objs, err := sandbox.ParseManifests(strings.NewReader(manifest), "scenario")
	if err != nil {
		return err
	}
	// Track every object this apply creates before applying: a failed
	// apply (an init container that fails, say) may still leave some of
	// them. Objects that existed before are not the scenario's to delete.
	for _, o := range objs {
		r := objects.RefOf(o)
		known := l.O.Exists(ctx, l.NS, r)
		for _, c := range l.created {
			known = known || c == r
		}
		if !known {
			l.created = append(l.created, r)
		}
	}
	return l.O.Apply(ctx, objs, l.NS, func(a objects.Applied) {
		fmt.Fprintln(out, a.String())
		for _, w := range a.Warnings {
			fmt.Fprintln(out, "Warning: "+w)
		}
	})
}

func (l *Local) ApplySecret(ctx context.Context, s *corev1.Secret) error {
	_, err := l.O.ApplySecret(ctx, s)
	return err
}

func (l *Local) Track(kind, name string) {
	k, err := objects.KindOf(kind)
	if err != nil {
		panic(err) // a scenario's own typo
	}
	l.created = append(l.created, objects.Ref{Kind: k, Name: name})
}

func (l *Local) Exec(ctx context.Context, pod, container string, cmd []string) (string, int, error) {
	var out bytes.Buffer
	code, err := l.M.Exec(ctx, l.NS, pod, container, cmd, sandbox.ExecIO{Stdout: &out, Stderr: &out})
	return out.String(), code, err
}

func (l *Local) ExecLine(pod, container string, cmd []string) string {
	return fmt.Sprintf("podsim exec %s -c %s -- %s", pod, container, shellJoin(cmd))
}

func (l *Local) Background(ctx context.Context, pod, container string, cmd []string) (func(), error) {
	return l.M.StartBackground(ctx, l.NS, pod, container, cmd)
}

// Procs reads the live PIDs of a pod's processes from podsim's record.
func (l *Local) Procs(ctx context.Context, pod string) (*Procs, error) {
	st, err := l.M.Get(ctx, l.NS, pod)
	if err != nil {
		return nil, err
	}
	p := &Procs{State: st, Pod: st.KubePod(), PID: map[string]int{"POD": int(st.Pause.PID)}}
	for _, c := range st.Init { // a native sidecar runs beside the app
		if c.Status == "running" {
			p.PID[c.Name] = int(c.PID)
		}
	}
	for _, c := range st.Containers {
		p.PID[c.Name] = int(c.PID)
	}
	for _, c := range st.Ephemeral {
		p.PID[c.Name] = int(c.PID)
	}
	return p, nil
}

func (l *Local) Logs(ctx context.Context, pod, container string) (string, error) {
	var b lockedBuffer
	err := l.M.Logs(ctx, l.NS, pod, container, sandbox.LogOptions{Tail: -1}, &b)
	return b.String(), err
}

func (l *Local) PreviousLogs(ctx context.Context, pod, container string) (string, error) {
	var b lockedBuffer
	err := l.M.Logs(ctx, l.NS, pod, container, sandbox.LogOptions{Tail: -1, Previous: true}, &b)
	return b.String(), err
}

// Events are the node agent's events about the pod (podsim get events).
func (l *Local) Events(ctx context.Context, pod string) ([]corev1.Event, error) {
	st, err := l.M.Get(ctx, l.NS, pod)
	if err != nil {
		return nil, err
	}
	evs, err := l.M.PodEvents(st.ID)
	var out []corev1.Event
	for _, e := range evs {
		out = append(out, corev1.Event{
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: l.NS, Name: pod, FieldPath: e.FieldPath},
			Type:           e.Type, Reason: e.Reason, Message: e.Message, Count: int32(e.Count),
			FirstTimestamp: metav1.NewTime(e.FirstSeen), LastTimestamp: metav1.NewTime(e.LastSeen),
		})
	}
	return out, err
}

// Label changes the pod's labels in podsim's record (podsim label
// --overwrite); the agent rewrites its downwardAPI files.
func (l *Local) Label(ctx context.Context, pod string, labels map[string]string) error {
	var edits []sandbox.MetaEdit
	for k, v := range labels {
		edits = append(edits, sandbox.MetaEdit{Key: k, Value: v})
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].Key < edits[j].Key })
	_, _, err := l.M.UpdatePodMetadata(ctx, l.NS, pod, func(m *metav1.ObjectMeta) error {
		var e error
		m.Labels, _, e = sandbox.ApplyMetaEdits(m.Labels, edits, true)
		return e
	})
	return err
}

// VolumeDir is the volume's directory under podsim's pod directory.
func (l *Local) VolumeDir(ctx context.Context, pod, volume string) (string, error) {
	st, err := l.M.Get(ctx, l.NS, pod)
	if err != nil {
		return "", err
	}
	if d := l.M.VolumeHostDir(st.Record, volume); d != "" {
		return d, nil
	}
	return "", fmt.Errorf("pod %s has no volume %s", pod, volume)
}

func (l *Local) PodOf(ctx context.Context, deployment string) (string, error) {
	return l.O.ResolvePod(ctx, l.NS, "deploy/"+deployment)
}

// Client runs a one-off client pod like `kubectl run -i --rm --image=IMAGE
// NAME -- ARGS...` and returns its output and exit code.
func (l *Local) Client(ctx context.Context, name, image string, args []string) (string, int, string) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: l.NS, Labels: map[string]string{"run": name}},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: name, Image: image, Args: args}}},
	}
	var out lockedBuffer
	code, err := l.M.RunAttached(ctx, pod, sandbox.ExecIO{Stdout: &out, Stderr: &out})
	if derr := l.M.DeletePod(context.WithoutCancel(ctx), l.NS, name, time.Second); derr != nil && !errors.Is(derr, sandbox.ErrPodNotFound) && err == nil {
		err = derr
	}
	if err != nil {
		fmt.Fprintf(&out, "client pod failed: %v", err)
		code = -1
	}
	return out.String(), code, fmt.Sprintf("podsim run -i --rm --image=%s %s -- %s", image, name, shellJoin(args))
}

// Node: podsim's pods run on this host, so the node is read directly.
func (l *Local) Node(context.Context, string) (Node, error) { return hostNode{}, nil }

// Finish deletes what the scenario made, in the kinds' delete order; what
// is already gone is no error.
func (l *Local) Finish(ctx context.Context) error {
	if l.Keep {
		return nil
	}
	grace := 5 * time.Second
	err := l.O.Delete(context.WithoutCancel(ctx), l.NS, l.created, objects.DeleteOptions{Grace: &grace, IgnoreNotFound: true}, nil)
	l.created = nil
	return err
}

// hostNode is this host's kernel, read by podsim itself.
type hostNode struct{}

func (hostNode) ReadFile(_ context.Context, path string) ([]byte, error) { return os.ReadFile(path) }
func (hostNode) Readlink(_ context.Context, path string) (string, error) { return os.Readlink(path) }
func (hostNode) Inode(_ context.Context, path string) (uint64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return inode(fi), nil
}
func (hostNode) WriteFile(_ context.Context, path string, data []byte) error {
	return os.WriteFile(path, data, 0o644)
}
func (hostNode) Dial(_ context.Context, addr string) string { return dialRead(addr) }
func (hostNode) HostPID() int                               { return os.Getpid() }
func (hostNode) HostWho() string                            { return "podsim" }
func (hostNode) CgroupRoot() string                         { return "/sys/fs/cgroup" }
func (hostNode) Kill(_ context.Context, pid int) error      { return syscall.Kill(pid, syscall.SIGKILL) }
func (hostNode) Hold(_ context.Context, path string) (func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return func() { f.Close() }, nil
}
func (hostNode) Owner(_ context.Context, path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return "", err
	}
	st := fi.Sys().(*syscall.Stat_t)
	return fmt.Sprintf("%d:%d", st.Uid, st.Gid), nil
}
func (hostNode) Processes(context.Context) ([]Process, error) {
	var out []Process
	for pid, cl := range allCmdlines() {
		out = append(out, Process{PID: pid, Cmdline: cl, Cgroup: cgroups.OfProcess(pid)})
	}
	return out, nil
}
