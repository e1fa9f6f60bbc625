package sandbox

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Decide, then act — kubelet's computePodActions → SyncPod
// (pkg/kubelet/kuberuntime/kuberuntime_manager.go). computePodActions is a
// pure function from the pod's spec and what was observed of it to the
// next things to do; the pod path (createPod) carries them out and asks
// again, until nothing is left. The node agent (agent_linux.go) calls the
// same pair whenever a container of the pod exits or a back-off ends.

// ContainerPhase is what podsim observed of one container.
type ContainerPhase int

const (
	// ContainerAbsent: never created (or removed).
	ContainerAbsent ContainerPhase = iota
	// ContainerRunning: created or running, not exited yet.
	ContainerRunning
	// ContainerExited: its process exited; ExitCode says how.
	ContainerExited
)

// ObservedContainer is one container's observed state: what containerd
// says of its current attempt, and what the pod record keeps of its
// restarts (the back-off, kubelet's per-container flowcontrol.Backoff).
type ObservedContainer struct {
	Phase      ContainerPhase
	ExitCode   int
	FinishedAt time.Time // when it exited (Phase ContainerExited)
	// Backoff is the container's current back-off period (0: none yet)
	// and LastRestart when it last grew: kubelet's Backoff entry.
	Backoff     time.Duration
	LastRestart time.Time
	// Started is kubelet's ContainerStatus.Started: the container's
	// startupProbe succeeded, or it is running and has none. A native
	// sidecar (init container with restartPolicy Always) lets the next init
	// container start only once it is Started.
	Started bool
	// Ready is the readiness probe's last result (true for a running
	// container without one): the pod's ContainersReady/Ready conditions.
	Ready bool
}

// ObservedPod is what podsim saw of a pod: whether its sandbox (the pause
// holding the namespaces) is up, and each init or app container by name.
// Now and Policy are the clock and the node's back-off settings, passed in
// so that the decision stays a pure function.
type ObservedPod struct {
	SandboxReady bool
	Containers   map[string]ObservedContainer
	Now          time.Time
	Policy       BackoffPolicy
	// StartTime is when the node took the pod (its status.startTime):
	// activeDeadlineSeconds counts from it. Terminal is set once the pod
	// failed for good (DeadlineExceeded): nothing is started again.
	StartTime time.Time
	Terminal  bool
	// EmptyDirOver is kubelet's eviction message when a disk emptyDir of
	// the pod holds more than its sizeLimit ("" when none does). Only a
	// pod with a running container is evicted: kubelet's eviction manager
	// looks at active pods, and a finished pod keeps its phase.
	EmptyDirOver string
}

// BackoffPolicy is kubelet's crash-loop back-off: the first restart is at
// once, then each waits Base, doubling up to Max; a container that ran
// longer than Reset since its last restart starts again from Base.
type BackoffPolicy struct {
	Base, Max, Reset time.Duration
}

// DefaultBackoff is kubelet's: 10 s doubling to 5 min, forgotten after 10 min.
var DefaultBackoff = BackoffPolicy{Base: 10 * time.Second, Max: 5 * time.Minute, Reset: 10 * time.Minute}

// ScaledBackoff is the default with another base (PODSIM_BACKOFF_BASE, for
// tests): Max and Reset keep kubelet's ratios to it (30x and 60x).
func ScaledBackoff(base time.Duration) BackoffPolicy {
	if base <= 0 {
		return DefaultBackoff
	}
	return BackoffPolicy{Base: base, Max: 30 * base, Reset: 60 * base}
}

// expired reports whether a back-off entry is forgotten: the container
// last restarted more than Reset before it exited (it ran long enough).
func (p BackoffPolicy) expired(c ObservedContainer) bool {
	return c.Backoff == 0 || c.FinishedAt.Sub(c.LastRestart) > p.Reset
}

// Next is the back-off period after a restart now: Base for a new or
// forgotten entry, else double the last one, at most Max.
func (p BackoffPolicy) Next(c ObservedContainer) time.Duration {
	if p.expired(c) {
		return p.Base
	}
	return min(2*c.Backoff, p.Max)
}

// until is when an exited container may restart: kubelet's
// IsInBackOffSince — at once for a new entry, else Backoff after its exit.
func (p BackoffPolicy) until(c ObservedContainer) time.Time {
	if p.expired(c) {
		return time.Time{}
	}
	return c.FinishedAt.Add(c.Backoff)
}

// shouldRestart is kubelet's ShouldContainerBeRestarted for an exited app
// container: Always restarts it, OnFailure only after a non-zero exit,
// Never not at all. An empty policy is the API's default, Always.
func shouldRestart(pod *corev1.Pod, c ObservedContainer) bool {
	switch pod.Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return c.ExitCode != 0
	}
	return true
}

