package cluster

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Waiting reasons after which a pod will not come up without a change: an
// image that is not there (imagePullPolicy Never/IfNotPresent, podsim's
// images not imported), a bad reference, a config error.
var stuckReasons = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "ErrImageNeverPull": true, "InvalidImageName": true,
	"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true,
}

// podUp reports whether a pod is as far as a scenario's checks need it:
// it ran to completion, or it runs and each app container has started (a
// container that exited or crashes on purpose counts: the checks look at it).
// err says why it will not come up: an init container failed (the pod stays
// in Init:Error or Init:CrashLoopBackOff), an image is missing...
func podUp(p *corev1.Pod) (bool, error) {
	if p.Status.Phase == corev1.PodSucceeded {
		return true, nil
	}
	for _, s := range p.Status.InitContainerStatuses {
		for _, t := range []*corev1.ContainerStateTerminated{s.State.Terminated, s.LastTerminationState.Terminated} {
			if t != nil && t.ExitCode != 0 {
				return false, fmt.Errorf("pod %s: Init:Error: init container %s exited with code %d (%s)", p.Name, s.Name, t.ExitCode, t.Reason)
			}
		}
		if w := s.State.Waiting; w != nil && stuckReasons[w.Reason] {
			return false, fmt.Errorf("pod %s: init container %s: %s: %s", p.Name, s.Name, w.Reason, w.Message)
		}
	}
	if p.Status.Phase == corev1.PodPending || p.Status.Phase == "" {
		for _, s := range p.Status.ContainerStatuses {
			if w := s.State.Waiting; w != nil && stuckReasons[w.Reason] {
				return false, fmt.Errorf("pod %s: container %s: %s: %s", p.Name, s.Name, w.Reason, w.Message)
			}
		}
		return false, nil
	}
	if len(p.Status.ContainerStatuses) < len(p.Spec.Containers) {
		return false, nil
	}
	for _, s := range p.Status.ContainerStatuses {
		started := s.State.Running != nil || s.State.Terminated != nil || s.LastTerminationState.Terminated != nil
		if !started {
			if w := s.State.Waiting; w != nil && stuckReasons[w.Reason] {
				return false, fmt.Errorf("pod %s: container %s: %s: %s", p.Name, s.Name, w.Reason, w.Message)
			}
			return false, nil
		}
	}
	return true, nil
}

// describe prints a pod's status and events like the end of `kubectl
// describe pod`, for the error when it does not come up.
func describe(p *corev1.Pod, events []corev1.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pod %s: phase %s, node %q", p.Name, p.Status.Phase, p.Spec.NodeName)
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			fmt.Fprintf(&b, "; %s: %s", c.Type, c.Message)
		}
	}
	b.WriteString("\n")
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, s := range list {
			state := "waiting"
			switch {
			case s.State.Running != nil:
				state = "running"
			case s.State.Terminated != nil:
				state = fmt.Sprintf("terminated (exit %d, %s)", s.State.Terminated.ExitCode, s.State.Terminated.Reason)
			case s.State.Waiting != nil:
				state = fmt.Sprintf("waiting (%s) %s", s.State.Waiting.Reason, s.State.Waiting.Message)
			}
			fmt.Fprintf(&b, "  container %s: %s, ready %v, restarts %d\n", s.Name, state, s.Ready, s.RestartCount)
		}
	}
	if len(events) > 0 {
		b.WriteString("  events:\n")
		if len(events) > 10 {
			events = events[len(events)-10:]
		}
		for _, e := range events {
			fmt.Fprintf(&b, "    %-8s %-20s %s\n", e.Type, e.Reason, strings.TrimSpace(e.Message))
		}
	}
	return b.String()
}
