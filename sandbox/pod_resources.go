package sandbox

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/component-helpers/resource"

	"github.com/podsim/podsim/cgroups"
)

// PodLimits is kubelet's ResourceConfigForPod (pkg/kubelet/cm/helpers_linux.go)
// for the pod cgroup, computed with the same library kubelet uses
// (k8s.io/component-helpers/resource):
//
//   - requests and limits are each the larger of the app containers' sum
//     (plus every native sidecar, an init container with restartPolicy
//     Always) and the largest regular init container plus the sidecars
//     started before it: the most the pod ever runs at once;
//   - spec.overhead (what admission copies from the RuntimeClass) is added
//     to the requests, and to each limit that is set;
//   - a memory limit or CPU quota is written only when every container,
//     init containers included, declares that limit (one without a limit
//     could use the whole node, so the pod is unbounded too); Guaranteed
//     pods always declare both;
//   - cpu.shares is MilliCPUToShares of the requests, except BestEffort
//     pods, which get MinShares.
func PodLimits(pod *corev1.Pod) cgroups.Limits {
	pod = withDefaultRequests(pod)
	reqs := resource.PodRequests(pod, resource.PodResourcesOptions{SkipPodLevelResources: true})
	limits := resource.PodLimits(pod, resource.PodResourcesOptions{SkipPodLevelResources: true})
	memDeclared, cpuDeclared := limitsDeclared(pod)
	qos := QOSClass(&pod.Spec)
	if qos == QOSBestEffort {
		return cgroups.Limits{CPUShares: cgroups.MinShares}
	}
	l := cgroups.Limits{CPUShares: cgroups.MilliCPUToShares(reqs.Cpu().MilliValue())}
	if qos == QOSGuaranteed || memDeclared {
		l.MemoryBytes = limits.Memory().Value()
	}
	if qos == QOSGuaranteed || cpuDeclared {
		l.CPUMilli = limits.Cpu().MilliValue()
	}
	return l
}

// limitsDeclared is kubelet's memoryLimitsDeclared / cpuLimitsDeclared:
// whether every container, app and init alike, has a non-zero limit.
func limitsDeclared(pod *corev1.Pod) (memory, cpu bool) {
	memory, cpu = true, true
	for _, c := range specContainers(pod) {
		if c.Resources.Limits.Memory().IsZero() {
			memory = false
		}
		if c.Resources.Limits.Cpu().IsZero() {
			cpu = false
		}
	}
	return memory, cpu
}

// withDefaultRequests is the API server's defaulting of requests that
// kubelet sees and podsim does not run: a container with a limit but no
// request for cpu or memory requests its limit. Returns a copy.
func withDefaultRequests(pod *corev1.Pod) *corev1.Pod {
	pod = pod.DeepCopy()
	def := func(cs []corev1.Container) {
		for i := range cs {
			r := &cs[i].Resources
			for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				lim, hasLim := r.Limits[name]
				if _, hasReq := r.Requests[name]; hasLim && !hasReq {
					if r.Requests == nil {
						r.Requests = corev1.ResourceList{}
					}
					r.Requests[name] = lim.DeepCopy()
				}
			}
		}
	}
	def(pod.Spec.InitContainers)
	def(pod.Spec.Containers)
	return pod
}
