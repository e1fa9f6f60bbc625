package sandbox

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestVolumePluginDir: kubelet's plugin directory names, shared by
// podsim's own layout and the cluster backend's reading of the kubelet's.
func TestVolumePluginDir(t *testing.T) {
	for want, src := range map[string]corev1.VolumeSource{
		"kubernetes.io~empty-dir":    {EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}},
		"kubernetes.io~configmap":    {ConfigMap: &corev1.ConfigMapVolumeSource{}},
		"kubernetes.io~secret":       {Secret: &corev1.SecretVolumeSource{}},
		"kubernetes.io~downward-api": {DownwardAPI: &corev1.DownwardAPIVolumeSource{}},
		"kubernetes.io~projected":    {Projected: &corev1.ProjectedVolumeSource{}},
		"":                           {HostPath: &corev1.HostPathVolumeSource{Path: "/x"}},
	} {
		if got := VolumePluginDir(&corev1.Volume{Name: "v", VolumeSource: src}); got != want {
			t.Errorf("%+v: got %q, want %q", src, got, want)
		}
	}
}
