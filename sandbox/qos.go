package sandbox

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/sandbox/runtime"
)

// QoS classes, as kubelet derives them from a pod's requests and limits
// (pkg/apis/core/v1/helper/qos.GetPodQOS). They decide the oom_score_adj
// kubelet asks for and the cpu.shares of containers without a request.
const (
	QOSGuaranteed = "Guaranteed"
	QOSBurstable  = "Burstable"
	QOSBestEffort = "BestEffort"
)

// SandboxOOMScoreAdj is what kubelet asks for the pause container
// (qos.PodInfraOOMAdj): the last process the kernel's OOM killer picks.
const SandboxOOMScoreAdj = -998

// QOSClass is kubelet's GetPodQOS for the pod's init and app containers:
// BestEffort when nothing sets a CPU or memory request or limit, Guaranteed
// when every container limits both and requests (if set) equal the limits,
// Burstable otherwise.
func QOSClass(spec *corev1.PodSpec) string {
	any := false
	guaranteed := true
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			if (hasReq && !req.IsZero()) || (hasLim && !lim.IsZero()) {
				any = true
			}
			if !hasLim || lim.IsZero() {
				guaranteed = false
				continue
			}
			if hasReq && req.Cmp(lim) != 0 {
				guaranteed = false
			}
		}
	}
	switch {
	case !any:
		return QOSBestEffort
	case guaranteed:
		return QOSGuaranteed
	}
	return QOSBurstable
}

// ContainerOOMScoreAdj is kubelet's qos.GetContainerOOMScoreAdjust:
// BestEffort 1000 (killed first), Guaranteed -997, Burstable
// 1000 - 1000*memoryRequest/capacity kept within [3, 999], so a container
// that asked for more memory is a less likely victim.
func ContainerOOMScoreAdj(qos string, c *corev1.Container, capacity int64) int64 {
	switch qos {
	case QOSBestEffort:
		return 1000
	case QOSGuaranteed:
		return -997
	}
	if capacity <= 0 {
		return 999
	}
	var memReq int64
	if q, ok := c.Resources.Requests[corev1.ResourceMemory]; ok {
		memReq = q.Value()
	} else if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		memReq = q.Value()
	}
	adj := 1000 - (1000*memReq)/capacity
	// Above any Guaranteed container (1000 + -997 = 3), below BestEffort.
	if adj < 3 {
		adj = 3
	}
	if adj >= 1000 {
		adj = 999
	}
	return adj
}

// RestrictOOMScoreAdj clamps a wanted oom_score_adj to floor, as containerd's
// CRI plugin does with restrict_oom_score_adj: without CAP_SYS_RESOURCE no
// process may lower its score below what its ancestors were given, so runc
// would fail to write -997 or -998. podsim clamps only on such hosts (see
// oomFloor), to the score of the process that starts the pods.
func RestrictOOMScoreAdj(want, floor int64) int64 {
	if want < floor {
		return floor
	}
	return want
}

// HostMemoryBytes is the machine's memory (MemTotal), kubelet's node
// capacity in the Burstable formula; 0 when unknown.
func HostMemoryBytes() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

// oomFloor is the lowest oom_score_adj podsim asks for: none (-1000) where
// the process holds CAP_SYS_RESOURCE and runc may write kubelet's values as
// they are; podsim's own score where it does not (containers, pauses and
// shims descend from processes no lower than that).
func oomFloor() int64 {
	h, err := runtime.ReadHostLimits()
	switch {
	case err != nil:
		return 0
	case h.CapSysResource:
		return -1000
	}
	return int64(h.OOMScoreAdj)
}
