package sandbox

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/podsim/podsim/cgroups"
)

// TestPodLimitsKubelet: the pod cgroup is sized as kubelet's
// ResourceConfigForPod sizes it, init containers, native sidecars and
// overhead included.
func TestPodLimitsKubelet(t *testing.T) {
	res := func(cpu, mem string) corev1.ResourceRequirements {
		l := corev1.ResourceList{}
		if cpu != "" {
			l[corev1.ResourceCPU] = resource.MustParse(cpu)
		}
		if mem != "" {
			l[corev1.ResourceMemory] = resource.MustParse(mem)
		}
		return corev1.ResourceRequirements{Limits: l}
	}
	always := corev1.ContainerRestartPolicyAlways
	ctr := func(name, cpu, mem string) corev1.Container {
		return corev1.Container{Name: name, Resources: res(cpu, mem)}
	}
	sidecar := func(name, cpu, mem string) corev1.Container {
		c := ctr(name, cpu, mem)
		c.RestartPolicy = &always
		return c
	}
	const mi = 1 << 20
	for _, tc := range []struct {
		name     string
		spec     corev1.PodSpec
		mem, cpu int64 // bytes, millicores; 0 = no limit
		shares   uint64
	}{
		{"apps summed", corev1.PodSpec{Containers: []corev1.Container{ctr("a", "100m", "32Mi"), ctr("b", "200m", "64Mi")}},
			96 * mi, 300, 307},
		{"a larger init container wins", corev1.PodSpec{InitContainers: []corev1.Container{ctr("i", "1", "256Mi")},
			Containers: []corev1.Container{ctr("a", "100m", "32Mi"), ctr("b", "200m", "64Mi")}}, 256 * mi, 1000, 1024},
		{"a smaller init container does not", corev1.PodSpec{InitContainers: []corev1.Container{ctr("i", "50m", "16Mi")},
			Containers: []corev1.Container{ctr("a", "100m", "32Mi")}}, 32 * mi, 100, 102},
		{"sidecars add to the apps and to later init containers", corev1.PodSpec{
			InitContainers: []corev1.Container{sidecar("s", "100m", "64Mi"), ctr("i", "150m", "100Mi")},
			Containers:     []corev1.Container{ctr("a", "100m", "32Mi")}},
			// max(apps+sidecar = 96Mi/200m, init+sidecar before it = 164Mi/250m)
			164 * mi, 250, 256},
		{"overhead added to limits and requests", corev1.PodSpec{Containers: []corev1.Container{ctr("a", "100m", "32Mi")},
			Overhead: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("8Mi")}},
			40 * mi, 150, 153},
		{"an app without a memory limit: no pod memory limit", corev1.PodSpec{Containers: []corev1.Container{ctr("a", "100m", "32Mi"), ctr("b", "100m", "")}},
			0, 200, 204},
		{"an init container without limits: no pod limits", corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i"}},
			Containers: []corev1.Container{ctr("a", "100m", "32Mi")}}, 0, 0, 102},
		{"BestEffort: only the minimum weight", corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}},
			Overhead: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m")}}, 0, 0, cgroups.MinShares},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PodLimits(&corev1.Pod{Spec: tc.spec})
			if got.MemoryBytes != tc.mem || got.CPUMilli != tc.cpu || got.CPUShares != tc.shares {
				t.Errorf("PodLimits = memory %d, cpu %dm, shares %d; want %d, %dm, %d", got.MemoryBytes, got.CPUMilli, got.CPUShares, tc.mem, tc.cpu, tc.shares)
			}
		})
	}
}
