package sandbox

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/contrib/seccomp"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// What kubelet + containerd's CRI give every container besides what the
// manifest asks for (issue 18): the cgroup filesystem, kubelet's masked and
// read-only paths, no /run tmpfs, a confined pause, /dev/termination-log.
// One option per item, used by pauseSpecOpts and containerSpecOpts.

// KubeletMaskedPaths are the paths kubelet 1.34 asks the runtime to mask in
// every container with the Default procMount (pkg/securitycontext's
// defaultMaskedPaths, kept in sync with moby: /proc/interrupts came with
// the thermal side-channel fix, GHSA-6fw5-f8r9-fgfm). On a node kubelet
// also masks /sys/devices/system/cpu/cpu<N>/thermal_throttle for each
// possible CPU that has one: see NodeMaskedPaths. CRI passes the list to
// runc unchanged (WithMaskedPaths), replacing containerd's default.
var KubeletMaskedPaths = []string{
	"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap",
}

// KubeletReadonlyPaths are kubelet's defaultReadonlyPaths: visible, not writable.
var KubeletReadonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}

// DefaultTerminationMessagePath is where kubelet mounts a container's
// termination-message file when the pod does not say.
const DefaultTerminationMessagePath = "/dev/termination-log"

// NodeMaskedPaths is KubeletMaskedPaths plus this node's thermal_throttle
// directories, one per possible CPU that has one, as kubelet computes them.
func NodeMaskedPaths() []string {
	out := append([]string(nil), KubeletMaskedPaths...)
	for _, cpu := range possibleCPUs() {
		p := fmt.Sprintf("/sys/devices/system/cpu/cpu%d/thermal_throttle", cpu)
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// possibleCPUs parses /sys/devices/system/cpu/possible ("0-3,8").
func possibleCPUs() []int {
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		return nil
	}
	var cpus []int
	for _, r := range strings.Split(strings.TrimSpace(string(b)), ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err1 := strconv.Atoi(lo)
		z, err2 := a, error(nil)
		if isRange {
			z, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil {
			return nil
		}
		for i := a; i <= z; i++ {
			cpus = append(cpus, i)
		}
	}
	return cpus
}

// withKubeletProcPaths sets kubelet's masked and read-only paths, which
// CRI hands to runc in place of containerd's defaults. An empty list means
// the node's was not read (unit tests): KubeletMaskedPaths then.
// Privileged containers clear both later (withSecurityContext).
func withKubeletProcPaths(masked []string) oci.SpecOpts {
	if len(masked) == 0 {
		masked = KubeletMaskedPaths
	}
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if err := oci.WithMaskedPaths(append([]string(nil), masked...))(ctx, c, ctr, s); err != nil {
			return err
		}
		return oci.WithReadonlyPaths(append([]string(nil), KubeletReadonlyPaths...))(ctx, c, ctr, s)
	}
}

// withCgroupfs mounts the cgroup filesystem read-only at /sys/fs/cgroup, as
// CRI's WithMounts does for every container (not the sandbox): without it
// /sys/fs/cgroup is the empty directory of the container's sysfs, and
// nothing inside can read its own limits. runc turns the one "cgroup" mount
// into what the host has: on cgroup v1 a tmpfs with one read-only bind per
// controller of the container's own cgroup (its CgroupsPath, so
// memory/memory.limit_in_bytes is the container's limit); on v2 cgroup2 of
// the container's cgroup namespace (withCgroupNamespace), rooted at its own
// cgroup. Privileged containers get it writable (oci.WithWriteableCgroupfs).
func withCgroupfs(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
	if err := oci.WithoutMounts("/sys/fs/cgroup")(ctx, c, ctr, s); err != nil {
		return err
	}
	s.Mounts = append(s.Mounts, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup",
		Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}})
	return nil
}

// withoutRunTmpfs drops the 64M /run tmpfs of containerd's default spec,
// as CRI does for the sandbox and every container (oci.WithoutRunMount):
// /run is the image's directory, writable only if the rootfs is.
var withoutRunTmpfs = oci.WithoutRunMount

// withSandboxSeccomp confines the pause with containerd's RuntimeDefault
// seccomp profile: kubelet always asks for it for the sandbox, whatever the
// pod says (kubernetes#84623), and CRI applies containerd's DefaultProfile
// (contrib/seccomp), which depends on the capabilities set before it. The
// pause's user comes from its image (USER 65535:65535, as
// registry.k8s.io/pause), so it has no effective capabilities either.
func withSandboxSeccomp() oci.SpecOpts { return seccomp.WithDefaultProfile() }

// withTerminationLog bind-mounts the container's termination-message file
// (an empty 0666 file kubelet makes in the pod's directory) read-write at
// terminationMessagePath, as kubelet asks CRI to; no file, no mount.
func withTerminationLog(hostPath, containerPath string) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if hostPath == "" {
			return nil
		}
		if containerPath == "" {
			containerPath = DefaultTerminationMessagePath
		}
		if err := oci.WithoutMounts(containerPath)(ctx, c, ctr, s); err != nil {
			return err
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: containerPath, Type: "bind", Source: hostPath,
			Options: []string{"rbind", "rprivate", "rw"}})
		return nil
	}
}
