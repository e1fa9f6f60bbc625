package sandbox

// VolumeHostDir is the host directory behind a pod's volume (the kubelet's
// pods/<uid>/volumes/kubernetes.io~<plugin>/<name>), "" if the pod has no
// such volume: checks read an emptyDir's contents from the host with it.
func (m *Manager) VolumeHostDir(r *Record, name string) string {
	for i := range r.Pod.Spec.Volumes {
		if v := &r.Pod.Spec.Volumes[i]; v.Name == name {
			return m.volumeDir(r.ID, v)
		}
	}
	return ""
}
