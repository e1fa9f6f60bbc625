package sandbox

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// TestEmptyDirEviction is kubelet's emptyDirLimitEviction decided by
// ComputePodActions: a running pod with a disk emptyDir sizeLimit is
// measured again every EvictionMonitoringPeriod; past the limit it is
// evicted for good with kubelet's message; a Memory emptyDir (its tmpfs
// has that size) and a pod already failed are not.
func TestEmptyDirEviction(t *testing.T) {
	limit := resource.MustParse("4Mi")
	pod := func(medium corev1.StorageMedium) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}},
			Volumes: []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: medium, SizeLimit: &limit}}}}}}
	}
	now := time.Unix(1000, 0)
	running := map[string]ObservedContainer{"a": {Phase: ContainerRunning}}
	msg := emptyDirEvictionMessage("scratch", limit)
	if want := `Usage of EmptyDir volume "scratch" exceeds the limit "4Mi". `; msg != want {
		t.Errorf("message %q, want kubelet's %q", msg, want)
	}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		obs  ObservedPod
		want PodActions
	}{
		{"under its limit: measured again in 10 s", pod(""), ObservedPod{SandboxReady: true, Containers: running, Now: now},
			PodActions{NextInit: -1, WakeAt: now.Add(EvictionMonitoringPeriod)}},
		{"past its limit: evicted", pod(""), ObservedPod{SandboxReady: true, Containers: running, Now: now, EmptyDirOver: msg},
			PodActions{NextInit: -1, KillPod: ReasonEvicted, KillMessage: msg}},
		{"evicted before: nothing more", pod(""), ObservedPod{SandboxReady: true, Containers: map[string]ObservedContainer{"a": {Phase: ContainerExited, ExitCode: 137}}, Now: now, Terminal: true},
			PodActions{NextInit: -1}},
		{"nothing runs: no timer", pod(""), ObservedPod{SandboxReady: true, Containers: map[string]ObservedContainer{"a": {Phase: ContainerExited}}, Now: now},
			PodActions{NextInit: -1, Restart: []int{0}}},
		{"past its limit after its containers finished: it keeps its phase", pod(""), ObservedPod{SandboxReady: true, Containers: map[string]ObservedContainer{"a": {Phase: ContainerExited}}, Now: now, EmptyDirOver: msg},
			PodActions{NextInit: -1, Restart: []int{0}}},
		{"Memory emptyDir: the tmpfs's size, no timer", pod(corev1.StorageMediumMemory), ObservedPod{SandboxReady: true, Containers: running, Now: now},
			PodActions{NextInit: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ComputePodActions(tc.pod, tc.obs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ComputePodActions = %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := diskEmptyDirLimits(pod(corev1.StorageMediumMemory)); len(got) != 0 {
		t.Errorf("a Memory emptyDir is no disk emptyDir: %v", got)
	}
}
