# Shared layout of the local test cluster (sourced by hack/cluster/*.sh).
# Every name here is chosen so it never collides with podsim's own objects
# (podsim0, 10.222.0.0/16, /podsim cgroups, /var/lib/podsim) nor the bench's
# (podsimbench0, 10.223.0.0/16, 10.224.0.0/16, /podsimbench, /var/lib/podsim-bench).
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
. "$HERE/versions.sh"

CLUSTER_STATE="${CLUSTER_STATE:-/var/lib/podsim-cluster}"   # everything the cluster writes
S="$CLUSTER_STATE"
PKI="$S/pki"
PIDS="$S/pids"
LOGS="$S/log"
CTRD_ROOT="$S/containerd/root"
CTRD_STATE="$S/containerd/state"
CTRD_SOCK="$S/containerd/containerd.sock"
CTRD_CONFIG="$S/containerd/config.toml"
CNI_CONF_DIR="$S/cni/net.d"
CNI_IPAM_DIR="$S/cni/networks"
KUBELET_DIR="$S/kubelet"
KUBECONFIG_ADMIN="$S/kubeconfig"
SAVED_SYSCTLS="$S/sysctls.saved"
INVENTORY_BEFORE="$S/inventory.before"
# netns pins of the cluster's pods, written by cluster-down from its
# containerd; outside the state dir so the check after teardown can read it.
NETNS_RECORD="/run/podsim-cluster.netns"

CLUSTER_BRIDGE=podsimkube0
CLUSTER_SUBNET=10.230.0.0/16
SERVICE_CIDR=10.231.0.0/24          # ClusterIPs are allocated but never routed (no kube-proxy)
CGROUP_ROOT=podsimkube              # kubelet's --cgroup-root: /podsimkube/kubepods/...
NODE_NAME=127.0.0.1
ETCD_PORT=23790
ETCD_PEER_PORT=23800
APISERVER_PORT=16443
KUBELET_PORT=20250
KUBELET_HEALTHZ_PORT=20248
KCM_PORT=20257
APISERVER_URL="https://127.0.0.1:$APISERVER_PORT"

# Host sysctls kubelet sets at start (ProtectKernelDefaults off); cluster-down
# puts the saved values back.
KUBELET_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

# Daemons in start order; cluster-down stops them in reverse.
DAEMONS=(etcd kube-apiserver kube-controller-manager containerd kubelet)

log() { echo "cluster: $*" >&2; }
die() { echo "cluster: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" -eq 0 ] || die "needs root (sudo make cluster-up / cluster-down)"; }

# cgroup hierarchies of this host: every v1 controller mount, the named
# systemd one and the unified one (hybrid), or the single v2 root.
cgroup_hierarchies() {
  awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts
}

# pid_alive NAME: true when the recorded PID of daemon NAME still runs the
# binary it was started as (a recycled PID is never taken for ours).
pid_alive() {
  local f="$PIDS/$1.pid" pid exe
  [ -r "$f" ] || return 1
  read -r pid exe < "$f"
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ]
}
pid_of() { local pid exe; read -r pid exe < "$PIDS/$1.pid"; echo "$pid"; }

kubectl_() { "$CLUSTER_BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }
ctr_() { ctr --address "$CTRD_SOCK" --namespace k8s.io "$@"; }
