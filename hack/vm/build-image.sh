#!/usr/bin/env bash
# Builds, once, the Debian 12 disk image `make vm-test` boots, and caches it:
#
#   $PODSIM_VM_CACHE/<key>/root.raw     ext4 root file system (sparse, raw)
#                         /vmlinuz      kernel  } for QEMU's -kernel/-initrd
#                         /initrd.img   initrd  } (no boot loader)
#                         /packages.txt what is installed, /build.log
#
# The key hashes everything that goes into the image (this script,
# provision-packages.sh, the test unit, hack/install-deps.sh, the mirror):
# a run that finds <key>/complete skips debootstrap. Other keys are pruned
# after a successful build.
#
# debootstrap (minbase + kernel, systemd, udev) from the Debian mirror the
# host's apt uses (PODSIM_VM_MIRROR overrides), then the same
# provision-packages.sh Vagrant runs, inside the chroot (PODSIM_INSTALL_GO=0:
# the binaries are built on the host). mkfs.ext4 -d turns the directory into
# a file system image without any mount or loop device.
#
#   build-image.sh          build if missing; print progress
#   build-image.sh --dir    only print the cache directory of the current key
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache_root=${PODSIM_VM_CACHE:-/var/cache/podsim-vm}
suite=bookworm
arch=amd64
image_size=${PODSIM_VM_IMAGE_SIZE:-8G}   # sparse: uses what is written
# Files copied or executed into the image: they make the cache key.
inputs=(hack/vm/build-image.sh hack/vm/provision-packages.sh hack/vm/podsim-vm-test.service hack/install-deps.sh)

say() { echo "vm-image: $*"; }
die() { echo "vm-image: ERROR: $*" >&2; exit 1; }

# The host apt's package index targets: "deb bookworm http://.../debian/".
targets() {
  # shellcheck disable=SC2016 # apt's own $(FIELD) syntax
  apt-get indextargets --format '$(TARGET_OF) $(RELEASE) $(REPO_URI)' 2>/dev/null
}
# The host apt's Debian mirror for $suite, e.g. http://deb.debian.org/debian/.
mirror() {
  if [ -n "${PODSIM_VM_MIRROR:-}" ]; then echo "$PODSIM_VM_MIRROR"; return; fi
  local m
  m=$(targets |
    awk -v s="$suite" '$1 == "deb" && $2 == s { print $3; exit }')
  echo "${m:-http://deb.debian.org/debian/}"
}
# Other suites of the host's sources (updates, security) for the image's apt.
extra_sources() {
  targets |
    awk -v s="$suite" '$1 == "deb" && ($2 == s "-updates" || $2 == s "-security") { print $3 " " $2 }' | sort -u
}

for f in "${inputs[@]}"; do [ -f "$repo/$f" ] || die "missing $repo/$f"; done
MIRROR=$(mirror)
key=$( {
  echo "podsim-vm-image v1 $suite $arch $MIRROR $image_size"
  extra_sources
  cd "$repo" && sha256sum "${inputs[@]}"
} | sha256sum | cut -c1-16)
dir=$cache_root/$key

