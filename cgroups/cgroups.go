// Package cgroups owns podsim's part of the cgroup tree, laid out as
// kubelet's cgroupfs driver lays out kubepods: a "podsim" parent, a QoS tier
// for BestEffort and one for Burstable pods (Guaranteed pods sit directly
// under the parent), one cgroup per pod and one child per container —
// /podsim/besteffort/pod<uid>/<container>. The v1/v2 difference stays
// inside this package: callers only see cgroup paths, which runc accepts as
// CgroupsPath on both versions.
package cgroups

import (
	"errors"
	"path"
	"strings"
)

// Parent is the cgroup under which every podsim pod lives (kubelet's kubepods).
const Parent = "/podsim"

// The QoS tiers under Parent, named as kubelet names them.
const (
	BestEffortTier = "besteffort"
	BurstableTier  = "burstable"
)

// Tiers are the QoS tier cgroups, as paths.
var Tiers = []string{path.Join(Parent, BestEffortTier), path.Join(Parent, BurstableTier)}

// ErrNotLinux is returned on platforms without cgroups.
var ErrNotLinux = errors.New("podsim needs Linux: cgroups are a Linux kernel feature")

// PodPath is the cgroup path of a pod, like kubelet's "pod<uid>" directories,
// in the tier of its QoS class ("BestEffort", "Burstable", "Guaranteed"):
// /podsim/besteffort/pod<uid>, /podsim/burstable/pod<uid>, /podsim/pod<uid>.
func PodPath(podUID, qos string) string {
	return path.Join(TierPath(Parent, qos), "pod"+strings.ReplaceAll(podUID, "-", "_"))
}

// TierPath is the cgroup a pod of the QoS class goes in under root, as in
// kubelet's cgroupfs layout: root/besteffort, root/burstable, or root itself
// for Guaranteed pods.
func TierPath(root, qos string) string {
	switch qos {
	case "BestEffort":
		return path.Join(root, BestEffortTier)
	case "Burstable":
		return path.Join(root, BurstableTier)
	}
	return root
}

// ContainerPath is the cgroup of one container: a child of its pod's cgroup.
func ContainerPath(podPath, containerID string) string {
	return path.Join(podPath, containerID)
}

// Limits are the pod-level limits kubelet writes on the pod cgroup: the sum
// of its containers' limits, when every container has one.
type Limits struct {
	MemoryBytes int64 // 0 = unlimited
	CPUMilli    int64 // 0 = unlimited
	// CPUShares is kubelet's ResourceConfigForPod weight: MilliCPUToShares
	// of the pod's CPU requests (MinShares for BestEffort). 0 = MinShares.
	CPUShares uint64
}

// CPU arithmetic kubelet uses for every cgroup it writes (pkg/kubelet/cm's
// MilliCPUToShares and MilliCPUToQuota). One home for both, so the pod
// cgroup, the container specs and the benchmark's CRI requests agree.
const (
	// MinShares is what a cgroup without a CPU request gets (cm.MinShares):
	// next to nothing when the CPU is contended.
	MinShares = 2
	// QuotaPeriod is the CFS period kubelet uses: 100 ms.
	QuotaPeriod = 100000
	// minQuota is the kernel's smallest CFS quota (1 ms).
	minQuota = 1000
)

// MilliCPUToShares turns a CPU request in millicores into cpu.shares
// (1 CPU = 1024); no request or a tiny one gives MinShares.
func MilliCPUToShares(milli int64) uint64 {
	s := uint64(milli * 1024 / 1000)
	if milli <= 0 || s < MinShares {
		return MinShares
	}
	return s
}

// MilliCPUToQuota turns a CPU limit in millicores into a CFS quota over
// QuotaPeriod (cpu.cfs_quota_us / cpu.max); 0 means no limit.
func MilliCPUToQuota(milli int64) int64 {
	if milli <= 0 {
		return 0
	}
	return max(milli*QuotaPeriod/1000, minQuota)
}

// SharesToWeight is kubelet's (and runc's) CpuSharesToCPUWeight: cgroup v1
// cpu.shares [2, 262144] onto cgroup v2 cpu.weight [1, 10000].
func SharesToWeight(shares uint64) uint64 {
	if shares < MinShares {
		shares = MinShares
	}
	return 1 + ((shares-2)*9999)/262142
}
