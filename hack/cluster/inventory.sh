#!/usr/bin/env bash
# Prints what on this host the local cluster could have made or changed, one
# line per object, sorted, so cluster-up saves it and cluster-down compares:
#   processes running the cluster's binaries or talking to its containerd,
#   mounts under the state dir and netns pins of its pods, the bridge and
#   its veths, cgroup directories under its cgroup root, the sysctls kubelet
#   sets, ip_forward, routes, iptables rules, kubelet's /var/log/containers
#   links into the state dir, listeners on the cluster's ports.
# Other tools' objects on this machine (podsim's, the bench's) are not listed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
{
  for p in /proc/[0-9]*; do
    exe="$(readlink "$p/exe" 2>/dev/null)" || continue
    cmd="$( { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null)"
    case "$exe $cmd" in
      "$CLUSTER_BIN"/*|*"$S/"*) echo "process ${p#/proc/} $exe ${cmd:0:120}" ;;
    esac
  done
  awk -v s="$S" 'index($5, s) == 1 { print "mount " $5 }' /proc/self/mountinfo
  # The CRI plugin pins pod netns as /run/netns/cni-<uuid>, as the bench's
  # containerd does: only those this cluster's pods used (cluster-down
  # records them from its containerd) are looked for.
  if [ -r "$NETNS_RECORD" ]; then
    while read -r ns; do [ -e "$ns" ] && echo "netns $ns"; done < "$NETNS_RECORD"
  fi
  ip -o link show "$CLUSTER_BRIDGE" 2>/dev/null | awk '{ print "link " $2 }'
  ip -o link show master "$CLUSTER_BRIDGE" 2>/dev/null | awk '{ print "link " $2 " (on the bridge)" }'
  for h in $(cgroup_hierarchies); do
    [ -d "$h/$CGROUP_ROOT" ] && find "$h/$CGROUP_ROOT" -type d | sed 's/^/cgroup /'
  done
  for k in "${KUBELET_SYSCTLS[@]}" net.ipv4.ip_forward net.ipv6.conf.all.forwarding; do
    echo "sysctl $k=$(sysctl -n "$k" 2>/dev/null)"
  done
  ip route show table all 2>/dev/null | grep -E "$CLUSTER_BRIDGE|${CLUSTER_SUBNET%%.0.0/*}\." | sed 's/^/route /'
  if command -v iptables-save >/dev/null; then
    echo "iptables rules: $(iptables-save 2>/dev/null | grep -c '^-A')"
    iptables-save 2>/dev/null | grep -iE 'KUBE|podsimkube' | sed 's/^/iptables /'
  fi
  for l in /var/log/containers/*; do
    [ -L "$l" ] && case "$(readlink "$l")" in "$S"/*) echo "log-link $l" ;; esac
  done
  ss -Hltn 2>/dev/null | awk -v ports=":$ETCD_PORT :$ETCD_PEER_PORT :$APISERVER_PORT :$KUBELET_PORT :$KUBELET_HEALTHZ_PORT :$KCM_PORT" \
    'BEGIN { n = split(ports, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 } { p = $4; sub(/.*:/, ":", p); if (p in want) print "listen " $4 }'
  if [ -e "$S" ]; then echo "dir $S"; fi
} | sort
exit 0
