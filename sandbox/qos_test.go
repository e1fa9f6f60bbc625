package sandbox

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/podsim/podsim/cgroups"
)

func TestQOSAndOOMScoreAdj(t *testing.T) {
	mk := func(req, lim corev1.ResourceList) corev1.PodSpec {
		return corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}}}
	}
	q := resource.MustParse
	for _, tc := range []struct {
		name     string
		spec     corev1.PodSpec
		capacity int64
		qos      string
		adj      int64
	}{
		{"guaranteed", mk(corev1.ResourceList{"cpu": q("1"), "memory": q("1Gi")}, corev1.ResourceList{"cpu": q("1"), "memory": q("1Gi")}), 4 << 30, QOSGuaranteed, -997},
		{"guaranteed from limits alone", mk(nil, corev1.ResourceList{"cpu": q("1"), "memory": q("1Gi")}), 4 << 30, QOSGuaranteed, -997},
		{"best effort", mk(nil, nil), 4 << 30, QOSBestEffort, 1000},
		{"burstable, a quarter of the node", mk(corev1.ResourceList{"memory": q("1Gi")}, nil), 4 << 30, QOSBurstable, 750},
		{"burstable, more than the node: floor 3 (above Guaranteed)", mk(corev1.ResourceList{"memory": q("2Gi")}, nil), 1 << 30, QOSBurstable, 3},
		{"burstable, cpu only: 999", mk(corev1.ResourceList{"cpu": q("100m")}, nil), 4 << 30, QOSBurstable, 999},
		{"request below limit", mk(corev1.ResourceList{"cpu": q("1"), "memory": q("512Mi")}, corev1.ResourceList{"cpu": q("1"), "memory": q("1Gi")}), 4 << 30, QOSBurstable, 875},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := QOSClass(&tc.spec); got != tc.qos {
				t.Fatalf("QOSClass = %s, want %s", got, tc.qos)
			}
			if got := ContainerOOMScoreAdj(tc.qos, &tc.spec.Containers[0], tc.capacity); got != tc.adj {
				t.Fatalf("ContainerOOMScoreAdj = %d, want %d", got, tc.adj)
			}
		})
	}
	// An init container's resources count for the pod's class too.
	s := mk(nil, nil)
	s.InitContainers = []corev1.Container{{Name: "i", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{"memory": q("1Mi")}}}}
	if got := QOSClass(&s); got != QOSBurstable {
		t.Errorf("init container with a request: %s, want Burstable", got)
	}
}

func TestRestrictOOMScoreAdj(t *testing.T) {
	for _, tc := range []struct{ want, floor, got int64 }{
		{-998, 0, 0}, {-997, -999, -997}, {1000, 0, 1000}, {500, 600, 600},
	} {
		if g := RestrictOOMScoreAdj(tc.want, tc.floor); g != tc.got {
			t.Errorf("RestrictOOMScoreAdj(%d, %d) = %d, want %d", tc.want, tc.floor, g, tc.got)
		}
	}
}

// TestPodCgroupWeight: the pod cgroup's cpu.shares is kubelet's
// ResourceConfigForPod — MilliCPUToShares of the requests summed (a limit
// alone is the request), the largest init container's if more, 2 for none.
func TestPodCgroupWeight(t *testing.T) {
	cpu := func(req, lim string) corev1.ResourceRequirements {
		r := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
		if req != "" {
			r.Requests[corev1.ResourceCPU] = resource.MustParse(req)
		}
		if lim != "" {
			r.Limits[corev1.ResourceCPU] = resource.MustParse(lim)
		}
		return r
	}
	for _, tc := range []struct {
		name string
		spec corev1.PodSpec
		want uint64
		tier string
	}{
		{"BestEffort", corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}}, 2, "/podsim/besteffort/pod"},
		{"Burstable: requests summed", corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Resources: cpu("100m", "")}, {Name: "b", Resources: cpu("250m", "")}}}, 358, "/podsim/burstable/pod"},
		{"Guaranteed: the limit is the request", corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("64Mi")}}}}}, 512, "/podsim/pod"},
		{"a bigger init container wins", corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i", Resources: cpu("1", "")}},
			Containers: []corev1.Container{{Name: "a", Resources: cpu("100m", "")}}}, 1024, "/podsim/burstable/pod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: tc.spec}
			if got := PodLimits(pod).CPUShares; got != tc.want {
				t.Errorf("pod cpu.shares = %d, want %d", got, tc.want)
			}
			if p := cgroups.PodPath("u", QOSClass(&pod.Spec)); !strings.HasPrefix(p, tc.tier) {
				t.Errorf("pod cgroup %s, want it under %s<uid>", p, tc.tier)
			}
		})
	}
}
