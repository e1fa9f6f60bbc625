#!/usr/bin/env bash
# make cluster-up: a real single-node Kubernetes on 127.0.0.1, from the
# binaries hack/cluster/build.sh made (make cluster-deps):
#
#   etcd -> kube-apiserver -> kube-controller-manager -> containerd (CRI) -> kubelet
#
# No scheduler (pods are bound with spec.nodeName), no kube-proxy (Services
# get ClusterIPs that nothing routes), no DNS. The kubelet's containerd is
# private (own root, state, socket under $CLUSTER_STATE) with podsim's images
# imported offline (imagePullPolicy: Never) and podsim's pause as sandbox
# image; pods get a CNI bridge of their own ($CLUSTER_BRIDGE, $CLUSTER_SUBNET)
# without gateway or masquerading. Nothing here touches iptables/nft,
# ip_forward or routes. Daemons run detached; their PIDs are in
# $CLUSTER_STATE/pids and `make cluster-down` stops exactly those.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$HERE/kubeconfig.sh"
need_root
t0=$(date +%s.%N)

for b in "${CLUSTER_BINARIES[@]}"; do
  [ -x "$CLUSTER_BIN/$b" ] || die "$CLUSTER_BIN/$b is missing: run 'make cluster-deps' first (about 6 minutes on 2 cores from an empty cache)"
done
[ -x "$REPO/bin/pause" ] || die "$REPO/bin/pause is missing: run 'make build'"
# The image helper is small; build it here so a plain checkout works.
( cd "$REPO" && CGO_ENABLED=0 "$GO" build -o bin/podsim-cluster ./cmd/podsim-cluster ) || die "building bin/podsim-cluster failed"
command -v containerd >/dev/null || die "containerd is missing: run 'make deps'"
[ -x /usr/lib/cni/bridge ] || die "CNI plugins are missing in /usr/lib/cni: run 'make deps'"

running=()
for d in "${DAEMONS[@]}"; do pid_alive "$d" && running+=("$d"); done
if [ "${#running[@]}" -eq "${#DAEMONS[@]}" ]; then
  log "already up (KUBECONFIG=$KUBECONFIG_ADMIN)"; exit 0
elif [ "${#running[@]}" -gt 0 ]; then
  die "partly up (${running[*]} running): run 'make cluster-down' first"
fi

# Ours only when nothing of ours is there yet: the inventory cluster-down
# compares with is the host before the first daemon.
if [ ! -s "$INVENTORY_BEFORE" ]; then
  before="$("$HERE/inventory.sh")"
  mkdir -p "$S"
  printf '%s\n' "$before" > "$INVENTORY_BEFORE"
  for k in "${KUBELET_SYSCTLS[@]}"; do echo "$k=$(sysctl -n "$k")"; done > "$SAVED_SYSCTLS"
fi
mkdir -p "$PIDS" "$LOGS" "$KUBELET_DIR" "$S/etcd" "$CNI_CONF_DIR" "$CNI_IPAM_DIR" "$(dirname "$CTRD_SOCK")" "$CTRD_ROOT" "$CTRD_STATE" "$S/logs/pods"
chmod 700 "$S"
"$HERE/pki.sh"

# start NAME BINARY ARGS...: detached (own session, no terminal), logging to
# $LOGS/NAME.log; records "PID EXE" so stop and inventory know it exactly.
start() {
  local name="$1" bin="$2"; shift 2
  # Without job control this background subshell is not a process-group
  # leader, so setsid(1) calls setsid() and execs: $! is the daemon itself.
  ( exec setsid "$bin" "$@" < /dev/null >> "$LOGS/$name.log" 2>&1 ) &
  local pid=$!
  echo "$pid $(readlink -f "$bin")" > "$PIDS/$name.pid"
  sleep 0.1
  pid_alive "$name" || { tail -20 "$LOGS/$name.log" >&2; die "$name exited at once (log: $LOGS/$name.log)"; }
}

