package scenarios

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// What a cluster user sees of a pod, read the same way on every backend:
// its status as the API (or `podsim get -o yaml`) shows it and its events.

// Has reports whether the backend has capability c, without recording
// anything (a check that has a variant for each backend picks one with it).
func (t *T) Has(c Capability) bool {
	ok, _ := t.B.Has(c)
	return ok
}

// containerStatus is the status of a pod's container, init container or
// ephemeral container by name; nil when there is none yet.
func containerStatus(p *corev1.Pod, name string) *corev1.ContainerStatus {
	if p == nil {
		return nil
	}
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses, p.Status.EphemeralContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// stateWord is a container's state in one word: running, exited, or the
// reason it waits (CrashLoopBackOff, ContainerCreating), "missing" without
// a status.
func stateWord(s *corev1.ContainerStatus) string {
	switch {
	case s == nil:
		return "missing"
	case s.State.Running != nil:
		return "running"
	case s.State.Terminated != nil:
		return "exited"
	case s.State.Waiting != nil && s.State.Waiting.Reason != "":
		return s.State.Waiting.Reason
	}
	return "waiting"
}

// exitCode is a finished container's exit code (0 while it runs).
func exitCode(s *corev1.ContainerStatus) int32 {
	if s != nil && s.State.Terminated != nil {
		return s.State.Terminated.ExitCode
	}
	return 0
}

// restartCount of a container (0 without a status).
func restartCount(s *corev1.ContainerStatus) int {
	if s == nil {
		return 0
	}
	return int(s.RestartCount)
}

// appRestarts is the RESTARTS column: the restarts of the app containers.
func appRestarts(p *corev1.Pod) int {
	n := 0
	for _, s := range p.Status.ContainerStatuses {
		n += int(s.RestartCount)
	}
	return n
}

// podEvents finds an event about pod with reason whose message contains
// text, printed as `kubectl get events` would; "" when there is none.
func (t *T) podEvents(ctx context.Context, pod, reason, text string) string {
	evs, _ := t.B.Events(ctx, pod)
	for _, e := range evs {
		if e.Reason == reason && strings.Contains(e.Message, text) {
			n := e.Count
			if e.Series != nil && e.Series.Count > n {
				n = e.Series.Count
			}
			if n == 0 {
				n = 1
			}
			return fmt.Sprintf("%s %s %s: %s (x%d)", e.Type, e.Reason, e.InvolvedObject.FieldPath, strings.TrimSpace(e.Message), n)
		}
	}
	return ""
}

// eventReasons lists the reasons of the events about pod, oldest first.
func (t *T) eventReasons(ctx context.Context, pod string) []string {
	evs, _ := t.B.Events(ctx, pod)
	var out []string
	for _, e := range evs {
		out = append(out, e.Reason)
	}
	return out
}

// podReady is the pod's Ready condition and the READY column.
func (t *T) podReady(ctx context.Context, pod string) (bool, string) {
	p, err := t.Procs(ctx, pod)
	if err != nil {
		return false, err.Error()
	}
	r := 0
	for _, s := range p.Pod.Status.ContainerStatuses {
		if s.Ready {
			r++
		}
	}
	n := len(p.Pod.Spec.Containers)
	for _, c := range p.Pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue, fmt.Sprintf("READY %d/%d, condition Ready=%s", r, n, c.Status)
		}
	}
	return false, fmt.Sprintf("READY %d/%d", r, n)
}
