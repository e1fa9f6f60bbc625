#!/usr/bin/env bash
# Installs, with apt, the host packages podsim needs at run time and for its
# tests, and only those that are missing: a no-op on a machine that has them.
# podsim starts containerd itself; nothing here starts a daemon.
set -euo pipefail

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }

have_cmd containerd || need+=(containerd)
have_cmd runc || need+=(runc)
[ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || need+=(containernetworking-plugins)
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 && ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' \
  || need+=(busybox-static)
have_cmd ip || need+=(iproute2)       # tests check podsim with ip, independently
have_cmd script || need+=(bsdutils)   # tests drive 'exec -it' through a pseudo-terminal

if [ "${#need[@]}" -eq 0 ]; then
  echo "deps: all host packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing ${need[*]}; run 'sudo make deps'" >&2
  exit 1
fi
echo "deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || echo "deps: apt-get update failed; trying the cached package lists" >&2
apt-get install -y -qq --no-install-recommends "${need[@]}"
