#!/usr/bin/env bash
# Installs, with apt, the host packages podsim needs at run time and for its
# tests, and only those that are missing: a no-op on a machine that has them.
# podsim starts containerd itself; nothing here starts a daemon.
set -euo pipefail

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }

have_cmd containerd || need+=(containerd)
have_cmd runc || need+=(runc)
# gVisor (runtimeClassName: gvisor) is built from its sources by make gvisor
# (hack/gvisor/build.sh), which applies two small patches with patch(1).
have_cmd patch || need+=(patch)
[ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || need+=(containernetworking-plugins)
# (ldd exits 1 for a static program; with pipefail that must not fail the test)
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 && { ldd /bin/busybox 2>&1 || true; } | grep -q 'not a dynamic' \
  || need+=(busybox-static)
have_cmd ip || need+=(iproute2)       # tests check podsim with ip, independently
have_cmd script || need+=(bsdutils)   # tests drive 'exec -it' through a pseudo-terminal
# Real programs the images are built from (sandbox/images): the nginx,
# curlimages/curl and redis images copy these binaries and their libraries.
{ [ -x /usr/sbin/nginx ] && [ -f /etc/nginx/mime.types ]; } || need+=(nginx)
have_cmd curl || need+=(curl)
[ -f /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
{ [ -x /usr/bin/redis-server ] && [ -x /usr/bin/redis-cli ]; } || need+=(redis-server)

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
# Debian's nginx and redis-server packages start and enable their services
# when installed; podsim only copies their programs into images. While apt
# runs, a policy-rc.d (only if the host has none) keeps them from starting,
# and afterwards the services of the packages installed here are disabled.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# podsim hack/install-deps.sh: no service starts during this install\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq || echo "deps: apt-get update failed; trying the cached package lists" >&2
apt-get install -y -qq --no-install-recommends "${need[@]}"
if have_cmd systemctl && [ -d /run/systemd/system ]; then
  for pkg in "${need[@]}"; do
    case "$pkg" in
      nginx) systemctl disable --now nginx >/dev/null 2>&1 || true ;;
      redis-server) systemctl disable --now redis-server >/dev/null 2>&1 || true ;;
    esac
  done
fi
