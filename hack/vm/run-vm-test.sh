#!/usr/bin/env bash
# `make vm-test`: podsim's integration tests in a real, pure cgroup v2
# Debian 12 VM, booted with QEMU on this machine.
#
#   1. build-image.sh: the cached Debian 12 image (debootstrap only when the
#      cache misses);
#   2. a per-run qcow2 overlay on it (the cache stays clean), and a run
#      directory with in/ (bin/*: podsim, pause, any helper, integration.test;
#      src/: integration/ and testdata/, which the tests read relative to
#      their package; provision-test.sh, guest-run.sh, test-args, test-env)
#      and out/, both exported with 9p;
#   3. QEMU: KVM when /dev/kvm really runs a guest, else TCG; -m 2048 -smp 2,
#      no network; serial console to a log (streamed here); the kernel
#      command line makes systemd pure cgroup v2 and start
#      podsim-vm-test.service, which runs guest-run.sh and powers off;
#   4. prints the VM's facts and the test output, checks the VM was cgroup
#      v2, and exits with the tests' exit code.
#
# The binaries must exist: make build && go test -c -o bin/integration.test
# ./integration (vm.mk does both). Environment:
#   PODSIM_VM_ACCEL=kvm|tcg      skip the KVM probe
#   PODSIM_VM_TIMEOUT=2400       seconds before QEMU is killed (40 min)
#   PODSIM_VM_TEST_ARGS="..."    arguments for the test binary (-test.run X)
#   PODSIM_VM_COMMAND="..."      run this bash command (as root, in a source
#                                snapshot with bin/ on PATH) instead of the
#                                tests, e.g. 'podsim run all' (debugging)
#   PODSIM_VM_TEST_ENV="A=1 B=2" environment for the tests in the VM; default
#                                under TCG: fewer rounds of the reliability
#                                tests (PODSIM_CYCLES=10 PODSIM_PARALLEL=10)
#   PODSIM_TEST_TIMEOUT=30m      go test -timeout in the VM
#   PODSIM_VM_APPEND="..."       more kernel parameters (e.g. loglevel=7)
#   PODSIM_VM_CPU, PODSIM_VM_TB_SIZE  QEMU -cpu model, TCG tb-size (MiB)
#   PODSIM_VM_CONTAINERD=system  the distribution's containerd.service runs
#                                and podsim uses it (as in a Vagrant VM);
#                    =embedded   it is masked and podsim starts its own
#   PODSIM_VM_MEMORY=2048 PODSIM_VM_CPUS=2
#   PODSIM_VM_CACHE=/var/cache/podsim-vm (image cache, last run's logs)
#   PODSIM_VM_BIN=<repo>/bin     the binaries to copy into the VM
# Exit codes: the tests' code; 124 on timeout; 125 when the harness fails
# (QEMU cannot run, no result came back, the VM was not cgroup v2).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache_root=${PODSIM_VM_CACHE:-/var/cache/podsim-vm}
timeout_s=${PODSIM_VM_TIMEOUT:-2400}
memory=${PODSIM_VM_MEMORY:-2048}
cpus=${PODSIM_VM_CPUS:-2}
containerd_mode=${PODSIM_VM_CONTAINERD:-system}
bin=${PODSIM_VM_BIN:-$repo/bin}

say() { echo "vm-test: $*"; }
fail() { echo "vm-test: FAILED: $*" >&2; exit 125; }

[ "$(id -u)" -eq 0 ] || fail "make vm-test needs root (it builds the image with debootstrap): sudo make vm-test"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || ! command -v qemu-img >/dev/null 2>&1; then
  fail "QEMU is not installed (qemu-system-x86_64, qemu-img): run hack/vm/host-deps.sh (make vm-deps). The VM test cannot be skipped."
fi
qemu-system-x86_64 -version >/dev/null 2>&1 || fail "qemu-system-x86_64 does not run on this host"
for b in podsim pause integration.test; do
  [ -x "$bin/$b" ] || fail "$bin/$b is missing: make build && go test -c -o bin/integration.test ./integration"
done
case $containerd_mode in system | embedded) ;; *) fail "PODSIM_VM_CONTAINERD must be system or embedded" ;; esac

t_start=$(date +%s)
"$repo/hack/vm/build-image.sh"
image=$("$repo/hack/vm/build-image.sh" --dir)
[ -f "$image/complete" ] || fail "no image in $image"
t_image=$(date +%s)

