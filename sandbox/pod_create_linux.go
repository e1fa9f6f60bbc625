package sandbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/containerd/containerd"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podsim/podsim/sandbox/runtime"
)

// ErrInitFailed means the pod was built but an init container failed; the
// pod is kept (status Init:Error) so its logs can be read.
var ErrInitFailed = errors.New("init container failed")

// podRun is what one createPod knows while it builds a pod: the record
// (what exists, for rollback), the images, and the sandbox once it runs.
type podRun struct {
	rec    *Record
	images map[string]pulledImage // by image reference, the pause's too
	files  podFiles               // the pod's hosts, hostname, resolv.conf, shm
	vols   map[string]string      // volume name -> host directory
	pause  containerd.Task        // the sandbox container's task
	// prepared holds the first containers' records and snapshots, made
	// while the pause started (container_prepare_linux.go).
	prepared *preparedContainers
	attach   *attachment // podsim run -i: the first app container's stdio
	lock     *heldLock
	// unlockedHooks: postStart hooks run without the host-wide lock (the
	// node agent's restarts: one pod's slow hook holds up no other pod).
	unlockedHooks bool
}

// attachment wires the first app container's stdio to a podsim process
// (podsim run -i, --rm); task is that container's task once it started.
type attachment struct {
	io   ExecIO
	task containerd.Task
}

// CreatePod builds a pod in CRI order: validate everything, make sure the
// images exist, then pod cgroup, pinned netns, CNI, pause container, init
// containers one by one, app containers. If any step fails, everything made
// so far is torn down again and the error says which step failed.
func (m *Manager) CreatePod(ctx context.Context, pod *corev1.Pod) (*Record, error) {
	return m.createPod(ctx, pod, nil)
}

// createPod builds a new pod the way kubelet's SyncPod does:
//
//	Step 1: admit — validate the whole spec, know every image; nothing is made yet.
//	Step 2: pull — build or import the images (a cache: never rolled back);
//	        runAsNonRoot checked against each image's USER, as kubelet does.
//	Step 3: record — save the pod record; from here on a failure rolls back
//	        with the same idempotent teardown `delete` uses.
//	Step 4: sync — ComputePodActions, then syncPod carries them out (the
//	        sandbox, each init container, the app containers) until done.
//	Step 5: the pod is up: Services selecting it now resolve to its IP.
//	Step 6: mark it built; the node agent keeps it from now on (restarts),
//	        started if the pod's restartPolicy can restart a container.
func (m *Manager) createPod(ctx context.Context, pod *corev1.Pod, attach *attachment) (_ *Record, err error) {
	// Step 1.
	if pod, err = m.admitPod(pod); err != nil {
		return nil, err
	}
	lock, err := m.takeLock(ctx)
	if err != nil {
		return nil, err
	}
	defer lock.release() // let go while init containers run, retaken after
	if err := m.checkNewPod(ctx, pod); err != nil {
		return nil, err
	}
	handler, err := m.admitRuntimeClass(pod) // kubelet's RuntimeClass lookup (runtimeclass_linux.go)
	if err != nil {
		return nil, err
	}
	// Every containerd object made from here on (images, snapshots,
	// containers) is made under one lease owned by this process, which
	// `podsim gc` removes if the process dies before it does.
	ctx, releaseLease, err := runtime.WithLease(ctx, m.client, "pod "+pod.Namespace+"/"+pod.Name)
	if err != nil {
		return nil, err
	}
	defer releaseLease()
	// Step 2.
	imgs, err := m.pullImages(ctx, pod)
	if err != nil {
		return nil, err
	}
	if err := verifyImageUsers(pod, imgs); err != nil {
		return nil, err
	}
	// Step 3.
	rec, err := m.newRecord(pod)
	if err != nil {
		return nil, err
	}
	m.Eventf(rec.ID, EventNormal, "Scheduled", "", "Successfully assigned %s/%s to %s", pod.Namespace, pod.Name, m.node.Hostname)
	rec.RuntimeHandler = handler
	defer func() {
		if err != nil && !errors.Is(err, ErrInitFailed) {
			err = m.rollback(ctx, rec, err)
		}
	}()
	// Step 4.
	run := &podRun{rec: rec, images: imgs, attach: attach, lock: lock}
	obs := ObservedPod{Containers: map[string]ObservedContainer{}}
	for a := ComputePodActions(&rec.Pod, obs); !a.Done(); a = ComputePodActions(&rec.Pod, obs) {
		if len(a.RestartInit) > 0 {
			// kubelet restarts a failed init container with back-off
			// (Init:CrashLoopBackOff): the node agent does, from here on.
			name := rec.Pod.Spec.InitContainers[a.RestartInit[0]].Name
			m.warn(fmt.Sprintf("pod %s: init container %s exited with %d; restartPolicy %s: the node agent restarts it with back-off (see 'podsim get pods', 'podsim logs %s -c %s')",
				rec.Pod.Name, name, obs.Containers[name].ExitCode, restartPolicyName(&rec.Pod), rec.Pod.Name, name))
			break
		}
		if err = m.syncPod(ctx, run, a, &obs); err != nil {
			if errors.Is(err, ErrInitFailed) {
				return rec, err
			}
			return nil, err
		}
	}
	// Step 5.
	if err := m.refreshHostsOf(ctx, rec, false); err != nil {
		m.warn("updating hosts files: " + err.Error())
	}
	// Step 6: from here on the node agent keeps the pod.
	rec.Built = true
	if err := m.saveRecord(rec); err != nil {
		return nil, err
	}
	if agentKeeps(&rec.Pod) && m.needAgent != nil {
		m.needAgent()
	}
	return rec, nil
}

