#!/usr/bin/env bash
# `make vm-lint`: shellcheck the VM scripts and `vagrant validate -p` the
# Vagrantfile (-p: no provider is usable on a CI machine; the provider
# blocks are not checked). vagrant comes from hack/vm/host-deps.sh; when
# apt has no vagrant package at all, the validate step is skipped with a
# note, but a vagrant that apt offers and is not installed is an error.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
say() { echo "vm-lint: $*"; }
die() { echo "vm-lint: ERROR: $*" >&2; exit 1; }

command -v shellcheck >/dev/null 2>&1 || die "shellcheck is missing: run hack/vm/host-deps.sh (make vm-deps)"
shellcheck hack/vm/*.sh
say "shellcheck: hack/vm/*.sh clean"

if ! command -v vagrant >/dev/null 2>&1; then
  cand=$(apt-cache policy vagrant 2>/dev/null | sed -n 's/^ *Candidate: *//p')
  if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
    say "NOTE: vagrant is not installed and apt has no vagrant package here: skipping 'vagrant validate -p'"
    exit 0
  fi
  die "vagrant $cand is available from apt but not installed: run hack/vm/host-deps.sh (make vm-deps)"
fi
# Vagrant's state (.vagrant/, ~/.vagrant.d) goes to a temporary directory,
# not into the repository or root's home.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export VAGRANT_HOME=$tmp/home VAGRANT_DOTFILE_PATH=$tmp/dot
vagrant validate -p
say "vagrant validate -p: Vagrantfile valid ($(vagrant --version))"
