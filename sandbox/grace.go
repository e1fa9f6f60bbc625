package sandbox

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// GracePeriod is how long a pod's containers get between SIGTERM and
// SIGKILL when it is deleted: its terminationGracePeriodSeconds, or
// Kubernetes' default of 30s.
func GracePeriod(p *corev1.Pod) time.Duration {
	if p.Spec.TerminationGracePeriodSeconds != nil {
		return time.Duration(*p.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return 30 * time.Second
}
