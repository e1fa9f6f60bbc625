#!/usr/bin/env bash
# Installs, with apt, what `make vm-test` needs on the host (the machine that
# builds the Debian 12 VM image and boots it with QEMU), and vagrant for
# `vagrant validate`. Only missing packages are installed; a no-op otherwise.
#
# vagrant is optional: if apt cannot provide it, this prints a note and
# carries on (.ci/run then skips only `vagrant validate`, saying so).
set -euo pipefail

have_cmd() { command -v "$1" >/dev/null 2>&1; }

need=()
have_cmd debootstrap || need+=(debootstrap)
have_cmd qemu-system-x86_64 || need+=(qemu-system-x86)
have_cmd qemu-img || need+=(qemu-utils)
# mkfs.ext4 -d (build a file system from a directory, no mount) and debugfs.
have_cmd mkfs.ext4 || need+=(e2fsprogs)
have_cmd flock || need+=(util-linux)
have_cmd sha256sum || need+=(coreutils)
# The archive keyring debootstrap checks the Debian mirror's Release with.
[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
# make vm-lint: the provisioning scripts must stay shellcheck clean.
have_cmd shellcheck || need+=(shellcheck)

want_vagrant=1
[ "${PODSIM_SKIP_VAGRANT:-0}" = 1 ] && want_vagrant=0
optional=()
if [ "$want_vagrant" = 1 ] && ! have_cmd vagrant; then optional+=(vagrant); fi

if [ "${#need[@]}" -eq 0 ] && [ "${#optional[@]}" -eq 0 ]; then
  echo "vm host deps: all present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "vm host deps: missing ${need[*]} ${optional[*]}; run 'sudo hack/vm/host-deps.sh'" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || echo "vm host deps: apt-get update failed; trying the cached package lists" >&2
if [ "${#need[@]}" -gt 0 ]; then
  echo "vm host deps: installing ${need[*]}"
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if [ "${#optional[@]}" -gt 0 ]; then
  echo "vm host deps: installing ${optional[*]} (optional, for 'vagrant validate')"
  if ! apt-get install -y -qq --no-install-recommends "${optional[@]}"; then
    echo "vm host deps: NOTE: could not install vagrant from apt; 'vagrant validate' will be skipped" >&2
  fi
fi
