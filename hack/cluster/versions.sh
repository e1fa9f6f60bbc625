# Versions of the local test cluster (sourced by hack/cluster/*.sh).
# Pinned on purpose: kubelet 1.34 is the last minor that runs on cgroup v1
# without opting in (failCgroupV1), and Kubernetes drops containerd 1.x
# (Debian 12 ships 1.6) soon after. Change them together and rebuild.
KUBE_VERSION="${KUBE_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.5}"
CLUSTER_CACHE="${CLUSTER_CACHE:-/var/cache/podsim-cluster}"
GO="${GO:-$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)}"
# One directory per version pair and Go toolchain: a cached build is reused
# only for exactly these versions.
CLUSTER_GOVERSION="$("$GO" env GOVERSION)"
CLUSTER_BIN="${CLUSTER_CACHE}/kube-${KUBE_VERSION}_etcd-${ETCD_VERSION}_${CLUSTER_GOVERSION}/bin"
CLUSTER_BINARIES=(etcd kube-apiserver kube-controller-manager kubelet kubectl)
