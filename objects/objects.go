// Package objects holds the Kubernetes objects that are not pods —
// Deployments, Services, ConfigMaps, Secrets — and what a cluster's API
// server and controllers do with them, done once per command since podsim
// has no control loop: apply and delete of any kind (in one order, from one
// table of kinds: kinds.go), the Deployment controller's rolling update
// (deployment.go), and the refresh of what running pods see when a Service,
// ConfigMap or Secret changes.
//
// The objects themselves are JSON files in package store. The pods they
// make or feed are built by package sandbox, which this package calls and
// which never calls back: sandbox reads the store (volumes, /etc/hosts),
// nothing more.
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
