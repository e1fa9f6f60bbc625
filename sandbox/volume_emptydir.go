package sandbox

import (
	corev1 "k8s.io/api/core/v1"
)

// emptyDirMemorySize is the size of a Memory emptyDir's tmpfs as kubelet
// computes it (emptydir's calculateEmptyDirMemorySize): the node's
// allocatable memory, or the pod's memory limit (its cgroup's, PodLimits)
// when it is smaller, or the volume's sizeLimit when that is smaller
// still. Pages of a tmpfs are charged to the pod's memory cgroup, so a
// bigger tmpfs could never be filled anyway; without a size, the kernel
// would give it half the host's RAM.
func emptyDirMemorySize(pod *corev1.Pod, v *corev1.EmptyDirVolumeSource, nodeAllocatable int64) int64 {
	size := nodeAllocatable
	if pl := PodLimits(pod).MemoryBytes; pl > 0 && pl <= size {
		size = pl
	}
	if v.SizeLimit != nil {
		if sl := v.SizeLimit.Value(); sl > 0 && sl <= size {
			size = sl
		}
	}
	return size
}
