package sandbox

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/cgroups"
)

// ContainerCPU is what kubelet turns a container's CPU request and limit
// into: cpu.shares from the request (a limit alone implies the same
// request; none gives cgroups.MinShares) and a CFS quota over cgroups.QuotaPeriod
// from the limit (0: unlimited). The sandbox's container specs and the
// benchmark's CRI requests both use it.
func ContainerCPU(r corev1.ResourceRequirements) (shares uint64, quota int64) {
	req, ok := r.Requests[corev1.ResourceCPU]
	if !ok {
		req, ok = r.Limits[corev1.ResourceCPU]
	}
	var milli int64
	if ok {
		milli = req.MilliValue()
	}
	if q, ok := r.Limits[corev1.ResourceCPU]; ok {
		quota = cgroups.MilliCPUToQuota(q.MilliValue())
	}
	return cgroups.MilliCPUToShares(milli), quota
}

// ContainerMemory is a container's memory limit in bytes (0: unlimited).
func ContainerMemory(r corev1.ResourceRequirements) int64 {
	if q, ok := r.Limits[corev1.ResourceMemory]; ok && q.Value() > 0 {
		return q.Value()
	}
	return 0
}

// PodLimits sums container limits for the pod cgroup, as kubelet does, only
// when every app container has the limit (otherwise the pod is unbounded),
// and weighs it by its CPU requests (kubelet's ResourceConfigForPod).
func PodLimits(pod *corev1.Pod) cgroups.Limits {
	l := cgroups.Limits{CPUShares: cgroups.MilliCPUToShares(podCPURequest(pod))}
	memAll, cpuAll := true, true
	for _, c := range pod.Spec.Containers {
		if v := ContainerMemory(c.Resources); v > 0 {
			l.MemoryBytes += v
		} else {
			memAll = false
		}
		if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok && q.MilliValue() > 0 {
			l.CPUMilli += q.MilliValue()
		} else {
			cpuAll = false
		}
	}
	if !memAll {
		l.MemoryBytes = 0
	}
	if !cpuAll {
		l.CPUMilli = 0
	}
	return l
}

// podCPURequest is kubelet's PodRequests for CPU, in millicores: the app
// containers' requests summed, or the largest init container's if more (a
// limit alone stands for the request, as API defaulting makes it); 0 when
// no container asks (BestEffort: MinShares).
func podCPURequest(pod *corev1.Pod) int64 {
	milli := func(c corev1.Container) int64 {
		if q, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
			return q.MilliValue()
		}
		if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
			return q.MilliValue()
		}
		return 0
	}
	var sum, initMax int64
	for _, c := range pod.Spec.Containers {
		sum += milli(c)
	}
	for _, c := range pod.Spec.InitContainers {
		initMax = max(initMax, milli(c))
	}
	return max(sum, initMax)
}
