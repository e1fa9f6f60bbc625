package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ContainerID is the containerd ID of a pod's container (its first attempt).
func ContainerID(sandboxID, name string) string { return sandboxID + "-" + name }

// ContainerAttemptID is the containerd ID of attempt n of a container: a
// restart makes a new container, as kubelet does, so each attempt has its
// own ID (<sandbox>-<name>.<n>; '.' cannot occur in a container name, so
// no two containers' attempts collide). Attempt 0 is ContainerID.
func ContainerAttemptID(sandboxID, name string, n int) string {
	if n == 0 {
		return ContainerID(sandboxID, name)
	}
	return fmt.Sprintf("%s.%d", ContainerID(sandboxID, name), n)
}

// sandboxOf is the sandbox ID a container ID begins with (the hex before
// the first '-'), "" for the sandbox's own ID (the pause has no '-').
func sandboxOf(containerID string) string {
	sb, _, ok := strings.Cut(containerID, "-")
	if !ok {
		return ""
	}
	return sb
}

// containerLabels are what podsim puts on its containerd containers: the
// sandbox they belong to (teardown finds a pod's containers by it) and the
// pod-spec name of the container (exec and logs map it back).
func containerLabels(sandboxID, container string) map[string]string {
	l := map[string]string{LabelSandboxID: sandboxID}
	if container != "" {
		l[LabelContainerName] = container
	}
	return l
}

// netnsName is the name of a pod's pinned network namespace under
// /run/netns, readable in `ip netns`: podsim-[<namespace>-]<pod>-<id>.
func netnsName(pod *corev1.Pod, id string) string {
	n := "podsim-" + pod.Name + "-" + id[:6]
	if pod.Namespace != "default" {
		n = "podsim-" + pod.Namespace + "-" + pod.Name + "-" + id[:6]
	}
	if len(n) > 200 {
		n = "podsim-" + id
	}
	return n
}

// newIDs returns a sandbox ID (12 hex digits, like containerd's short IDs)
// and a pod UID (a UUID v4, like Kubernetes pod UIDs) from the same bytes.
func newIDs() (id, uid string) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b)
	return h[:12], fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

// hasNetSysctls reports whether the pod sets a sysctl of the network
// namespace (net.*), which runc writes as the pause container starts.
func hasNetSysctls(pod *corev1.Pod) bool {
	if pod.Spec.SecurityContext == nil {
		return false
	}
	for _, s := range pod.Spec.SecurityContext.Sysctls {
		if strings.HasPrefix(s.Name, "net.") {
			return true
		}
	}
	return false
}
