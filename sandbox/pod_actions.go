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

// RestartsContainers reports whether the pod's policy can restart an app
// container (Always or OnFailure): such a pod needs the node agent.
func RestartsContainers(pod *corev1.Pod) bool {
	return pod.Spec.RestartPolicy != corev1.RestartPolicyNever && len(pod.Spec.Containers) > 0
}

// PodActions are the steps the next round of syncPod takes, in its order.
type PodActions struct {
	// CreateSandbox: RunPodSandbox (cgroup, netns, CNI, pause) first.
	CreateSandbox bool
	// NextInit is the index of the init container to start next (-1: none).
	// Init containers run one at a time, in order, each to exit 0.
	NextInit int
	// InitFailed names an init container that exited non-zero. kubelet
	// would restart it (restartPolicy OnFailure/Always) or fail the pod
	// (Never); podsim has no agent to restart it, so the pod stays
	// Init:Error.
	InitFailed string
	// Start lists app containers (indices into spec.containers) to create
	// and start, in spec order.
	Start []int
	// Restart lists exited app containers (indices) whose policy restarts
	// them and whose back-off is over: each gets a new container (a new
	// attempt) in the same sandbox, and the exited one is removed.
	Restart []int
	// BackingOff lists exited app containers waiting out their back-off
	// (CrashLoopBackOff); WakeAt is the earliest end of those waits, when
	// the agent syncs the pod again.
	BackingOff []int
	WakeAt     time.Time
}

// Done reports whether there is nothing left to do.
func (a PodActions) Done() bool {
	return !a.CreateSandbox && a.NextInit < 0 && a.InitFailed == "" && len(a.Start) == 0 && len(a.Restart) == 0
}

// ComputePodActions decides what to do next for a pod. Like kubelet:
// without a sandbox, make one and start the first init container (or
// every app container when there is none); with one, the next init
// container that has not succeeded, waiting while one runs; once every init
// container succeeded, each app container not created yet, and each exited
// app container its restartPolicy restarts — at once if its back-off is
// over, else it waits (BackingOff, until WakeAt). A failed init container
// is not restarted (the pod stays Init:Error).
func ComputePodActions(pod *corev1.Pod, obs ObservedPod) PodActions {
	a := PodActions{NextInit: -1, CreateSandbox: !obs.SandboxReady}
	for i, c := range pod.Spec.InitContainers {
		st := obs.Containers[c.Name]
		if a.CreateSandbox {
			st = ObservedContainer{} // a new sandbox starts every container afresh
		}
		switch {
		case st.Phase == ContainerAbsent:
			a.NextInit = i
			return a
		case st.Phase == ContainerRunning:
			return a // wait for it: the next one starts when it exits 0
		case st.ExitCode != 0:
			a.InitFailed = c.Name
			return a
		}
	}
	for i, c := range pod.Spec.Containers {
		st := obs.Containers[c.Name]
		switch {
		case a.CreateSandbox || st.Phase == ContainerAbsent:
			a.Start = append(a.Start, i)
		case st.Phase != ContainerExited || !shouldRestart(pod, st):
		case obs.Now.Before(obs.Policy.until(st)):
			a.BackingOff = append(a.BackingOff, i)
			if u := obs.Policy.until(st); a.WakeAt.IsZero() || u.Before(a.WakeAt) {
				a.WakeAt = u
			}
		default:
			a.Restart = append(a.Restart, i)
		}
	}
	return a
}