if [ "${1:-}" = --dir ]; then echo "$dir"; exit 0; fi
[ $# -eq 0 ] || die "usage: $0 [--dir]"

if [ -f "$dir/complete" ]; then
  say "cached image $dir (key $key): skipping debootstrap"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "building the VM image needs root (debootstrap, chroot): sudo make vm-test"
for c in debootstrap mkfs.ext4 chroot flock; do
  command -v "$c" >/dev/null 2>&1 || die "$c is missing: run hack/vm/host-deps.sh (make vm-deps)"
done

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
if ! flock -n 9; then
  say "another build holds $cache_root/.lock: waiting"
  flock 9
fi
if [ -f "$dir/complete" ]; then say "cached image $dir (built meanwhile)"; exit 0; fi

tmp=$(mktemp -d "$cache_root/build.XXXXXX")
rootfs=$tmp/rootfs
# Unmount whatever is mounted below $tmp (debootstrap mounts proc and sys in
# the target; this script mounts proc), deepest first; remove $tmp only when
# nothing is mounted below it any more, never through a mount.
cleanup() {
  local rc=$? m left
  for _ in 1 2 3; do
    left=0
    while read -r m; do
      left=1
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(awk -v p="$tmp/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    [ "$left" = 0 ] && break
  done
  if awk -v p="$tmp/" 'index($5, p) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
    echo "vm-image: WARNING: mounts remain below $tmp; not removing it" >&2
  else
    rm -rf "$tmp"
  fi
  [ "$rc" -eq 0 ] || echo "vm-image: FAILED (exit $rc); build log: $cache_root/build.log" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Build output goes to a log (kept with the image); its tail is shown when a
# step fails.
log=$cache_root/build.log
: >"$log"
step() {
  local what=$1 rc=0
  shift
  say "$what (log: $log)"
  "$@" >>"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "vm-image: '$what' failed (exit $rc); the end of $log:" >&2
    tail -n 60 "$log" | sed 's/^/  | /' >&2
    exit "$rc"
  fi
}
in_chroot() {
  chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}
enabled_units() {
  { in_chroot systemctl list-unit-files --state=enabled --no-legend --no-pager 2>>"$log" || true; } |
    awk '{ print $1 }' | sort
}

t0=$(date +%s)
say "building $dir (key $key) from $MIRROR $suite"
# The kernel, systemd and udev make it a bootable system; podsim's own
# packages come from provision-packages.sh below (the Vagrant path).
step "debootstrap --variant=minbase $suite + kernel, systemd, udev" \
  debootstrap --variant=minbase --arch="$arch" --components=main \
  --include=linux-image-amd64,systemd,systemd-sysv,udev,kmod,dbus \
  "$suite" "$rootfs" "$MIRROR"
t1=$(date +%s)
say "debootstrap took $((t1 - t0)) s"

# apt in the chroot: the host's suites, the host's DNS; no daemons started.
{
  echo "deb $MIRROR $suite main"
  extra_sources | while read -r uri rel; do echo "deb $uri $rel main"; done
} >"$rootfs/etc/apt/sources.list"
cp -L /etc/resolv.conf "$rootfs/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 755 "$rootfs/usr/sbin/policy-rc.d"

mkdir -p "$rootfs/opt/podsim-provision/hack/vm"
cp "$repo/hack/install-deps.sh" "$rootfs/opt/podsim-provision/hack/"
cp "$repo/hack/vm/provision-packages.sh" "$rootfs/opt/podsim-provision/hack/vm/"
mountpoint -q "$rootfs/proc" || mount -t proc proc "$rootfs/proc"
before=$(enabled_units)
step "provision-packages.sh in the chroot (hack/install-deps.sh + the tests' tools)" \
  in_chroot PODSIM_INSTALL_GO=0 PODSIM_SRC=/opt/podsim-provision \
  /bin/bash /opt/podsim-provision/hack/vm/provision-packages.sh
# On a running systemd (a Vagrant VM) install-deps.sh disables the services
# of the packages it installs only for their programs (nginx, redis...); in
# a chroot it cannot tell. Do the same here, generically: every unit the
# provisioning enabled except containerd's (as on Ubuntu or Debian after
# apt-get install containerd; PODSIM_VM_CONTAINERD=embedded masks it).
for u in $(comm -13 <(echo "$before") <(enabled_units)); do
  [ "$u" = containerd.service ] && continue
  say "disabling $u (enabled by a package the provisioning installed)"
  in_chroot systemctl disable "$u" >>"$log" 2>&1
done
in_chroot apt-get clean
umount "$rootfs/proc"
rm -rf "$rootfs/opt/podsim-provision" "$rootfs/usr/sbin/policy-rc.d" "$rootfs"/var/lib/apt/lists/*
t2=$(date +%s)
say "provisioning in the chroot took $((t2 - t1)) s"

# A VM without network that runs one unit and powers off.
echo podsim-vm >"$rootfs/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 podsim-vm\n::1 localhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
: >"$rootfs/etc/resolv.conf"
echo '/dev/vda / ext4 rw,errors=remount-ro 0 0' >"$rootfs/etc/fstab"
: >"$rootfs/etc/machine-id"   # a new one per boot
cp "$repo/hack/vm/podsim-vm-test.service" "$rootfs/etc/systemd/system/"
# Not needed in a throw-away VM (the test unit is pulled in from the kernel
# command line by run-vm-test.sh, not enabled here).
for u in apt-daily.timer apt-daily-upgrade.timer getty@tty1.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$u"
done

kernel=$(find "$rootfs/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | tail -n 1)
initrd=$(find "$rootfs/boot" -maxdepth 1 -name 'initrd.img-*' | sort | tail -n 1)
if [ -z "$kernel" ] || [ -z "$initrd" ]; then die "no kernel or initrd in $rootfs/boot"; fi

out=$tmp/out
mkdir "$out"
cp "$kernel" "$out/vmlinuz"
cp "$initrd" "$out/initrd.img"
# shellcheck disable=SC2016 # dpkg-query's own ${Field} syntax
chroot "$rootfs" dpkg-query -W -f '${Package} ${Version}\n' >"$out/packages.txt"
{
  echo "key: $key"
  echo "built: $(date -u +%FT%TZ)"
  echo "mirror: $MIRROR $suite"
  echo "kernel: $(basename "$kernel")"
  echo "inputs:"; (cd "$repo" && sha256sum "${inputs[@]}")
} >"$out/info.txt"

step "mkfs.ext4 -d" mkfs.ext4 -q -F -L podsim-root -d "$rootfs" "$out/root.raw" "$image_size"
t3=$(date +%s)
say "image file took $((t3 - t2)) s ($(du -sh "$out/root.raw" | cut -f1) used)"
echo "timings: debootstrap $((t1 - t0)) s, packages $((t2 - t1)) s, image $((t3 - t2)) s, total $((t3 - t0)) s" >>"$out/info.txt"
cp "$log" "$out/build.log"
touch "$out/complete"

rm -rf "$dir"
mv "$out" "$dir"
# Keep one image: remove other keys' (16 hex digits) directories.
find "$cache_root" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended \
  -regex '.*/[0-9a-f]{16}' ! -path "$dir" -exec rm -rf {} +
say "done in $((t3 - t0)) s: $dir"
