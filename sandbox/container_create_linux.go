package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	corev1 "k8s.io/api/core/v1"
)

// createdContainer is a container after CreateContainer: its task exists
// (runc create: namespaces joined, mounts made, the process waiting before
// exec) and StartContainer has not run yet.
type createdContainer struct {
	c    *corev1.Container
	id   string // containerd ID of this attempt
	role string // RoleInit, RoleApp or RoleEphemeral
	task containerd.Task
	// pausePID and, for an ephemeral container with --target, the target's
	// name and PID: the processes whose namespaces it joined.
	pausePID, targetPID uint32
	target              string
	volumes             []Mount // the container's volume mounts, for the trace
	t0                  time.Time
}

// createContainer is CRI's CreateContainer: the container's volume mounts,
// its spec (containerSpecOpts), a containerd container with its own
// snapshot, and a task whose stdout/stderr go to the CRI-format log (or,
// for an attached container, to this process).
func (m *Manager) createContainer(ctx context.Context, run *podRun, c *corev1.Container, role string, target targetContainer) (*createdContainer, error) {
	rec, img := run.rec, run.images[c.Image]
	cc := &createdContainer{c: c, role: role, t0: time.Now(), pausePID: run.pause.Pid(), target: target.Name, targetPID: target.PID}
	fail := func(err error) (*createdContainer, error) {
		m.Eventf(rec.ID, EventWarning, "Failed", rec.ContainerFieldPath(c.Name), "Error: %v", err)
		return nil, fmt.Errorf("pod %s: step container %s: %w", rec.Pod.Name, c.Name, err)
	}
	var err error
	if cc.volumes, err = volumeMounts(&rec.Pod, c, run.vols, filepath.Join(m.paths.podRun(rec.ID), "subpaths")); err != nil {
		return fail(err)
	}
	attach := run.attachFor(c, role)
	id := rec.containerID(c.Name) // attempt n: init containers restart too
	cc.id = id
	termLog, err := m.writeTerminationLog(rec.ID, c.Name)
	if err != nil {
		return fail(err)
	}
	// envFrom and valueFrom are read now, as kubelet does when it makes
	// the container's config (the pod IP is known: CNI is done).
	specC, err := m.withResolvedEnv(rec, c)
	if err != nil {
		return fail(err)
	}
	opts, err := containerSpecOpts(containerConfig{ID: id, SandboxID: rec.ID, Pod: &rec.Pod, Container: specC, Image: img.cfg,
		PausePID: cc.pausePID, TargetPID: target.PID, Cgroup: rec.Cgroup, Mounts: podMounts(run.files, cc.volumes),
		TerminationLog: termLog, TTY: attach != nil && attach.io.TTY, Node: m.node, UserNS: rec.UserNS})
	if err != nil {
		return fail(err)
	}
	ctr, err := m.containerWithSpec(ctx, run, c, id, opts) // container_prepare_linux.go
	if err != nil {
		return fail(fmt.Errorf("creating container: %w", err))
	}
	if cc.task, err = m.newTask(ctx, ctr, rec.ID, rec.logPath(c.Name, rec.container(c.Name).RestartCount), attach); err != nil {
		return fail(err)
	}
	return cc, nil
}

// writeTerminationLog makes the container's termination-message file as
// kubelet does: empty, mode 0666 (whatever user the container runs as can
// write it), in the pod's directory, which teardown and gc remove.
func (m *Manager) writeTerminationLog(podID, name string) (string, error) {
	dir := filepath.Join(m.paths.podDir(podID), "containers", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("termination-message file: %w", err)
	}
	p := filepath.Join(dir, "termination-log")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|syscall.O_NOFOLLOW, 0o666)
	if err != nil {
		return "", fmt.Errorf("termination-message file: %w", err)
	}
	f.Close()
	// The umask took bits off at creation.
	if err := os.Chmod(p, 0o666); err != nil {
		return "", fmt.Errorf("termination-message file: %w", err)
	}
	return p, nil
}

// newTask creates the container's task (runc create) with its stdio: as
// containerd's CRI plugin does, two FIFOs that the node agent reads into
// the CRI log (logfifo_linux.go), or, for an attached container (podsim
// run -i, debug -i), this podsim process, which also keeps the CRI log.
func (m *Manager) newTask(ctx context.Context, ctr containerd.Container, podID, logPath string, attach *attachment) (containerd.Task, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	var (
		creator  cio.Creator
		closeLog func()
		held     []*os.File
		err      error
	)
	if attach != nil {
		creator, closeLog, err = attachedIO(attach.io, logPath)
	} else {
		creator, held, err = m.newLogFIFOs(podID, ctr.ID(), logPath)
		closeLog = func() { closeAll(held) }
	}
	if err != nil {
		return nil, err
	}
	task, err := ctr.NewTask(ctx, creator)
	if err != nil {
		closeLog()
		return nil, fmt.Errorf("creating task: %w", err)
	}
	if held != nil {
		m.handOff(podID, ctr.ID(), held)
	}
	return task, nil
}

// targetContainer is the container whose PID namespace an ephemeral
// container joins (kubectl debug --target); the zero value is none.
type targetContainer struct {
	Name string
	PID  uint32
}

// attachFor is the attachment for the pod's first app container (podsim
// run -i) or for an ephemeral container (podsim debug -i), if any.
func (r *podRun) attachFor(c *corev1.Container, role string) *attachment {
	if r.attach != nil && role == RoleEphemeral {
		return r.attach
	}
	if r.attach == nil || role != RoleApp || c.Name != r.rec.Pod.Spec.Containers[0].Name {
		return nil
	}
	return r.attach
}
