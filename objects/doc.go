// Package objects holds the Kubernetes objects that are not pods —
// Deployments, Services, ConfigMaps, Secrets — and what a cluster's API
// server and controllers do with them, done once per command since podsim
// has no control loop: apply and delete of any kind (in one order, from one
// table of kinds: kinds_linux.go), the Deployment controller's rolling update
// (deployment_linux.go), and the refresh of what running pods see when a Service,
// ConfigMap or Secret changes.
//
// The objects themselves are JSON files in package store. The pods they
// make or feed are built by package sandbox, which this package calls and
// which never calls back: sandbox reads the store (volumes, /etc/hosts),
// nothing more.
//
// The controllers drive the Linux pod runtime (package sandbox), so they are
// built on Linux only; objects/store, the files they keep, builds anywhere.
package objects
