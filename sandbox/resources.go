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
