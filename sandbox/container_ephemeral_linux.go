package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// DebugOptions are kubectl debug's flags for an ephemeral container.
type DebugOptions struct {
	Name    string   // -c/--container; "" = debugger-<5 random letters>, as kubectl picks
	Image   string   // --image
	Target  string   // --target: the app container whose PID namespace it joins
	Command []string // after --: replaces the image's Entrypoint and Cmd; none = the image's
	// Attach (-i) streams the container's stdio through IO and waits for
	// its exit; without it the container runs detached and its output goes
	// to its log (podsim logs POD -c NAME).
	Attach bool
	IO     ExecIO
}

// Debug adds an ephemeral container to a running pod, as kubectl debug
// does through the API server and kubelet then carries out with CRI's
// CreateContainer and StartContainer: it joins the pause's net, ipc and
// uts namespaces and, with a target, the target container's PID namespace
// (so ps shows the target's processes); its own mount namespace shows its
// own image. It is recorded in spec.ephemeralContainers and removed with
// the pod; like Kubernetes' ephemeral containers it is never restarted.
// It returns the container's name and, when attached, its exit code.
func (m *Manager) Debug(ctx context.Context, namespace, pod string, o DebugOptions) (string, int, error) {
	s := newAttachSession(o.IO)
	if !o.Attach {
		s = nil
	}
	name, err := m.addEphemeralContainer(ctx, namespace, pod, o, s)
	if err != nil || s == nil {
		return name, 0, err
	}
	code, err := s.wait(ctx)
	return name, code, err
}

// addEphemeralContainer creates and starts the container under the lock.
func (m *Manager) addEphemeralContainer(ctx context.Context, namespace, pod string, o DebugOptions, s *attachSession) (_ string, err error) {
	lock, err := m.takeLock(ctx)
	if err != nil {
		return "", err
	}
	defer lock.release()
	rec, err := m.find(ctx, namespace, pod)
	if err != nil {
		return "", err
	}
	if rec == nil {
		return "", fmt.Errorf("%w: pod %q in namespace %q (list pods with 'podsim get pods')", ErrPodNotFound, pod, namespace)
	}
	st := m.state(ctx, rec)
	if st.Pause.Status != "running" {
		return "", fmt.Errorf("%w: pod %s has no running sandbox (status %s): an ephemeral container joins a running pod", ErrNotRunning, pod, st.StatusText())
	}
	ec, target, err := m.ephemeralContainer(st, o)
	if err != nil {
		return "", err
	}
	img, err := m.ensureImage(ctx, ec.Image)
	if err != nil {
		return "", fmt.Errorf("pod %s, ephemeral container %s: %w", pod, ec.Name, err)
	}
	pause, err := m.client.LoadContainer(ctx, rec.ID)
	if err != nil {
		return "", fmt.Errorf("%w: pause container of pod %s: %v", ErrNotRunning, pod, err)
	}
	pauseTask, err := pause.Task(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("%w: pause task of pod %s: %v", ErrNotRunning, pod, err)
	}
	// Recorded first, as every pod object is: pod deletion and gc find the
	// container by its sandbox label either way.
	rec.Pod.Spec.EphemeralContainers = append(rec.Pod.Spec.EphemeralContainers, ec)
	if err := m.saveRecord(rec); err != nil {
		return "", err
	}
	defer func() {
		if err != nil { // nothing half-built: no container, no spec entry
			if c, lerr := m.client.LoadContainer(context.WithoutCancel(ctx), ContainerID(rec.ID, ec.Name)); lerr == nil {
				_ = removeContainer(context.WithoutCancel(ctx), c, 0, nil)
			}
			rec.Pod.Spec.EphemeralContainers = rec.Pod.Spec.EphemeralContainers[:len(rec.Pod.Spec.EphemeralContainers)-1]
			_ = m.saveRecord(rec)
		}
	}()
	run := &podRun{rec: rec, images: map[string]pulledImage{ec.Image: img}, files: m.podFilesOf(rec.ID, &rec.Pod), pause: pauseTask, lock: lock}
	if s != nil {
		run.attach = s.att
	}
	c := corev1.Container(ec.EphemeralContainerCommon)
	cc, err := m.createContainer(ctx, run, &c, RoleEphemeral, target)
	if err != nil {
		return "", err
	}
	if err := m.startContainer(ctx, run, cc); err != nil {
		return "", err
	}
	return ec.Name, nil
}

// ephemeralContainer checks kubectl debug's flags against the pod and
// returns the container to add, with the target's PID when --target is set.
func (m *Manager) ephemeralContainer(st *PodState, o DebugOptions) (corev1.EphemeralContainer, targetContainer, error) {
	var tc targetContainer
	pod := st.Pod.Name
	name := o.Name
	if name == "" {
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		name = "debugger-" + hex.EncodeToString(b)[:5]
	}
	if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
		return corev1.EphemeralContainer{}, tc, fmt.Errorf("%w %q: ephemeral container name (-c) %q is not valid: %s", ErrInvalidPod, pod, name, strings.Join(msgs, ", "))
	}
	if _, err := st.Record.ContainerName(name); err == nil {
		return corev1.EphemeralContainer{}, tc, fmt.Errorf("%w %q: a container named %q already exists in the pod: choose another name with -c", ErrInvalidPod, pod, name)
	}
	if strings.TrimSpace(o.Image) == "" {
		return corev1.EphemeralContainer{}, tc, fmt.Errorf("%w %q: --image is required for an ephemeral container", ErrInvalidPod, pod)
	}
	if _, err := m.images.Lookup(o.Image); err != nil {
		return corev1.EphemeralContainer{}, tc, fmt.Errorf("pod %s, ephemeral container %s: %w", pod, name, err)
	}
	if o.Target != "" {
		var names []string
		for _, c := range st.Containers {
			names = append(names, c.Name)
			if c.Name == o.Target {
				if c.Status != "running" {
					return corev1.EphemeralContainer{}, tc, fmt.Errorf("%w: --target container %s of pod %s is %s", ErrNotRunning, o.Target, pod, c.Status)
				}
				tc = targetContainer{Name: c.Name, PID: c.PID}
			}
		}
		if tc.PID == 0 {
			return corev1.EphemeralContainer{}, tc, fmt.Errorf("%w: --target %q is not a container of pod %s: choose one of [%s]", ErrNoContainer, o.Target, pod, strings.Join(names, " "))
		}
	}
	ec := corev1.EphemeralContainer{TargetContainerName: o.Target, EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: name, Image: o.Image, Command: o.Command, Stdin: o.Attach, TTY: o.IO.TTY,
		TerminationMessagePolicy: corev1.TerminationMessageReadFile, ImagePullPolicy: corev1.PullIfNotPresent}}
	return ec, tc, nil
}
