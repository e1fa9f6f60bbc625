#!/usr/bin/env bash
# make cluster-down: stops the local cluster and removes everything it made,
# then checks the host against the inventory cluster-up saved:
#
#   1. every pod deleted through the API, so kubelet stops them the normal way
#      (CRI StopPodSandbox: containers killed, CNI DEL, netns unpinned);
#   2. whatever is left in the cluster's containerd killed and removed
#      (crictl when bin/crictl exists, else ctr), netns pins recorded first;
#   3. kubelet, containerd (and any shim of its socket), controller-manager,
#      apiserver and etcd stopped by their recorded PIDs, newest first;
#   4. mounts under the state dir, the bridge, the cgroup root in every
#      hierarchy, kubelet's /var/log/containers links, the state dir removed;
#      the host sysctls kubelet changed put back.
# Safe to run twice, and after a half-finished cluster-up.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need_root
t0=$(date +%s.%N)
[ -d "$S" ] || { log "nothing to do ($S does not exist)"; exit 0; }

# stop NAME: SIGTERM, up to 15s, then SIGKILL; only the recorded PID.
stop() {
  local name="$1" pid i
  pid_alive "$name" || return 0
  pid="$(pid_of "$name")"
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 150); do pid_alive "$name" || return 0; sleep 0.1; done
  log "$name (pid $pid) did not stop on SIGTERM; SIGKILL"
  kill -KILL "$pid" 2>/dev/null
  for i in $(seq 50); do pid_alive "$name" || return 0; sleep 0.1; done
}

# 1. Pods, through the API while apiserver and kubelet run.
if pid_alive kube-apiserver && pid_alive kubelet; then
  kubectl_ delete pods --all --all-namespaces --grace-period=1 --wait=true --timeout=60s >/dev/null 2>&1 ||
    log "deleting pods through the API did not finish; cleaning up in containerd"
fi

# 2. Anything left in containerd. Record the netns pins first: the teardown
# check looks for them afterwards.
if pid_alive containerd; then
  : > "$NETNS_RECORD"
  for id in $(ctr_ containers ls -q 2>/dev/null); do
    ctr_ containers info "$id" 2>/dev/null |
      sed -n 's#.*"path": "\(/var/run/netns/[^"]*\|/run/netns/[^"]*\)".*#\1#p' >> "$NETNS_RECORD"
  done
  sort -u -o "$NETNS_RECORD" "$NETNS_RECORD"
  if [ -x "$REPO/bin/crictl" ]; then
    "$REPO/bin/crictl" --runtime-endpoint "unix://$CTRD_SOCK" rmp --all --force >/dev/null 2>&1 || true
  fi
fi
stop kubelet
if pid_alive containerd; then
  for id in $(ctr_ tasks ls -q 2>/dev/null); do
    ctr_ tasks kill --signal SIGKILL "$id" >/dev/null 2>&1
  done
  sleep 0.5
  for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete --force "$id" >/dev/null 2>&1; done
  for id in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers delete "$id" >/dev/null 2>&1; done
fi

# 3. Daemons, newest first; then shims started for this containerd's socket
# (they outlive containerd by design), found by that exact address.
stop containerd
for p in /proc/[0-9]*; do
  case "$( { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null)" in
    *containerd-shim*"-address $CTRD_SOCK "*) log "stopping leftover shim ${p#/proc/}"; kill -KILL "${p#/proc/}" 2>/dev/null ;;
  esac
done
stop kube-controller-manager
stop kube-apiserver
stop etcd

# 4. Kernel objects and files.
if [ -s "$NETNS_RECORD" ]; then
  while read -r ns; do
    [ -e "$ns" ] || continue
    umount -l "$ns" 2>/dev/null; rm -f "$ns"
  done < "$NETNS_RECORD"
fi
awk -v s="$S" 'index($5, s) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
  umount -l "$m" 2>/dev/null || log "could not unmount $m"
done
ip link show master "$CLUSTER_BRIDGE" 2>/dev/null | awk -F': ' '/^[0-9]/ { sub(/@.*/, "", $2); print $2 }' |
  while read -r v; do ip link del "$v" 2>/dev/null; done
ip link del "$CLUSTER_BRIDGE" 2>/dev/null
for h in $(cgroup_hierarchies); do
  [ -d "$h/$CGROUP_ROOT" ] || continue
  # A cgroup with tasks cannot go; every task of ours was stopped above.
  find "$h/$CGROUP_ROOT" -depth -type d -exec rmdir {} + 2>/dev/null
  [ -d "$h/$CGROUP_ROOT" ] && log "cgroup $h/$CGROUP_ROOT is still there: $(cat "$h/$CGROUP_ROOT"/cgroup.procs 2>/dev/null | head -3)"
done
for l in /var/log/containers/*; do
  [ -L "$l" ] && case "$(readlink "$l")" in "$S"/*) rm -f "$l" ;; esac
done
if [ -s "$SAVED_SYSCTLS" ]; then
  while IFS='=' read -r k v; do
    [ "$(sysctl -n "$k")" = "$v" ] || sysctl -qw "$k=$v" || log "could not restore $k=$v"
  done < "$SAVED_SYSCTLS"
fi

before="$(cat "$INVENTORY_BEFORE" 2>/dev/null)"
rm -rf "$S"
after="$("$HERE/inventory.sh")"
rm -f "$NETNS_RECORD"
t1=$(date +%s.%N)
if [ -n "$before" ] && [ "$before" != "$after" ]; then
  log "the host is not as cluster-up found it (- before, + now):"
  diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep '^[<>]' | sed 's/^</-/; s/^>/+/' >&2
  exit 1
fi
log "down in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)")s; the host matches the inventory taken before cluster-up"
