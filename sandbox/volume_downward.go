package sandbox

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The downward API as files (kubelet's pkg/volume/downwardapi): each item
// of a downwardAPI volume (or of a projected volume's downwardAPI source)
// is one file holding a field of the pod or a container's resource. Unlike
// env, which is read once when the container starts, the files follow the
// pod: kubelet rewrites them when the pod's labels or annotations change.

// projectedFile is one file of a configMap, secret, downwardAPI or
// projected volume.
type projectedFile struct {
	path string
	data []byte
	mode os.FileMode
}

// defaultVolumeFileMode is kubelet's mode for projected files when the
// volume names none (downwardapi.DefaultMode, projected's too).
const defaultVolumeFileMode int32 = 0o644

// downwardFieldPaths are the fieldRef paths a downwardAPI file may hold
// (the API server refuses others, e.g. status.podIP, in volumes: an IP is
// not known when the volume is set up).
var downwardFieldPaths = []string{"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations"}

// downwardVolumeFieldOK says whether a fieldRef path may be used in a
// downwardAPI volume: one of downwardFieldPaths or a single label or
// annotation, metadata.labels['KEY'].
func downwardVolumeFieldOK(path string) bool {
	if slices.Contains(downwardFieldPaths, path) {
		return true
	}
	_, okL := bracketKey(path, "metadata.labels")
	_, okA := bracketKey(path, "metadata.annotations")
	return okL || okA
}

// downwardFiles computes the files of a downwardAPI item list from the pod
// (ec.Pod) and, for resourceFieldRef, its containers and the node: the
// same values env gets (podFieldValue, resourceFieldValue), with the whole
// label and annotation maps formatted as kubelet's fieldpath.FormatMap
// does (one key="value" line each, sorted, %q-quoted).
func downwardFiles(items []corev1.DownwardAPIVolumeFile, defaultMode *int32, ec envContext) ([]projectedFile, error) {
	var out []projectedFile
	for _, it := range items {
		var v string
		var err error
		switch {
		case it.FieldRef != nil:
			v, err = downwardFieldValue(it.FieldRef.FieldPath, ec)
		case it.ResourceFieldRef != nil:
			c := podContainer(ec.Pod, it.ResourceFieldRef.ContainerName)
			if c == nil {
				return nil, fmt.Errorf("downwardAPI item %q: resourceFieldRef.containerName %q is not a container of the pod", it.Path, it.ResourceFieldRef.ContainerName)
			}
			v, err = resourceFieldValue(c, it.ResourceFieldRef, ec)
		default:
			err = fmt.Errorf("names neither fieldRef nor resourceFieldRef")
		}
		if err != nil {
			return nil, fmt.Errorf("downwardAPI item %q: %w", it.Path, err)
		}
		out = append(out, projectedFile{path: it.Path, data: []byte(v), mode: fileMode(it.Mode, defaultMode)})
	}
	return out, nil
}

// downwardFieldValue is a fieldRef's value in a file.
func downwardFieldValue(path string, ec envContext) (string, error) {
	if !downwardVolumeFieldOK(path) {
		return "", fmt.Errorf("fieldRef %q cannot be used in a downwardAPI volume (use one of %s, metadata.labels['KEY'], metadata.annotations['KEY']; status.podIP and the like only in env)",
			path, strings.Join(downwardFieldPaths, ", "))
	}
	switch path {
	case "metadata.labels":
		return formatMap(ec.Pod.Labels), nil
	case "metadata.annotations":
		return formatMap(ec.Pod.Annotations), nil
	}
	return podFieldValue(path, ec)
}

// formatMap is kubelet's fieldpath.FormatMap: key="value" lines, sorted by
// key, the value Go-quoted, no newline after the last.
func formatMap(m map[string]string) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k + "=" + strconv.Quote(m[k]))
	}
	return b.String()
}

// podContainer finds an app or init container by name ("" is never one:
// a downwardAPI volume's resourceFieldRef must name its container).
func podContainer(pod *corev1.Pod, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name && name != "" {
				return &list[i]
			}
		}
	}
	return nil
}

// fileMode is an item's mode, else the volume's defaultMode, else 0644.
func fileMode(item, def *int32) os.FileMode {
	switch {
	case item != nil:
		return os.FileMode(*item)
	case def != nil:
		return os.FileMode(*def)
	}
	return os.FileMode(defaultVolumeFileMode)
}

// usesDownwardMetadata reports whether a volume's files show the pod's
// labels or annotations, so that changing them must rewrite the volume.
func usesDownwardMetadata(v *corev1.Volume) bool {
	var items []corev1.DownwardAPIVolumeFile
	if v.DownwardAPI != nil {
		items = v.DownwardAPI.Items
	}
	if v.Projected != nil {
		for _, s := range v.Projected.Sources {
			if s.DownwardAPI != nil {
				items = append(items, s.DownwardAPI.Items...)
			}
		}
	}
	for _, it := range items {
		if it.FieldRef != nil && (strings.HasPrefix(it.FieldRef.FieldPath, "metadata.labels") || strings.HasPrefix(it.FieldRef.FieldPath, "metadata.annotations")) {
			return true
		}
	}
	return false
}
