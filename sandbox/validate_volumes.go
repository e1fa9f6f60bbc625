package sandbox

import (
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Validation of the volume sources kubelet fills itself (downwardAPI,
// projected), of hostPath, of emptyDir's sizeLimit, and of the pod's
// group fields: what the API server's validation refuses, and what podsim
// cannot do, by name.

// checkDownwardAPI checks a downwardAPI volume's (or projected source's)
// items: a relative path each, exactly one of fieldRef (a path the
// downward API offers to volumes) and resourceFieldRef (naming one of the
// pod's containers, as the API server requires for volumes).
func (v *validator) checkDownwardAPI(f string, items []corev1.DownwardAPIVolumeFile, mode *int32) {
	v.checkMode(f+".defaultMode", mode)
	for _, it := range items {
		fi := fmt.Sprintf("%s.items[%s]", f, it.Path)
		v.checkItemPath(fi, it.Path)
		v.checkMode(fi+".mode", it.Mode)
		switch {
		case (it.FieldRef == nil) == (it.ResourceFieldRef == nil):
			v.fail("%s: exactly one of fieldRef and resourceFieldRef is required", fi)
		case it.FieldRef != nil && !downwardVolumeFieldOK(it.FieldRef.FieldPath):
			v.fail("%s.fieldRef.fieldPath %q is not supported in a volume: use %s, metadata.labels['KEY'] or metadata.annotations['KEY'] (status.podIP and spec.* only in env)",
				fi, it.FieldRef.FieldPath, strings.Join(downwardFieldPaths, ", "))
		case it.ResourceFieldRef != nil && podContainer(v.pod, it.ResourceFieldRef.ContainerName) == nil:
			v.fail("%s.resourceFieldRef.containerName %q must name one of the pod's containers (it is required in a volume)", fi, it.ResourceFieldRef.ContainerName)
		}
	}
}

// checkProjected checks a projected volume: configMap, secret and
// downwardAPI sources, with paths used once across all sources.
func (v *validator) checkProjected(f string, p *corev1.ProjectedVolumeSource) {
	v.checkMode(f+".defaultMode", p.DefaultMode)
	paths := map[string]bool{}
	once := func(fi, p string) {
		if paths[p] {
			v.fail("%s: path %q is projected twice (conflicting duplicate paths)", fi, p)
		}
		paths[p] = true
	}
	for i, s := range p.Sources {
		fs := fmt.Sprintf("%s.sources[%d]", f, i)
		switch {
		case s.ConfigMap != nil:
			v.checkProjection(fs+".configMap", s.ConfigMap.Items, nil)
			for _, it := range s.ConfigMap.Items {
				once(fs, it.Path)
			}
		case s.Secret != nil:
			v.checkProjection(fs+".secret", s.Secret.Items, nil)
			for _, it := range s.Secret.Items {
				once(fs, it.Path)
			}
		case s.DownwardAPI != nil:
			v.checkDownwardAPI(fs+".downwardAPI", s.DownwardAPI.Items, nil)
			for _, it := range s.DownwardAPI.Items {
				once(fs, it.Path)
			}
		case s.ServiceAccountToken == nil && s.ClusterTrustBundle == nil && s.PodCertificate == nil:
			v.fail("%s names no source (configMap, secret or downwardAPI)", fs)
		}
		// serviceAccountToken, clusterTrustBundle, podCertificate: refused by the field table.
	}
}

// checkHostPath checks a hostPath's path and type (the type is checked
// against the host before the pod is built: checkHostPathType).
func (v *validator) checkHostPath(f string, h *corev1.HostPathVolumeSource) {
	if !path.IsAbs(h.Path) || hasDotDot(h.Path) {
		v.fail("%s.hostPath.path %q must be an absolute path without '..'", f, h.Path)
	}
	if h.Type != nil {
		switch *h.Type {
		case corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory, corev1.HostPathFileOrCreate,
			corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev:
		default:
			v.fail("%s.hostPath.type %q is not valid: use \"\", DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice or BlockDevice", f, *h.Type)
		}
	}
}

// checkEmptyDirSize checks a sizeLimit's value. On a Memory emptyDir it is
// the tmpfs's size (the kernel enforces it, ENOSPC); on a disk emptyDir
// the node agent evicts the pod once it holds more, as kubelet's eviction
// manager does (eviction.go).
func (v *validator) checkEmptyDirSize(f string, e *corev1.EmptyDirVolumeSource) {
	if e.SizeLimit != nil && e.SizeLimit.Sign() < 0 {
		v.fail("%s.emptyDir.sizeLimit %s must not be negative", f, e.SizeLimit.String())
	}
}

// checkPodGroups checks the pod's group policies' values.
func (v *validator) checkPodGroups(sc *corev1.PodSecurityContext) {
	if sc == nil {
		return
	}
	if p := sc.FSGroupChangePolicy; p != nil && *p != corev1.FSGroupChangeAlways && *p != corev1.FSGroupChangeOnRootMismatch {
		v.fail("spec.securityContext.fsGroupChangePolicy %q is not valid: use Always or OnRootMismatch", *p)
	}
	if p := sc.SupplementalGroupsPolicy; p != nil && *p != corev1.SupplementalGroupsPolicyMerge && *p != corev1.SupplementalGroupsPolicyStrict {
		v.fail("spec.securityContext.supplementalGroupsPolicy %q is not valid: use Merge or Strict", *p)
	}
	if sc.FSGroup != nil && (*sc.FSGroup < 0 || *sc.FSGroup > 1<<31-1) {
		v.fail("spec.securityContext.fsGroup %d is out of range", *sc.FSGroup)
	}
}

func (v *validator) checkMode(f string, mode *int32) {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		v.fail("%s %d must be between 0 and 0777 (511)", f, *mode)
	}
}

func (v *validator) checkItemPath(f, p string) {
	if p == "" || path.IsAbs(p) || hasDotDot(p) || strings.HasPrefix(p, "..") {
		v.fail("%s.path %q must be a non-empty relative path without '..'", f, p)
	}
}
