package objects

import (
	"context"
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsim/podsim/sandbox"
)

// applyPodMetadata makes a running pod's labels and annotations the
// manifest's, as kubectl apply may change them on a running pod (podsim
// keeps no last-applied configuration, so the manifest's maps replace the
// pod's, labels added with 'podsim label' included); kubelet's downwardAPI
// files follow (sandbox.UpdatePodMetadata).
func (m *Manager) applyPodMetadata(ctx context.Context, o sandbox.Object) (string, error) {
	_, changed, err := m.pods.UpdatePodMetadata(ctx, o.Pod.Namespace, o.Pod.Name, func(meta *metav1.ObjectMeta) error {
		meta.Labels, meta.Annotations = maps.Clone(o.Pod.Labels), maps.Clone(o.Pod.Annotations)
		return nil
	})
	switch {
	case err != nil:
		return "", err
	case changed:
		return "configured", nil
	}
	return "unchanged", nil
}
