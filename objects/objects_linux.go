package objects

import (
	"github.com/podsim/podsim/objects/store"
	"github.com/podsim/podsim/sandbox"
)

// Manager applies, lists and deletes objects of every kind podsim knows,
// making and removing pods through the pod runtime.
type Manager struct {
	pods  *sandbox.Manager
	store *store.Store
}

// New returns the object manager over a pod runtime and its store.
func New(pods *sandbox.Manager) *Manager {
	return &Manager{pods: pods, store: pods.Store()}
}

// Pods is the pod runtime the objects' pods are built with.
func (m *Manager) Pods() *sandbox.Manager { return m.pods }