run=$(mktemp -d /var/tmp/podsim-vm-run.XXXXXX)
qemu_pid=
tail_pid=
probe_pid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local rc=$? p
  # Only the processes this script started, by PID.
  for p in "$qemu_pid" "$probe_pid" "$tail_pid"; do
    if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; fi
  done
  if [ -n "$qemu_pid" ]; then wait "$qemu_pid" 2>/dev/null || true; fi
  # Keep the last run's logs outside the repo for a look afterwards.
  if [ -d "$run" ]; then
    mkdir -p "$cache_root/last-run"
    rm -f "$cache_root/last-run"/*
    cp "$run"/console.log "$run"/qemu.log "$run"/out/* "$cache_root/last-run/" 2>/dev/null || true
    rm -rf "$run"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# KVM only when it really runs this kernel: /dev/kvm may open, and even run
# the BIOS, in a nested VM whose KVM cannot run Linux. The probe boots the
# image's kernel with no root file system: it must get to its "cannot mount
# root" panic (about a second with KVM; 8 s in TCG here) within 15 s.
kvm_works() {
  [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
  local log=$run/kvm-probe.log
  : >"$log"
  qemu-system-x86_64 -accel kvm -cpu host -m 256 -nodefaults -no-user-config -display none \
    -no-reboot -serial "file:$log" -kernel "$image/vmlinuz" -append "console=ttyS0 panic=-1" \
    </dev/null >"$run/kvm-probe.err" 2>&1 &
  probe_pid=$!
  for _ in $(seq 1 30); do
    grep -q 'Kernel panic' "$log" 2>/dev/null && break
    kill -0 "$probe_pid" 2>/dev/null || break
    sleep 0.5
  done
  kill "$probe_pid" 2>/dev/null || true
  wait "$probe_pid" 2>/dev/null || true
  probe_pid=
  grep -q 'Kernel panic' "$log"
}
accel=${PODSIM_VM_ACCEL:-}
if [ -z "$accel" ]; then
  if kvm_works; then
    accel=kvm
  else
    accel=tcg
    say "KVM is not usable here (/dev/kvm $([ -e /dev/kvm ] && echo "present, but a Linux kernel does not boot under it" || echo absent)): TCG, slower"
  fi
fi
# TCG: one host thread per vCPU; a plain x86-64 CPU model (with "max", Go
# and glibc pick AVX2 code paths, slower to emulate: measured ~15% here);
# the guest kernel skips its CPU-bug mitigations (page-table isolation on
# every syscall is costly emulated). None of this changes what podsim sees.
case $accel in
  kvm) accel_opts=kvm cpu=${PODSIM_VM_CPU:-host} test_env=${PODSIM_VM_TEST_ENV:-} ;;
  tcg)
    accel_opts=tcg,thread=multi${PODSIM_VM_TB_SIZE:+,tb-size=$PODSIM_VM_TB_SIZE} cpu=${PODSIM_VM_CPU:-qemu64}
    test_env=${PODSIM_VM_TEST_ENV-PODSIM_CYCLES=10 PODSIM_PARALLEL=10}
    ;;
  *) fail "PODSIM_VM_ACCEL must be kvm or tcg" ;;
esac

mkdir -p "$run/in" "$run/out"
cp -a "$bin" "$run/in/bin"
mkdir "$run/in/src"
for d in integration testdata; do
  if [ -d "$repo/$d" ]; then cp -a "$repo/$d" "$run/in/src/"; fi
done
cp "$repo/hack/vm/provision-test.sh" "$repo/hack/vm/guest-run.sh" "$run/in/"
# One argument per line, split like the shell would split the variable.
# shellcheck disable=SC2086
printf '%s\n' ${PODSIM_VM_TEST_ARGS:-} >"$run/in/test-args"
printf '%s' "${PODSIM_VM_COMMAND:-}" >"$run/in/command"
# shellcheck disable=SC2086
printf '%s\n' $test_env "PODSIM_TEST_TIMEOUT=${PODSIM_TEST_TIMEOUT:-30m}" >"$run/in/test-env"
qemu-img create -q -f qcow2 -F raw -b "$image/root.raw" "$run/root.qcow2"

cmdline="console=ttyS0 root=/dev/vda rw systemd.unified_cgroup_hierarchy=1"
cmdline+=" podsim.vmtest=1 systemd.wants=podsim-vm-test.service"
# No login prompt on the console: nobody logs in, and it garbles the log.
cmdline+=" panic=5 loglevel=4 systemd.mask=serial-getty@ttyS0.service"
[ "$accel" = tcg ] && cmdline+=" mitigations=off"
[ -n "${PODSIM_VM_APPEND:-}" ] && cmdline+=" $PODSIM_VM_APPEND"
[ "$containerd_mode" = embedded ] && cmdline+=" systemd.mask=containerd.service"

say "booting $(sed -n 's/^kernel: //p' "$image/info.txt") ($accel, ${memory} MB, $cpus CPUs, no network, containerd: $containerd_mode); timeout ${timeout_s} s"
say "test environment: ${test_env:-(none)}; kernel command line: $cmdline"
say "image $image/root.raw (cached), overlay and shares in $run"
: >"$run/console.log"
t_boot=$(date +%s)
qemu-system-x86_64 \
  -name podsim-vm-test \
  -accel "$accel_opts" -cpu "$cpu" -m "$memory" -smp "$cpus" \
  -nographic -nodefaults -no-user-config -no-reboot \
  -serial "file:$run/console.log" -monitor none \
  -nic none \
  -kernel "$image/vmlinuz" -initrd "$image/initrd.img" -append "$cmdline" \
  -drive "file=$run/root.qcow2,format=qcow2,if=virtio,cache=unsafe" \
  -device virtio-rng-pci \
  -virtfs "local,path=$run/in,mount_tag=podsim-in,security_model=none,readonly=on" \
  -virtfs "local,path=$run/out,mount_tag=podsim-out,security_model=none" \
  </dev/null >"$run/qemu.log" 2>&1 &
qemu_pid=$!
# Stream the console here, without the BIOS's terminal escapes (clear
# screen); tail ends by itself when QEMU does.
tail -n +1 -F --pid="$qemu_pid" "$run/console.log" 2>/dev/null |
  sed -u 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' &
tail_pid=$!

timed_out=0
while kill -0 "$qemu_pid" 2>/dev/null; do
  if [ $(($(date +%s) - t_boot)) -ge "$timeout_s" ]; then
    timed_out=1
    say "TIMEOUT after ${timeout_s} s: killing QEMU (pid $qemu_pid)"
    kill "$qemu_pid" 2>/dev/null || true
    sleep 5
    kill -9 "$qemu_pid" 2>/dev/null || true
    break
  fi
  sleep 1
done
set +e
wait "$qemu_pid"
qemu_rc=$?
set -e
qemu_pid=
wait "$tail_pid" 2>/dev/null || true
tail_pid=
t_end=$(date +%s)

echo
say "QEMU exited (status $qemu_rc) after $((t_end - t_boot)) s"
if [ -s "$run/qemu.log" ]; then
  say "QEMU said:"
  sed 's/^/  /' "$run/qemu.log"
fi

if [ -f "$run/out/vm-info" ]; then
  say "inside the VM:"
  sed 's/^/  /' "$run/out/vm-info"
fi
if [ -f "$run/out/test-output.log" ]; then
  echo "======================== test output (from the VM) ========================"
  cat "$run/out/test-output.log"
  echo "==========================================================================="
fi

code=
if [ -f "$run/out/exit-code" ]; then
  code=$(cat "$run/out/exit-code")
else
  # The share failed? The console marker is the second channel.
  code=$(sed -n 's/.*PODSIM-VM-RESULT: exit \([0-9][0-9]*\).*/\1/p' "$run/console.log" | tail -n 1)
  [ -z "$code" ] || say "no exit-code on the share; using the console marker"
fi
say "times: image $((t_image - t_start)) s, VM boot+tests $((t_end - t_boot)) s ($accel), total $((t_end - t_start)) s"
say "logs: $cache_root/last-run/ (console.log, test-output.log, vm-info)"
if [ "$timed_out" = 1 ]; then
  echo "vm-test: FAILED: the VM did not finish within ${timeout_s} s (PODSIM_VM_TIMEOUT); console log above" >&2
  exit 124
fi
case $code in
  '' | *[!0-9]*) fail "the VM reported no result (QEMU status $qemu_rc): see the console log above" ;;
esac
cgfs=$(sed -n 's/^cgroup-fs: //p' "$run/out/vm-info" 2>/dev/null)
if [ "$cgfs" != cgroup2fs ]; then
  fail "the VM's /sys/fs/cgroup was '${cgfs:-unknown}', not cgroup2fs (pure cgroup v2)"
fi
what="integration tests"
[ -n "${PODSIM_VM_COMMAND:-}" ] && what="command '$PODSIM_VM_COMMAND'"
if [ "$code" -eq 0 ]; then
  say "PASSED: $what in a cgroup v2 VM ($accel)"
else
  echo "vm-test: FAILED: $what in the VM exited $code" >&2
fi
exit "$code"