// RestartsContainers reports whether the node agent must keep the pod
// after it is built: its policy can restart a container (Always or
// OnFailure), it has native sidecars (restarted while the pod runs, stopped
// when its app containers are done) or an activeDeadlineSeconds to enforce.
func RestartsContainers(pod *corev1.Pod) bool {
	return (pod.Spec.RestartPolicy != corev1.RestartPolicyNever && len(pod.Spec.Containers) > 0) ||
		HasSidecars(pod) || pod.Spec.ActiveDeadlineSeconds != nil
}

// PodActions are the steps the next round of syncPod takes, in its order.
type PodActions struct {
	// CreateSandbox: RunPodSandbox (cgroup, netns, CNI, pause) first.
	CreateSandbox bool
	// KillPod names why every container of the pod is to be stopped for
	// good (DeadlineExceeded: activeDeadlineSeconds passed), kubelet's
	// killPodWithSyncResult; nothing else is done then.
	KillPod string
	// KillMessage is the pod's status message for KillPod (an eviction's
	// names the volume and its limit).
	KillMessage string
	// NextInit is the index of the init container to start next (-1:
	// none). Regular init containers run one at a time, in order, each to
	// exit 0; a native sidecar (restartPolicy Always) is started and the
	// next one follows once it is Started.
	NextInit int
	// InitFailed names a regular init container that exited non-zero under
	// restartPolicy Never: the pod fails (Init:Error, phase Failed).
	InitFailed string
	// RestartInit lists init containers (indices into spec.initContainers)
	// to start again now: a failed regular one (restartPolicy OnFailure or
	// Always) or an exited sidecar; BackingOffInit those still waiting out
	// their back-off (Init:CrashLoopBackOff).
	RestartInit    []int
	BackingOffInit []int
	// Start lists app containers (indices into spec.containers) to create
	// and start, in spec order.
	Start []int
	// Restart lists exited app containers (indices) whose policy restarts
	// them and whose back-off is over: each gets a new container (a new
	// attempt) in the same sandbox, and the exited one is removed.
	Restart []int
	// BackingOff lists exited app containers waiting out their back-off
	// (CrashLoopBackOff).
	BackingOff []int
	// StopSidecars lists running sidecars (indices into
	// spec.initContainers) to stop because every app container is done for
	// good: a Job-like pod completes, its sidecars go, last started first.
	StopSidecars []int
	// WakeAt is when the agent syncs the pod again without an exit: the
	// earliest end of a back-off, or the pod's active deadline.
	WakeAt time.Time
}

// Done reports whether there is nothing left to do.
func (a PodActions) Done() bool {
	return !a.CreateSandbox && a.KillPod == "" && a.NextInit < 0 && a.InitFailed == "" &&
		len(a.RestartInit)+len(a.Start)+len(a.Restart)+len(a.StopSidecars) == 0
}

// wake moves WakeAt to t if t is earlier (or WakeAt unset).
func (a *PodActions) wake(t time.Time) {
	if a.WakeAt.IsZero() || t.Before(a.WakeAt) {
		a.WakeAt = t
	}
}

// ComputePodActions decides what to do next for a pod. Like kubelet:
// without a sandbox, make one and start the first init container (or
// every app container when there is none). A pod past its
// activeDeadlineSeconds is killed, and one whose disk emptyDir grew past
// its sizeLimit is evicted. With a sandbox, the init containers in
// order (computeInitActions); once they are through, each app container
// not created yet, and each exited app container its restartPolicy
// restarts — at once if its back-off is over, else it waits (BackingOff,
// until WakeAt). When every app container is done for good, the running
// sidecars are stopped.
func ComputePodActions(pod *corev1.Pod, obs ObservedPod) PodActions {
	a := PodActions{NextInit: -1, CreateSandbox: !obs.SandboxReady}
	if obs.Terminal {
		return PodActions{NextInit: -1} // failed for good: nothing restarts
	}
	if !a.CreateSandbox && obs.EmptyDirOver != "" && obs.anyRunning() {
		// kubelet's eviction manager: a disk emptyDir past its sizeLimit
		// evicts the pod (localStorageEviction), for good.
		return PodActions{NextInit: -1, KillPod: ReasonEvicted, KillMessage: obs.EmptyDirOver}
	}
	if !a.CreateSandbox && len(diskEmptyDirLimits(pod)) > 0 && obs.anyRunning() {
		a.wake(obs.Now.Add(EvictionMonitoringPeriod)) // measured again then
	}
	if d, ok := ActiveDeadline(pod, obs.StartTime); ok && !a.CreateSandbox {
		if !obs.Now.Before(d) {
			return PodActions{NextInit: -1, KillPod: ReasonDeadlineExceeded, KillMessage: deadlineMessage}
		}
		a.wake(d)
	}
	if a.CreateSandbox {
		obs.Containers = nil // a new sandbox starts every container afresh
	}
	if !computeInitActions(pod, obs, &a) {
		return a
	}
	for i, c := range pod.Spec.Containers {
		st := obs.Containers[c.Name]
		switch {
		case st.Phase == ContainerAbsent:
			a.Start = append(a.Start, i)
		case st.Phase != ContainerExited || !shouldRestart(pod, st):
		case obs.Now.Before(obs.Policy.until(st)):
			a.BackingOff = append(a.BackingOff, i)
			a.wake(obs.Policy.until(st))
		default:
			a.Restart = append(a.Restart, i)
		}
	}
	return a
}

