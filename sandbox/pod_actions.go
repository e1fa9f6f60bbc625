package sandbox

import corev1 "k8s.io/api/core/v1"

// Decide, then act — kubelet's computePodActions → SyncPod
// (pkg/kubelet/kuberuntime/kuberuntime_manager.go). computePodActions is a
// pure function from the pod's spec and what was observed of it to the
// next things to do; the pod path (createPod) carries them out and asks
// again, until nothing is left. A node agent calls the same pair in its loop.

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

// ObservedContainer is one container's observed state.
type ObservedContainer struct {
	Phase    ContainerPhase
	ExitCode int
}

// ObservedPod is what podsim saw of a pod: whether its sandbox (the pause
// holding the namespaces) is up, and each init or app container by name.
type ObservedPod struct {
	SandboxReady bool
	Containers   map[string]ObservedContainer
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
}

// Done reports whether there is nothing left to do.
func (a PodActions) Done() bool {
	return !a.CreateSandbox && a.NextInit < 0 && a.InitFailed == "" && len(a.Start) == 0
}

// ComputePodActions decides what to do next for a pod. Like kubelet:
// without a sandbox, make one and start the first init container (or
// every app container when there is none); with one, the next init
// container that has not succeeded, waiting while one runs; once every init
// container succeeded, each app container not created yet. Containers that
// exited stay exited: podsim restarts nothing (it has no node agent).
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
		if a.CreateSandbox || obs.Containers[c.Name].Phase == ContainerAbsent {
			a.Start = append(a.Start, i)
		}
	}
	return a
}
