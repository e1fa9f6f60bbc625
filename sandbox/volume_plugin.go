package sandbox

import corev1 "k8s.io/api/core/v1"

// VolumePluginDir is the directory kubelet names a volume's plugin by, below
// pods/<uid>/volumes ("kubernetes.io~empty-dir"); podsim lays its pods'
// volumes out the same way. "" for a source with no directory of its own
// (hostPath, the node's own path).
func VolumePluginDir(v *corev1.Volume) string {
	switch {
	case v.EmptyDir != nil:
		return "kubernetes.io~empty-dir"
	case v.ConfigMap != nil:
		return "kubernetes.io~configmap"
	case v.Secret != nil:
		return "kubernetes.io~secret"
	case v.DownwardAPI != nil:
		return "kubernetes.io~downward-api"
	case v.Projected != nil:
		return "kubernetes.io~projected"
	}
	return ""
}
