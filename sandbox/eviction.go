package sandbox

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// ReasonEvicted is the pod's status reason (and its event's) when kubelet's
// eviction manager evicts it; podsim evicts for one cause, a disk emptyDir
// past its sizeLimit (kubelet's localStorageEviction, emptyDirLimitEviction).
const ReasonEvicted = "Evicted"

// EvictionMonitoringPeriod is how often the agent measures the disk
// emptyDirs that have a sizeLimit: kubelet's eviction manager runs its
// synchronize loop every 10 s (evictionMonitoringPeriod); its volume
// figures come from a du-like walk it caches for up to a minute, so a node
// may take longer to notice than podsim does.
const EvictionMonitoringPeriod = 10 * time.Second

// emptyDirLimit is a disk emptyDir volume with a sizeLimit.
type emptyDirLimit struct {
	Name  string
	Limit resource.Quantity
}

// diskEmptyDirLimits lists the pod's disk emptyDirs with a positive
// sizeLimit, the volumes kubelet checks in emptyDirLimitEviction. A Memory
// emptyDir is left out: its tmpfs has that size, and the kernel refuses a
// write past it (ENOSPC) before usage could exceed it.
func diskEmptyDirLimits(pod *corev1.Pod) []emptyDirLimit {
	var out []emptyDirLimit
	for _, v := range pod.Spec.Volumes {
		e := v.EmptyDir
		if e == nil || e.Medium == corev1.StorageMediumMemory || e.SizeLimit == nil || e.SizeLimit.Sign() <= 0 {
			continue
		}
		out = append(out, emptyDirLimit{Name: v.Name, Limit: *e.SizeLimit})
	}
	return out
}

// emptyDirEvictionMessage is kubelet's status message and event text for
// the eviction (emptyDirMessageFmt, trailing space included).
func emptyDirEvictionMessage(name string, limit resource.Quantity) string {
	return fmt.Sprintf("Usage of EmptyDir volume %q exceeds the limit %q. ", name, limit.String())
}
