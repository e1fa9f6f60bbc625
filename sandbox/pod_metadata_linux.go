package sandbox

import (
	"context"
	"errors"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// UpdatePodMetadata changes a pod's labels and annotations with change
// (which edits a copy of its metadata) and does what kubelet and the
// endpoints controller do next: the pod record keeps the new metadata,
// every downwardAPI file showing labels or annotations is rewritten with
// the ..data swap (a container reading the file sees the old or the new
// content, never half), and Services' hosts entries follow the new labels.
// It returns the pod and whether anything changed.
func (m *Manager) UpdatePodMetadata(ctx context.Context, namespace, name string, change func(*metav1.ObjectMeta) error) (*corev1.Pod, bool, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	rec, err := m.find(ctx, namespace, name)
	if err != nil {
		return nil, false, err
	}
	if rec == nil {
		return nil, false, fmt.Errorf("%w: pod %q in namespace %q (list pods with 'podsim get pods')", ErrPodNotFound, name, namespace)
	}
	if !rec.Built {
		return nil, false, podErr(namespace, name, "", fmt.Errorf("pod %s is still being built: change its metadata once it is running", name))
	}
	meta := *rec.Pod.ObjectMeta.DeepCopy()
	if err := change(&meta); err != nil {
		return nil, false, err
	}
	if err := validateMetadata(&meta); err != nil {
		return nil, false, err
	}
	if maps.Equal(meta.Labels, rec.Pod.Labels) && maps.Equal(meta.Annotations, rec.Pod.Annotations) {
		return &rec.Pod, false, nil
	}
	rec.Pod.Labels, rec.Pod.Annotations = meta.Labels, meta.Annotations
	if err := m.saveRecord(rec); err != nil {
		return nil, false, err
	}
	errs := m.refreshVolumes(rec, usesDownwardMetadata)
	if err := m.refreshHostsOf(ctx, rec, false); err != nil {
		errs = append(errs, err)
	}
	return &rec.Pod, true, errors.Join(errs...)
}