# wait_for WHAT SECONDS COMMAND...
wait_for() {
  local what="$1" secs="$2"; shift 2
  local end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "timed out after ${secs}s waiting for $what (logs: $LOGS)"
    sleep 0.2
  done
}
curl_ca() { curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$@"; }

# 1. etcd: one member, plain HTTP on loopback only.
start etcd "$CLUSTER_BIN/etcd" --name podsim-cluster --data-dir "$S/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "podsim-cluster=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls "" --log-level warn
wait_for etcd 30 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

# 2. kube-apiserver. --endpoint-reconciler-type=none: the "kubernetes"
# Service gets no endpoints for a loopback advertise address.
start kube-apiserver "$CLUSTER_BIN/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
  --endpoint-reconciler-type none \
  --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" --client-ca-file "$PKI/ca.crt" \
  --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types InternalIP,Hostname \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range "$SERVICE_CIDR" --authorization-mode Node,RBAC --allow-privileged=true \
  --profiling=false --v=1
wait_for kube-apiserver 90 curl_ca "$APISERVER_URL/readyz"

kubeconfig "$KUBECONFIG_ADMIN" admin
kubeconfig "$S/controller-manager.kubeconfig" controller-manager
kubeconfig "$S/kubelet.kubeconfig" kubelet

# 3. kube-controller-manager: ServiceAccounts, kube-root-ca.crt, node
# lifecycle, ReplicaSets/Deployments, garbage collection.
start kube-controller-manager "$CLUSTER_BIN/kube-controller-manager" \
  --kubeconfig "$S/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$S/controller-manager.kubeconfig" --authorization-kubeconfig "$S/controller-manager.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$KCM_PORT" --leader-elect=false \
  --root-ca-file "$PKI/ca.crt" --service-account-private-key-file "$PKI/sa.key" \
  --use-service-account-credentials=true --profiling=false --v=1

# 4. The kubelet's own containerd with the CRI plugin (see bench/paths.go for
# why each CRI option is set) and its CNI bridge.
pause_image="$("$REPO/bin/podsim-cluster" pause-image)"
cat > "$CTRD_CONFIG" <<TOML
# Written by hack/cluster/up.sh: the local cluster's containerd.
version = 2
root = "$CTRD_ROOT"
state = "$CTRD_STATE"
oom_score = 0
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$CTRD_ROOT/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$pause_image"
    restrict_oom_score_adj = true
    disable_apparmor = true
    enable_selinux = false
    tolerate_missing_hugetlb_controller = true
    disable_hugetlb_controller = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          Root = "$S/runc"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$CNI_CONF_DIR"
      max_conf_num = 1
TOML
cat > "$CNI_CONF_DIR/10-podsim-cluster.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "podsim-cluster",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CLUSTER_BRIDGE",
      "isGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$CLUSTER_SUBNET"}]],
        "dataDir": "$CNI_IPAM_DIR"
      }
    }
  ]
}
JSON
start containerd "$(command -v containerd)" --config "$CTRD_CONFIG"
wait_for containerd 30 ctr --address "$CTRD_SOCK" version
"$REPO/bin/podsim-cluster" images --address "$CTRD_SOCK" --bin "$REPO/bin" ${CLUSTER_IMAGES:-} > "$LOGS/images.log" 2>&1 ||
  { cat "$LOGS/images.log" >&2; die "importing podsim's images failed"; }

# 5. kubelet. Its cgroup root must exist in every hierarchy first (v1), and
# a v1 cpuset cgroup needs cpus/mems before children can hold tasks.
for h in $(cgroup_hierarchies); do
  mkdir -p "$h/$CGROUP_ROOT"
  if [ -e "$h/cpuset.cpus" ] && [ ! -s "$h/$CGROUP_ROOT/cpuset.cpus" ]; then
    cat "$h/cpuset.cpus" > "$h/$CGROUP_ROOT/cpuset.cpus"
    cat "$h/cpuset.mems" > "$h/$CGROUP_ROOT/cpuset.mems"
  fi
done
cat > "$S/kubelet-config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$PKI/ca.crt"}
authorization: {mode: Webhook}
containerRuntimeEndpoint: "unix://$CTRD_SOCK"
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_ROOT
cgroupsPerQOS: true
failCgroupV1: false
failSwapOn: false
makeIPTablesUtilChains: false
podLogsDir: "$S/logs/pods"
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%"}
serializeImagePulls: false
YAML
start kubelet "$CLUSTER_BIN/kubelet" --config "$S/kubelet-config.yaml" --kubeconfig "$S/kubelet.kubeconfig" \
  --root-dir "$KUBELET_DIR" --cert-dir "$KUBELET_DIR/pki" --hostname-override "$NODE_NAME" --v=1

# 6. Ready for pods: the node Ready without taints, and what every pod's
# service-account volume needs (the "default" ServiceAccount and the
# kube-root-ca.crt ConfigMap, made by the controller-manager).
node_ready() {
  [ "$(kubectl_ get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ] &&
  [ -z "$(kubectl_ get node "$NODE_NAME" -o jsonpath='{.spec.taints}')" ]
}
wait_for "node $NODE_NAME Ready" 120 node_ready
wait_for "ServiceAccount default" 60 kubectl_ get serviceaccount default -n default
wait_for "ConfigMap kube-root-ca.crt" 60 kubectl_ get configmap kube-root-ca.crt -n default

t1=$(date +%s.%N)
log "up in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)")s: node $NODE_NAME Ready (kubernetes $KUBE_VERSION, etcd $ETCD_VERSION, containerd $(containerd --version | awk '{print $3}'))"
log "export KUBECONFIG=$KUBECONFIG_ADMIN    # kubectl: $CLUSTER_BIN/kubectl; pods need spec.nodeName: $NODE_NAME and imagePullPolicy: Never"
