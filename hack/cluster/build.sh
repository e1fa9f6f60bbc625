#!/usr/bin/env bash
# Builds the local test cluster's binaries from upstream sources through the
# Go module proxy, cached under $CLUSTER_CACHE keyed on the versions:
#
#   kubelet, kube-apiserver, kube-controller-manager, kubectl  (k8s.io/kubernetes $KUBE_VERSION)
#   etcd                                                       (go.etcd.io/etcd/server/v3 $ETCD_VERSION)
#
# k8s.io/kubernetes is not meant to be required as a module: its go.mod points
# its ~30 staging modules (k8s.io/api, client-go, ...) at ./staging with
# version v0.0.0. A scratch module in the cache dir requires it and pins each
# staging module to its published v0.X.Y, read from that same go.mod.
# From an empty Go build cache this takes ~6 minutes on 2 cores and ~3 GB of
# build cache (its own, under $CLUSTER_CACHE/gocache); a cached build is a no-op.
# Usage: build.sh [--check]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/versions.sh"

have_all() {
  local b
  for b in "${CLUSTER_BINARIES[@]}"; do [ -x "$CLUSTER_BIN/$b" ] || return 1; done
}
# --check: print the cached binaries' directory and exit 0, or exit 3 when
# they are not built (tests use it to decide whether to run).
if [ "${1:-}" = --check ]; then
  have_all || exit 3
  echo "$CLUSTER_BIN"; exit 0
fi
if have_all; then
  echo "cluster-deps: $CLUSTER_BIN has ${CLUSTER_BINARIES[*]} (kubernetes $KUBE_VERSION, etcd $ETCD_VERSION)"
  exit 0
fi

top="$(dirname "$CLUSTER_BIN")"
mkdir -p "$top/src/kube" "$top/src/etcd" "$CLUSTER_BIN.partial"
export GOCACHE="$CLUSTER_CACHE/gocache" GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
start=$(date +%s)

# --- kubernetes -------------------------------------------------------------
cd "$top/src/kube"
modfile="$("$GO" mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
[ -r "$modfile" ] || { echo "cluster-deps: no go.mod for k8s.io/kubernetes@$KUBE_VERSION from the module proxy" >&2; exit 1; }
staging_version="v0.${KUBE_VERSION#v1.}"
{
  echo "module podsim.local/cluster-build"
  echo
  grep -E '^go |^godebug ' "$modfile"
  echo
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  echo
  # replace k8s.io/api => ./staging/src/k8s.io/api   ->   k8s.io/api => k8s.io/api v0.34.4
  # (sample-* modules are not published and no binary here needs them)
  sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/k8s.io/[a-z0-9-]*$#\1#p' "$modfile" |
    grep -v '^k8s.io/sample-' | while read -r m; do echo "replace $m => $m $staging_version"; done
} > go.mod
cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
"$GO" mod tidy -e >/dev/null 2>&1 || true
"$GO" mod download
minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
vpkg=k8s.io/component-base/version
ldflags="-s -w -X $vpkg.gitVersion=$KUBE_VERSION -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor -X $vpkg.gitTreeState=clean -X $vpkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
echo "cluster-deps: building kubelet kube-apiserver kube-controller-manager kubectl $KUBE_VERSION (about 6 minutes from an empty cache)"
"$GO" build -trimpath -ldflags "$ldflags" -o "$CLUSTER_BIN.partial/" \
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl
kube_done=$(date +%s)

# --- etcd -------------------------------------------------------------------
cd "$top/src/etcd"
cat > go.mod <<MOD
module podsim.local/cluster-build-etcd

go 1.24.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
"$GO" mod tidy -e >/dev/null 2>&1 || true
echo "cluster-deps: building etcd $ETCD_VERSION"
"$GO" build -trimpath -ldflags "-s -w" -o "$CLUSTER_BIN.partial/etcd" go.etcd.io/etcd/server/v3
end=$(date +%s)

rm -rf "$CLUSTER_BIN"
mv "$CLUSTER_BIN.partial" "$CLUSTER_BIN"
echo "cluster-deps: built in $((end-start))s (kubernetes $((kube_done-start))s, etcd $((end-kube_done))s) into $CLUSTER_BIN"
"$CLUSTER_BIN/kubelet" --version
"$CLUSTER_BIN/etcd" --version | head -1
