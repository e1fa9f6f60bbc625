package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// Volumes whose files kubelet writes (configMap, secret, downwardAPI,
// projected) share one path: compute the files (volumeFiles), lay them out
// with the ..data symlink swap (writeAtomic), then give them to the pod's
// fsGroup (setVolumeOwnership). Building the pod, a changed ConfigMap or
// Secret (RefreshProjections) and changed labels or annotations
// (SetPodMetadata) all go through writeVolume.

// isAtomicVolume reports whether kubelet's AtomicWriter fills the volume.
func isAtomicVolume(v *corev1.Volume) bool {
	return v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil || v.Projected != nil
}

// volumeFiles computes the files of a configMap, secret, downwardAPI or
// projected volume of pod.
func (m *Manager) volumeFiles(pod *corev1.Pod, v *corev1.Volume) ([]projectedFile, error) {
	switch {
	case v.DownwardAPI != nil:
		files, err := downwardFiles(v.DownwardAPI.Items, v.DownwardAPI.DefaultMode, m.envContext(&Record{Pod: *pod}))
		if err != nil {
			return nil, fmt.Errorf("volume %q: %w", v.Name, err)
		}
		return files, nil
	case v.Projected != nil:
		return m.projectedFiles(pod, v)
	}
	return m.projection(pod.Namespace, v)
}

// projectedFiles is kubelet's projected volume: the files of each source
// in one directory, every source's mode defaulting to the projected
// volume's defaultMode. A ConfigMap or Secret source is the same
// projection a configMap/secret volume makes (optional included).
func (m *Manager) projectedFiles(pod *corev1.Pod, v *corev1.Volume) ([]projectedFile, error) {
	p := v.Projected
	var out []projectedFile
	for i, s := range p.Sources {
		var files []projectedFile
		var err error
		switch {
		case s.ConfigMap != nil:
			files, err = m.projection(pod.Namespace, &corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: s.ConfigMap.LocalObjectReference, Items: s.ConfigMap.Items, DefaultMode: p.DefaultMode, Optional: s.ConfigMap.Optional}}})
		case s.Secret != nil:
			files, err = m.projection(pod.Namespace, &corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: s.Secret.Name, Items: s.Secret.Items, DefaultMode: p.DefaultMode, Optional: s.Secret.Optional}}})
		case s.DownwardAPI != nil:
			files, err = downwardFiles(s.DownwardAPI.Items, p.DefaultMode, m.envContext(&Record{Pod: *pod}))
		default:
			err = fmt.Errorf("sources[%d]: %s", i, errNoAPIServerSource)
		}
		if err != nil {
			return nil, fmt.Errorf("projected volume %q: %w", v.Name, err)
		}
		out = append(out, files...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

// errNoAPIServerSource is why serviceAccountToken, clusterTrustBundle and
// podCertificate sources are refused (validation says it first).
var errNoAPIServerSource = errors.New("only configMap, secret and downwardAPI sources can be projected: serviceAccountToken, clusterTrustBundle and podCertificate come from the API server, and podsim has none")

// atomicVolumeMedium mounts the tmpfs kubelet puts under a secret,
// downwardAPI or projected volume (their wrapped emptyDir has medium
// Memory), so their data never reaches the disk. A configMap volume is a
// plain directory.
func atomicVolumeMedium(v *corev1.Volume, dir string) error {
	if v.ConfigMap != nil {
		return nil
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755,size=16m"); err != nil {
		return fmt.Errorf("mounting tmpfs for volume %q: %w", v.Name, err)
	}
	return nil
}

// writeVolume (re)writes the files of an atomic volume in dir and gives
// them to the pod's fsGroup, as kubelet's AtomicWriter calls
// SetVolumeOwnership after each write.
func (m *Manager) writeVolume(pod *corev1.Pod, v *corev1.Volume, dir string) error {
	files, err := m.volumeFiles(pod, v)
	if err != nil {
		return err
	}
	if err := writeAtomic(dir, files); err != nil {
		return fmt.Errorf("writing volume %q: %w", v.Name, err)
	}
	if err := setVolumeOwnership(dir, podFSGroup(pod), true); err != nil {
		return fmt.Errorf("volume %q: %w", v.Name, err)
	}
	return nil
}

// refreshVolumes rewrites the volumes of a built pod that match, skipping
// those not laid out (yet).
func (m *Manager) refreshVolumes(r *Record, match func(*corev1.Volume) bool) []error {
	var errs []error
	for i := range r.Pod.Spec.Volumes {
		v := &r.Pod.Spec.Volumes[i]
		if !isAtomicVolume(v) || !match(v) {
			continue
		}
		dir := m.volumeDir(r.ID, v)
		if _, err := os.Stat(filepath.Join(dir, "..data")); err != nil {
			continue // not built (yet)
		}
		if err := m.writeVolume(&r.Pod, v, dir); err != nil {
			errs = append(errs, fmt.Errorf("pod %s: %w", r.Pod.Name, err))
		}
	}
	return errs
}

// projects reports whether a volume shows the ConfigMap or Secret (kind
// "configMap" or "secret") named name, directly or as a projected source.
func projects(v *corev1.Volume, kind, name string) bool {
	if kind == "configMap" && v.ConfigMap != nil && v.ConfigMap.Name == name ||
		kind == "secret" && v.Secret != nil && v.Secret.SecretName == name {
		return true
	}
	if v.Projected == nil {
		return false
	}
	for _, s := range v.Projected.Sources {
		if kind == "configMap" && s.ConfigMap != nil && s.ConfigMap.Name == name ||
			kind == "secret" && s.Secret != nil && s.Secret.Name == name {
			return true
		}
	}
	return false
}

// RefreshProjections rewrites the configMap/secret volumes (and projected
// volumes with such a source) of running pods after the object changed
// (kubelet does this on its sync loop). Files mounted with subPath are not
// updated, as in Kubernetes. kind is "configMap" or "secret", as the volume
// source's field. The caller holds the lock (see Locked).
func (m *Manager) RefreshProjections(ctx context.Context, namespace, kind, name string) error {
	recs, err := m.Records()
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range recs {
		if r.Pod.Namespace != namespace {
			continue
		}
		errs = append(errs, m.refreshVolumes(r, func(v *corev1.Volume) bool { return projects(v, kind, name) })...)
	}
	return errors.Join(errs...)
}
