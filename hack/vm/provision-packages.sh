#!/usr/bin/env bash
# Provisioning step "install-packages" (Vagrantfile), also run inside the
# Debian 12 chroot that `make vm-test` boots: installs with apt what podsim
# needs in a VM, on Ubuntu 24.04 and Debian 12.
#
#   1. podsim's run-time packages: hack/install-deps.sh, the very script a
#      host runs (`make deps`), so the lists cannot diverge;
#   2. the tools the integration tests check podsim with: ctr (containerd),
#      ip (iproute2), script (bsdutils), setpriv (util-linux);
#   3. with PODSIM_INSTALL_GO=1 (the default), make, git and a Go >= 1.21 to
#      build podsim in the VM; the go command then downloads the toolchain
#      go.mod asks for from the Go proxy (GOTOOLCHAIN=auto), which needs
#      internet. PODSIM_INSTALL_GO=0 skips this (the CI VM runs binaries
#      built on the host and has no network at run time).
#
# Environment: PODSIM_SRC = the podsim source tree (default: two levels up
# from this script; Vagrant uploads the script alone, so it passes /vagrant).
# Idempotent: re-running it installs nothing new.
set -euo pipefail

say() { echo "install-packages: $*"; }
die() { echo "install-packages: $*" >&2; exit 1; }
have_cmd() { command -v "$1" >/dev/null 2>&1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"

src=${PODSIM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
[ -f "$src/hack/install-deps.sh" ] || die "no podsim source tree at $src (set PODSIM_SRC)"
# Out of any module: in the source tree "go env" would already fetch the
# toolchain go.mod asks for.
cd /

export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_update() {
  [ "$apt_updated" = 1 ] && return 0
  apt-get update -qq || say "apt-get update failed; trying the cached package lists" >&2
  apt_updated=1
}
apt_install() {
  apt_update
  say "apt-get install $*"
  apt-get install -y -qq --no-install-recommends "$@"
}

# 1. podsim's own dependencies, decided by the host script.
bash "$src/hack/install-deps.sh"

# 2. The tests' independent checkers (and what scripts here use).
need=()
have_cmd ctr || need+=(containerd)
have_cmd ip || need+=(iproute2)
have_cmd script || need+=(bsdutils)
have_cmd setpriv || need+=(util-linux)
[ -e /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
[ "${#need[@]}" -eq 0 ] || apt_install "${need[@]}"

# 3. Build tools.
[ "${PODSIM_INSTALL_GO:-1}" = 1 ] || { say "done (without Go: PODSIM_INSTALL_GO=0)"; exit 0; }

need=()
have_cmd make || need+=(make)
have_cmd git || need+=(git)
[ "${#need[@]}" -eq 0 ] || apt_install "${need[@]}"

# go_minor prints the minor version of a "1.NN" Go version ("" if unknown).
go_minor() { sed -n 's/^[0-9]*:\{0,1\}1\.\([0-9][0-9]*\).*/\1/p' <<<"$1"; }
installed_go_minor() {
  have_cmd go || return 0
  go_minor "$(go env GOVERSION 2>/dev/null | sed 's/^go//')"
}
candidate_go_minor() {
  go_minor "$(apt-cache policy golang-go 2>/dev/null | sed -n 's/^ *Candidate: *//p')"
}

# Go 1.21 is the first go command that downloads newer toolchains itself.
min_go=21
m=$(installed_go_minor)
if [ -n "$m" ] && [ "$m" -ge "$min_go" ]; then
  say "go $(go env GOVERSION) present"
else
  apt_update
  m=$(candidate_go_minor)
  if [ -z "$m" ] || [ "$m" -lt "$min_go" ]; then
    # Debian 12 ships Go 1.19; bookworm-backports has a newer golang-go.
    codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release | tr -d '"')
    if [ "$codename" = bookworm ]; then
      list=/etc/apt/sources.list.d/podsim-bookworm-backports.list
      if ! grep -rqs --include='*.list' --include='*.sources' --include=sources.list \
        'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        say "golang-go in Debian 12 is too old; enabling bookworm-backports ($list)"
        echo "deb http://deb.debian.org/debian bookworm-backports main" >"$list"
      fi
      apt_updated=0
      apt_update
      apt_install -t bookworm-backports golang-go
    else
      die "apt offers no Go >= 1.$min_go (golang-go candidate: 1.${m:-?}): install Go from https://go.dev/dl and re-run"
    fi
  else
    apt_install golang-go
  fi
  m=$(installed_go_minor)
  if [ -z "$m" ] || [ "$m" -lt "$min_go" ]; then
    die "Go >= 1.$min_go is needed to build podsim; found '$(go env GOVERSION 2>/dev/null || echo none)'"
  fi
  say "installed go $(go env GOVERSION)"
fi
say "done"
