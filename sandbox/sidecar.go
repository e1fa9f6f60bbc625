package sandbox

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Native sidecars (KEP-753, on by default since Kubernetes 1.29): an init
// container with restartPolicy Always. kubelet starts it in init order and
// goes on to the next init container as soon as it has Started, instead of
// waiting for it to exit; it keeps running beside the app containers, is
// restarted whenever it exits while the pod runs, does not hold up the
// pod's completion, and is stopped after the app containers, in reverse
// order. The decision is computeInitActions (pod_actions.go).

// restartPolicyName is the pod's restartPolicy, with the API's default.
func restartPolicyName(pod *corev1.Pod) corev1.RestartPolicy {
	if pod.Spec.RestartPolicy == "" {
		return corev1.RestartPolicyAlways
	}
	return pod.Spec.RestartPolicy
}

// IsSidecar reports whether an init container is a native sidecar.
func IsSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// HasSidecars reports whether the pod has a native sidecar.
func HasSidecars(pod *corev1.Pod) bool {
	for i := range pod.Spec.InitContainers {
		if IsSidecar(&pod.Spec.InitContainers[i]) {
			return true
		}
	}
	return false
}

// ReasonDeadlineExceeded is the pod's status reason (and event) when
// kubelet kills it for running past activeDeadlineSeconds.
const ReasonDeadlineExceeded = "DeadlineExceeded"

// deadlineMessage is kubelet's status message for DeadlineExceeded.
const deadlineMessage = "Pod was active on the node longer than the specified deadline"

// ActiveDeadline is when a pod with activeDeadlineSeconds must be stopped:
// that many seconds after its start (kubelet's pastActiveDeadline, counted
// from status.startTime). false when it has none or has not started.
func ActiveDeadline(pod *corev1.Pod, start time.Time) (time.Time, bool) {
	if pod.Spec.ActiveDeadlineSeconds == nil || start.IsZero() {
		return time.Time{}, false
	}
	return start.Add(time.Duration(*pod.Spec.ActiveDeadlineSeconds) * time.Second), true
}

// specContainer finds a container of the pod's spec (init or app) by name.
func specContainer(pod *corev1.Pod, name string) *corev1.Container {
	for _, l := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range l {
			if l[i].Name == name {
				return &l[i]
			}
		}
	}
	return nil
}
