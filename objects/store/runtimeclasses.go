package store

import (
	"errors"

	nodev1 "k8s.io/api/node/v1"
)

// RuntimeClasses is the directory of node.k8s.io/v1 RuntimeClass objects.
// A RuntimeClass is cluster-scoped: it is kept with an empty namespace.
const RuntimeClasses = "runtimeclasses"

// RuntimeClass reads one applied RuntimeClass; (nil, nil) if there is none,
// the shape sandbox.RuntimeClassLookup wants.
func (s *Store) RuntimeClass(name string) (*nodev1.RuntimeClass, error) {
	var rc nodev1.RuntimeClass
	if err := s.Load(RuntimeClasses, "", name, &rc); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return &rc, nil
}

// ListRuntimeClasses lists the applied RuntimeClasses, by name.
func (s *Store) ListRuntimeClasses() ([]*nodev1.RuntimeClass, error) {
	return list(s, RuntimeClasses, "", func(o *nodev1.RuntimeClass) string { return o.Name })
}
