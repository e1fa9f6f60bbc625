package objects

import (
	"context"
	"fmt"
	"time"

	nodev1 "k8s.io/api/node/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsim/podsim/objects/store"
	"github.com/podsim/podsim/sandbox"
)

// runtimeClassKind is node.k8s.io/v1 RuntimeClass: cluster-scoped, so it is
// stored without a namespace whatever -n says. It is applied before the
// pods that name it and deleted after them.
var runtimeClassKind = &Kind{Kind: "RuntimeClass", Resource: "runtimeclass.node.k8s.io", Plural: "runtimeclasses",
	Aliases: []string{"runtimeclass", "runtimeclasses.node.k8s.io"}, ApplyOrder: 0, DeleteOrder: 2,
	exists: func(m *Manager, _ context.Context, _, name string) bool {
		return m.store.Exists(store.RuntimeClasses, "", name)
	},
	delete: func(m *Manager, _ context.Context, _, name string, _ *time.Duration) error {
		return m.DeleteRuntimeClass(name)
	},
	names: func(m *Manager, _ context.Context, _ string) ([]string, error) {
		return names(m.store.ListRuntimeClasses())
	}}

// ApplyRuntimeClass stores a RuntimeClass, checked as the API server checks
// it. Pods already running keep the handler they were created with, as in
// Kubernetes (the handler is fixed at RunPodSandbox).
func (m *Manager) ApplyRuntimeClass(rc *nodev1.RuntimeClass) (string, error) {
	rc.Namespace = "" // cluster-scoped
	if err := sandbox.ValidateRuntimeClass(rc); err != nil {
		return "", err
	}
	rc.TypeMeta = metav1.TypeMeta{APIVersion: "node.k8s.io/v1", Kind: "RuntimeClass"}
	var old nodev1.RuntimeClass
	action := m.store.Changed(store.RuntimeClasses, &rc.ObjectMeta, rc, &old)
	if action == "configured" && old.Handler != rc.Handler {
		// The API server: "handler: Invalid value: ...: field is immutable".
		return "", fmt.Errorf("%w: RuntimeClass %q: handler is immutable (%q, not %q): delete the RuntimeClass first",
			sandbox.ErrRuntimeClass, rc.Name, old.Handler, rc.Handler)
	}
	if action != "unchanged" {
		if action == "configured" {
			rc.CreationTimestamp = old.CreationTimestamp
		}
		if err := m.store.Save(store.RuntimeClasses, &rc.ObjectMeta, rc); err != nil {
			return "", err
		}
	}
	return action, nil
}

// DeleteRuntimeClass removes an applied RuntimeClass (pods that use it keep
// running, as in Kubernetes; new ones are refused). The built-in classes
// are not objects and cannot be deleted.
func (m *Manager) DeleteRuntimeClass(name string) error {
	return m.store.Delete(store.RuntimeClasses, "", name)
}

// RuntimeClasses lists the applied RuntimeClasses and, after them, the
// built-in ones no object overrides (marked podsim.io/builtin).
func RuntimeClasses(s *store.Store) ([]*nodev1.RuntimeClass, error) {
	l, err := s.ListRuntimeClasses()
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, rc := range l {
		have[rc.Name] = true
	}
	for _, b := range sandbox.BuiltinRuntimeClasses() {
		if !have[b.Name] {
			b := b
			l = append(l, &b)
		}
	}
	return l, nil
}
