// Package cluster is podsim's side of the local test cluster of hack/cluster:
// a real single-node Kubernetes (etcd, kube-apiserver, kube-controller-manager
// and kubelet built from upstream sources) whose kubelet runs on a private
// containerd with the CRI plugin.
//
// The scripts start and stop the daemons; this package does what needs
// containerd's Go client: it imports the images podsim builds offline into
// that containerd's CRI namespace, so pods on the cluster run the same
// images as podsim's own pods, with imagePullPolicy: Never.
package cluster

// CRINamespace is the containerd namespace the CRI plugin keeps its
// images, sandboxes and containers in.
const CRINamespace = "k8s.io"
