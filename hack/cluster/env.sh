#!/usr/bin/env bash
# Prints the local cluster's layout as KEY=VALUE lines, for tests and for
# people: eval "$(hack/cluster/env.sh)"; $KUBECTL get nodes
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cat <<ENV
KUBECONFIG=$KUBECONFIG_ADMIN
KUBECTL=$CLUSTER_BIN/kubectl
CLUSTER_BIN=$CLUSTER_BIN
CLUSTER_STATE=$S
CONTAINERD_ADDRESS=$CTRD_SOCK
CLUSTER_BRIDGE=$CLUSTER_BRIDGE
CLUSTER_SUBNET=$CLUSTER_SUBNET
CLUSTER_CGROUP_ROOT=$CGROUP_ROOT
CLUSTER_NODE=$NODE_NAME
ENV
