// Package cgroups owns podsim's part of the cgroup tree: one cgroup per pod
// under a "podsim" parent, with one child per container, the nesting kubelet
// uses (kubepods/pod<uid>/<container-id>). The v1/v2 difference stays inside
// this package: callers only see cgroup paths such as "/podsim/pod1234/abcd",
// which runc accepts as CgroupsPath on both versions.
package cgroups

import (
	"errors"
	"path"
	"strings"
)

// Parent is the cgroup under which every podsim pod lives.
const Parent = "/podsim"

// ErrNotLinux is returned on platforms without cgroups.
var ErrNotLinux = errors.New("podsim needs Linux: cgroups are a Linux kernel feature")

// PodPath is the cgroup path of a pod, like kubelet's "pod<uid>" directories.
func PodPath(podUID string) string {
	return path.Join(Parent, "pod"+strings.ReplaceAll(podUID, "-", "_"))
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
