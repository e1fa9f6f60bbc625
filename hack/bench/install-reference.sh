#!/usr/bin/env bash
# Installs the reference systems `podsim bench` and `podsim compare` measure
# podsim against, and only what is missing (a no-op on a machine that has them):
#
#   - crictl, the CRI client, built from source with the Go module proxy into
#     bin/crictl (never committed; /bin/ is in .gitignore). The CRI server is
#     the CRI plugin of Debian's containerd: `podsim bench` starts a second
#     containerd with it enabled, under /run/podsim-bench and
#     /var/lib/podsim-bench, and stops it again.
#   - podman (Debian's), with conmon and catatonit (podman builds its pod
#     infra image from catatonit, so no registry is needed). Nothing is
#     configured system-wide: the bench points podman at its own
#     containers.conf and storage under /var/lib/podsim-bench/podman.
#
# Nothing here starts a daemon, enables IP forwarding or touches iptables.
# PODSIM_BENCH_SKIP_PODMAN=1 skips podman (the bench then says podman is absent).
set -euo pipefail
cd "$(dirname "$0")/../.."

CRICTL_VERSION="${CRICTL_VERSION:-v1.34.0}"
GO="${GO:-$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)}"

have_cmd() { command -v "$1" >/dev/null 2>&1; }

# `go install` builds carry their module version (crictl --version says "unknown").
if [ -x bin/crictl ] && "$GO" version -m bin/crictl 2>/dev/null | grep -q "cri-tools[[:space:]]*${CRICTL_VERSION}[[:space:]]"; then
  echo "bench deps: bin/crictl ${CRICTL_VERSION} present"
else
  echo "bench deps: building crictl ${CRICTL_VERSION} into bin/ (go install from the module proxy)"
  mkdir -p bin
  GOBIN="$PWD/bin" CGO_ENABLED=0 "$GO" install "sigs.k8s.io/cri-tools/cmd/crictl@${CRICTL_VERSION}"
  bin/crictl --version
fi

need=()
if [ "${PODSIM_BENCH_SKIP_PODMAN:-0}" != 1 ]; then
  have_cmd podman || need+=(podman)
  have_cmd conmon || [ -x /usr/libexec/podman/conmon ] || [ -x /usr/bin/conmon ] || need+=(conmon)
  have_cmd catatonit || [ -x /usr/libexec/podman/catatonit ] || need+=(catatonit)
fi
have_cmd runc || need+=(runc)
have_cmd containerd || need+=(containerd)
have_cmd flock || need+=(util-linux)

if [ "${#need[@]}" -eq 0 ]; then
  echo "bench deps: all host packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "bench deps: missing ${need[*]}; run 'sudo hack/bench/install-reference.sh'" >&2
  exit 1
fi
echo "bench deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || echo "bench deps: apt-get update failed; trying the cached package lists" >&2
# --no-install-recommends: no slirp4netns, buildah, fuse-overlayfs, dbus;
# runc is already podsim's runtime, so podman uses runc rather than crun.
apt-get install -y -qq --no-install-recommends "${need[@]}"
