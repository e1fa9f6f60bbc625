#!/usr/bin/env bash
# Builds gVisor for podsim's runsc handler (runtimeClassName: gvisor) from
# gVisor's own sources through the Go module proxy, cached and keyed on the
# version, the patch and the Go toolchain:
#
#   runsc                     the runtime: Sentry (runsc-sandbox), gofer, CLI
#   containerd-shim-runsc-v1  gVisor's containerd shim: one gVisor sandbox
#                             (one Sentry) per pod, as on a Kubernetes node
#
# Why not Debian's runsc package: it ships no containerd-shim-runsc-v1, and
# this shim cannot drive its 2022 runsc (the Sentry keeps `runsc create`'s
# output pipe open, so the shim's Create never returns). gVisor releases the
# two together; so does this script, from one source tree.
#
# Two patches (hack/gvisor/patches/), applied to a copy of the module source
# (never to the module cache):
#   01  the shim sets its own oom_score_adj to -999 ("never OOM-kill the
#       shim") and fails to start when it cannot. Lowering oom_score_adj
#       needs CAP_SYS_RESOURCE, which a container or a CI sandbox often
#       lacks (this host does); containerd's CRI has restrict_oom_score_adj
#       for the same reason. Patched, the shim keeps containerd's score.
#   02  runsc finds a container by ID prefix and calls an ID "ambiguous" when
#       it begins other IDs, even when it names one exactly. podsim's IDs
#       are readable ("<sandbox>", "<sandbox>-c1", restarts "<sandbox>-c1.2"),
#       not CRI's 64 random hex digits, so every call on the sandbox failed.
#       Patched, an exact ID wins.
#
# ~3 minutes on 2 cores from an empty Go build cache, ~150 MB of binaries in
# the cache; a cached build only copies them to bin/gvisor/.
# Usage: build.sh [--check] [OUTDIR]     (OUTDIR default: bin/gvisor)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
GVISOR_VERSION="${GVISOR_VERSION:-v0.0.0-20260905035102-160fafc42237}"
GO="${GO:-$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)}"
PATCHES="$HERE/patches"
PATCH_TAG="p$(cat "$PATCHES"/*.patch | sha256sum | cut -c1-10)"
if [ -z "${GVISOR_CACHE:-}" ]; then
  if [ -w /var/cache ] || [ -w /var/cache/podsim-gvisor ]; then GVISOR_CACHE=/var/cache/podsim-gvisor
  else GVISOR_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/podsim-gvisor"; fi
fi
key="gvisor-${GVISOR_VERSION}_${PATCH_TAG}_$("$GO" env GOVERSION)"
cached="$GVISOR_CACHE/$key/bin"
bins=(runsc containerd-shim-runsc-v1)

check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
out="${1:-$(cd "$HERE/../.." && pwd)/bin/gvisor}"

have_all() { local b; for b in "${bins[@]}"; do [ -x "$1/$b" ] || return 1; done; }
install_to_out() {
  mkdir -p "$out"
  local b
  for b in "${bins[@]}"; do
    # Copy only what changed: a running shim keeps its binary busy.
    if ! cmp -s "$cached/$b" "$out/$b"; then cp "$cached/$b" "$out/$b.new" && mv -f "$out/$b.new" "$out/$b"; fi
  done
  echo "$GVISOR_VERSION (patch $PATCH_TAG)" > "$out/VERSION"
}
if [ $check = 1 ]; then have_all "$cached" || exit 3; echo "$cached"; exit 0; fi
if have_all "$cached"; then
  install_to_out
  echo "gvisor: $out has ${bins[*]} (gvisor.dev/gvisor $GVISOR_VERSION, cached in $cached)"
  exit 0
fi

work="$GVISOR_CACHE/$key/build"
rm -rf "$work" "$cached.partial"
mkdir -p "$work" "$cached.partial"
cd "$work"
export GOFLAGS=-mod=mod CGO_ENABLED=0
start=$(date +%s)
echo "gvisor: building runsc and containerd-shim-runsc-v1 from gvisor.dev/gvisor $GVISOR_VERSION (about 3 minutes from an empty cache)"
srcdir="$("$GO" mod download -json "gvisor.dev/gvisor@$GVISOR_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -d "$srcdir" ] || { echo "gvisor: gvisor.dev/gvisor@$GVISOR_VERSION is not available from the Go module proxy" >&2; exit 1; }
cp -r "$srcdir" src
chmod -R u+w src
for p in "$PATCHES"/*.patch; do
  patch -s -p0 -d src --no-backup-if-mismatch < "$p" || { echo "gvisor: $p does not apply to gvisor.dev/gvisor $GVISOR_VERSION: review it" >&2; exit 1; }
done
grep -E '^go ' src/go.mod > go.version
{
  echo "module podsim.local/gvisor-build"
  echo
  cat go.version
  echo
  echo "require gvisor.dev/gvisor $GVISOR_VERSION"
  echo
  echo "replace gvisor.dev/gvisor => ./src"
} > go.mod
cp src/go.sum go.sum
"$GO" build -trimpath -ldflags '-s -w' -o "$cached.partial/runsc" gvisor.dev/gvisor/runsc
"$GO" build -trimpath -ldflags '-s -w' -o "$cached.partial/containerd-shim-runsc-v1" gvisor.dev/gvisor/shim
rm -rf "$cached"
mv "$cached.partial" "$cached"
rm -rf "$work"
install_to_out
echo "gvisor: built ${bins[*]} in $(( $(date +%s) - start )) s; installed in $out"