// computeInitActions is kubelet's computeInitContainerActions: it walks the
// init containers in order and reports whether the app containers may be
// started (every regular init container succeeded, every sidecar before
// them Started). Regular init containers run to completion one at a
// time; a failed one is restarted with back-off unless the pod's policy is
// Never. Sidecars keep running: one that exits is restarted with back-off
// whatever the policy, and once the app containers are done for good the
// running ones are stopped, in reverse order. Until the pod is initialized
// (kubelet's isPreviouslyInitialized: an app container was created), a
// sidecar that is not Started — its startupProbe has not passed, or it
// exited and is restarted — holds up every container after it; once
// initialized, the app containers go on regardless.
func computeInitActions(pod *corev1.Pod, obs ObservedPod, a *PodActions) bool {
	done, initialized := appsDone(pod, obs), appsCreated(pod, obs)
	for i, c := range pod.Spec.InitContainers {
		st := obs.Containers[c.Name]
		sidecar := IsSidecar(&c)
		switch {
		case st.Phase == ContainerAbsent:
			a.NextInit = i
			return false
		case st.Phase == ContainerRunning && sidecar && done:
			a.StopSidecars = append([]int{i}, a.StopSidecars...) // last started, first stopped
		case st.Phase == ContainerRunning && sidecar:
			if !initialized && !sidecarStarted(&c, st) {
				return false // the next one waits for its startupProbe
			}
		case st.Phase == ContainerRunning:
			return false // wait for it: the next one starts when it exits 0
		case sidecar && done: // stopped with the pod: stays so
		case sidecar:
			a.restartInit(i, st, obs)
			if !initialized {
				return false // the next one waits for it to be Started again
			}
		case st.ExitCode == 0:
		case pod.Spec.RestartPolicy == corev1.RestartPolicyNever:
			a.InitFailed = c.Name
			return false
		default:
			a.restartInit(i, st, obs)
			return false
		}
	}
	return true
}

// restartInit restarts init container i now, or waits out its back-off.
func (a *PodActions) restartInit(i int, st ObservedContainer, obs ObservedPod) {
	if u := obs.Policy.until(st); obs.Now.Before(u) {
		a.BackingOffInit = append(a.BackingOffInit, i)
		a.wake(u)
		return
	}
	a.RestartInit = append(a.RestartInit, i)
}

// sidecarStarted is kubelet's Started for a native sidecar: its
// startupProbe passed (the prober sets Started), or it runs and has none.
func sidecarStarted(c *corev1.Container, st ObservedContainer) bool {
	return st.Started || (c.StartupProbe == nil && st.Phase == ContainerRunning)
}

// appsCreated reports whether an app container was created (the pod has
// been initialized once).
func appsCreated(pod *corev1.Pod, obs ObservedPod) bool {
	for _, c := range pod.Spec.Containers {
		if obs.Containers[c.Name].Phase != ContainerAbsent {
			return true
		}
	}
	return false
}

// appsDone reports whether every app container has exited and none will
// be restarted by the pod's policy (Never, or OnFailure after exit 0): the
// pod is complete, whatever its sidecars do.
func appsDone(pod *corev1.Pod, obs ObservedPod) bool {
	for _, c := range pod.Spec.Containers {
		st := obs.Containers[c.Name]
		if st.Phase != ContainerExited || shouldRestart(pod, st) {
			return false
		}
	}
	return len(pod.Spec.Containers) > 0
}

// anyRunning reports whether some container of the pod is running.
func (o ObservedPod) anyRunning() bool {
	for _, c := range o.Containers {
		if c.Phase == ContainerRunning {
			return true
		}
	}
	return false
}
