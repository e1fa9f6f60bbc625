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
