#!/usr/bin/env bash
# Provisioning step "install-podsim" (Vagrantfile): makes podsim available in
# the VM as /usr/local/bin/podsim, with bin/pause and any other bin/ helper
# next to it in /usr/local/lib/podsim.
#
# Uses the binaries already in $PODSIM_SRC/bin (built on the host: `make
# build`, and `go test -c -o bin/integration.test ./integration` for the test
# step) when podsim there runs in this VM; otherwise, or with
# PODSIM_REBUILD=1, runs `make build` in the source tree (Go from the
# install-packages step; the go command fetches go.mod's toolchain).
# Environment: PODSIM_SRC (default: two levels up from this script; Vagrant
# passes /vagrant).
set -euo pipefail

say() { echo "install-podsim: $*"; }
die() { echo "install-podsim: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/go/bin${PATH:+:$PATH}"
src=${PODSIM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
[ -f "$src/Makefile" ] || die "no podsim source tree at $src (set PODSIM_SRC)"
bin=$src/bin

if [ "${PODSIM_REBUILD:-0}" != 1 ] && [ -x "$bin/podsim" ] && [ -f "$bin/pause" ] &&
  "$bin/podsim" version >/dev/null 2>&1; then
  say "using the prebuilt $bin ($("$bin/podsim" version))"
else
  command -v go >/dev/null 2>&1 || die "no runnable $bin/podsim and no Go: build on the host (make build) or run the install-packages provisioning first"
  # Debian and Ubuntu's go may default to GOTOOLCHAIN=local; podsim's go.mod
  # asks for a newer Go than they ship.
  export GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
  # A root-owned build in a tree owned by another user (the synced folder):
  # let git describe the version anyway.
  git config --global --get-all safe.directory 2>/dev/null | grep -qxF "$src" ||
    git config --global --add safe.directory "$src" 2>/dev/null || true
  # In the tree, the go command first gets the toolchain go.mod asks for
  # (from GOPROXY): say so plainly if that fails.
  gov=$(cd "$src" && go env GOVERSION) ||
    die "the go command ($(cd / && go env GOVERSION)) could not get the Go toolchain $src/go.mod asks for: it needs internet access to $(cd / && go env GOPROXY) (or set GOPROXY, or install that Go)"
  say "building: make -C $src build (go.mod toolchain $gov)"
  make -C "$src" build
fi

dest=/usr/local/lib/podsim
rm -rf "$dest.new"
mkdir -p "$dest.new"
cp -a "$bin"/. "$dest.new"/
rm -rf "$dest"
mv "$dest.new" "$dest"
ln -sfn "$dest/podsim" /usr/local/bin/podsim
say "installed $(/usr/local/bin/podsim version) in $dest, linked from /usr/local/bin/podsim"
podsim doctor || say "WARNING: 'podsim doctor' reported problems (above)"
