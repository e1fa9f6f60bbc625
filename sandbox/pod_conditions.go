package sandbox

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProbedContainer is the prober's verdict on one attempt of a container
// (ID is the containerd container of that attempt: a new attempt starts
// again from not started, not ready).
type ProbedContainer struct {
	ID      string `json:"id"`
	Started bool   `json:"started"`
	Ready   bool   `json:"ready"`
}

// ProbeStatus is what the node agent keeps beside the pod record
// (<state>/pods/<id>/probes.json): the probe results of each container by
// name, and the pod's conditions with the time each last changed (the
// status manager's job in kubelet). Only the agent writes it.
type ProbeStatus struct {
	Containers map[string]ProbedContainer `json:"containers,omitempty"`
	Conditions []corev1.PodCondition      `json:"conditions,omitempty"`
}

// containerVerdict is kubelet's status of a running container: Started
// once its startup probe succeeded (at once without one), Ready once
// started and its readiness probe succeeded (at once without one).
func containerVerdict(c *corev1.Container, cs ContainerState, pr ProbedContainer) (started, ready bool) {
	if cs.Status != "running" {
		return false, false
	}
	known := pr.ID == cs.ID
	started = c.StartupProbe == nil || (known && pr.Started)
	ready = started && (c.ReadinessProbe == nil || (known && pr.Ready))
	return started, ready
}

// podConditions are kubelet's PodScheduled, Initialized, ContainersReady
// and Ready (no readiness gates: Ready is ContainersReady) for a pod whose
// containers' Ready/HasStarted are filled. A condition whose status is the
// one in prev keeps prev's lastTransitionTime; one that changed gets now.
func podConditions(ps *PodState, prev []corev1.PodCondition, now time.Time) []corev1.PodCondition {
	var uninit, unready []string
	for i, c := range ps.Init {
		sidecar := i < len(ps.Pod.Spec.InitContainers) && isSidecar(&ps.Pod.Spec.InitContainers[i])
		switch {
		case sidecar && !c.HasStarted:
			uninit = append(uninit, c.Name)
		case sidecar && !c.Ready:
			unready = append(unready, c.Name)
		case !sidecar && !(c.Status == "exited" && c.ExitCode == 0):
			uninit = append(uninit, c.Name)
		}
	}
	for _, c := range ps.Containers {
		if !c.Ready {
			unready = append(unready, c.Name)
		}
	}
	unready = append(append([]string{}, uninit...), unready...)
	mk := func(t corev1.PodConditionType, ok bool, reason, list string) corev1.PodCondition {
		c := corev1.PodCondition{Type: t, Status: corev1.ConditionTrue}
		if !ok {
			c.Status, c.Reason, c.Message = corev1.ConditionFalse, reason, list
		}
		c.LastTransitionTime = metav1.NewTime(now.UTC().Truncate(time.Second))
		for _, p := range prev {
			if p.Type == t && p.Status == c.Status {
				c.LastTransitionTime = p.LastTransitionTime
			}
		}
		return c
	}
	ready := len(unready) == 0 && ps.Pause.Status == "running" // no sandbox, no ready pod
	notReady := fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
	conds := []corev1.PodCondition{
		mk(corev1.PodScheduled, true, "", ""),
		mk(corev1.PodInitialized, len(uninit) == 0, "ContainersNotInitialized",
			fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(uninit, " "))),
		mk(corev1.ContainersReady, ready, "ContainersNotReady", notReady),
		mk(corev1.PodReady, ready, "ContainersNotReady", notReady),
	}
	return conds
}

// isSidecar reports whether an init container is a native sidecar.
func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// sameConditions reports whether two condition lists agree on every
// status (what the hosts files and the READY column depend on).
func sameConditions(a, b []corev1.PodCondition) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Status != b[i].Status {
			return false
		}
	}
	return true
}

// conditionTrue reports whether condition t is True in conds.
func conditionTrue(conds []corev1.PodCondition, t corev1.PodConditionType) bool {
	for _, c := range conds {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