// syncPod carries out one round of actions, in kubelet's SyncPod order:
// the sandbox first, then one init container (to its exit), or the app
// containers. obs is updated with what it did.
func (m *Manager) syncPod(ctx context.Context, run *podRun, a PodActions, obs *ObservedPod) error {
	pod := &run.rec.Pod
	if a.CreateSandbox {
		if err := m.runPodSandbox(ctx, run); err != nil {
			return err
		}
		obs.SandboxReady = true
	}
	if a.InitFailed != "" {
		run.rec.InitError = fmt.Sprintf("init container %s exited with %d", a.InitFailed, obs.Containers[a.InitFailed].ExitCode)
		_ = m.saveRecord(run.rec)
		// Kept, not rolled back: like kubectl, the pod shows Init:Error and its logs stay readable.
		return podErr(pod.Namespace, pod.Name, a.InitFailed, fmt.Errorf("%w: pod/%s created but %s", ErrInitFailed, pod.Name, run.rec.InitError))
	}
	if a.NextInit >= 0 {
		c := &pod.Spec.InitContainers[a.NextInit]
		if IsSidecar(c) { // started, not waited for: it keeps running
			if err := m.startInitContainer(ctx, run, c); err != nil {
				return err
			}
			obs.Containers[c.Name] = ObservedContainer{Phase: ContainerRunning}
			return nil
		}
		code, err := m.runInitContainer(ctx, run, c)
		if err != nil {
			return err
		}
		obs.Containers[c.Name] = ObservedContainer{Phase: ContainerExited, ExitCode: int(code), FinishedAt: time.Now()}
		return nil
	}
	if err := m.startAppContainers(ctx, run, a.Start); err != nil {
		return err
	}
	for _, i := range a.Start {
		obs.Containers[pod.Spec.Containers[i].Name] = ObservedContainer{Phase: ContainerRunning}
	}
	return nil
}

// admitPod validates a copy of the pod (warnings go to the user) and checks
// that podsim can provide every image, before anything is made.
func (m *Manager) admitPod(pod *corev1.Pod) (*corev1.Pod, error) {
	pod = pod.DeepCopy()
	warns, err := Validate(pod)
	for _, w := range warns {
		m.warn(fmt.Sprintf("pod %s: %s", pod.Name, w))
	}
	if err != nil {
		return nil, err
	}
	if err := checkHostSecurity(pod, m.node.Security); err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrInvalidPod, pod.Name, err)
	}
	if HostUsersOff(&pod.Spec) {
		if err := UserNSHostSupport(); err != nil {
			return nil, fmt.Errorf("pod %s: %w", pod.Name, err)
		}
	}
	for _, c := range allContainers(pod) {
		if _, err := m.images.Lookup(c.Image); err != nil {
			return nil, fmt.Errorf("pod %s, container %s: %w", pod.Name, c.Name, err)
		}
	}
	return pod, nil
}

// verifyImageUsers is kubelet's runAsNonRoot check against each image's
// USER, made once the images are known and before any pod object exists.
func verifyImageUsers(pod *corev1.Pod, imgs map[string]pulledImage) error {
	for _, c := range allContainers(pod) {
		if err := VerifyRunAsNonRoot(pod, &c, imgs[c.Image].cfg.User); err != nil {
			return fmt.Errorf("%w: pod %s: %w", ErrInvalidPod, pod.Name, err)
		}
	}
	return nil
}

// checkNewPod refuses a pod whose volume sources are missing or whose name
// is taken (under the lock, so two applies cannot both pass).
func (m *Manager) checkNewPod(ctx context.Context, pod *corev1.Pod) error {
	if err := m.checkVolumeSources(pod); err != nil {
		return err
	}
	// env's ConfigMaps, Secrets and fields exist (kubelet would leave the
	// container in CreateContainerConfigError; podsim refuses the pod).
	probe := &Record{Pod: *pod}
	for _, c := range allContainers(pod) {
		if _, err := m.withResolvedEnv(probe, &c); err != nil {
			return fmt.Errorf("%w: pod %s, container %s: %w", ErrInvalidPod, pod.Name, c.Name, err)
		}
	}
	if existing, _ := m.find(ctx, pod.Namespace, pod.Name); existing != nil {
		return podErr(pod.Namespace, pod.Name, "", fmt.Errorf("%w: pod %q in namespace %q", ErrPodExists, pod.Name, pod.Namespace))
	}
	return nil
}

// newRecord gives the pod its IDs and saves its record: the first thing
// that exists, and what rollback and gc start from.
func (m *Manager) newRecord(pod *corev1.Pod) (*Record, error) {
	id, uid := newIDs()
	pod.UID = types.UID(uid)
	pod.CreationTimestamp = metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	rec := &Record{ID: id, Pod: *pod, Created: time.Now().UTC(),
		LogDir: m.paths.podLogDir(pod.Namespace, pod.Name, uid)}
	if err := m.saveRecord(rec); err != nil {
		return nil, err
	}
	crashPoint("record")
	return rec, nil
}

// rollback undoes a half-built pod with the teardown `delete` uses.
func (m *Manager) rollback(ctx context.Context, rec *Record, cause error) error {
	if terr := m.teardown(context.WithoutCancel(ctx), rec, 0); terr != nil {
		return errors.Join(cause, podErr(rec.Pod.Namespace, rec.Pod.Name, "", fmt.Errorf("rolling back pod %s: %w (%w: what is left is still recorded)", rec.Pod.Name, terr, ErrPodKept)))
	}
	return cause
}

// allContainers lists init containers, then app containers.
func allContainers(pod *corev1.Pod) []corev1.Container {
	return append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
}

// heldLock is the host-wide pod lock, which createPod lets go of while an
// init container runs (it may wait for something another podsim command
// makes) and takes again afterwards.
type heldLock struct {
	m      *Manager
	unlock func()
}

func (m *Manager) takeLock(ctx context.Context) (*heldLock, error) {
	l := &heldLock{m: m}
	return l, l.retake(ctx)
}

func (l *heldLock) release() {
	if l.unlock != nil {
		l.unlock()
		l.unlock = nil
	}
}

func (l *heldLock) retake(ctx context.Context) error {
	u, err := l.m.lock(ctx)
	if err != nil {
		return err
	}
	l.unlock = u
	return nil
}
