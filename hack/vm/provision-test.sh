#!/usr/bin/env bash
# Provisioning step "test" (Vagrantfile, run: "never"), and what `make
# vm-test` runs inside its VM: podsim's integration tests, as root.
#
#   vagrant up && vagrant provision --provision-with test
#
# It prints the VM's facts first (kernel, cgroup file system and
# controllers) and fails unless /sys/fs/cgroup is cgroup v2 (cgroup2fs):
# these VMs exist to test podsim on a pure cgroup v2 host.
# PODSIM_ALLOW_CGROUP_V1=1 runs the tests anyway.
#
# Which tests binary:
#   - $PODSIM_BIN_DIR/integration.test (built on the host with
#     `go test -c -o bin/integration.test ./integration`) if it runs, with
#     PODSIM_BIN=$PODSIM_BIN_DIR/podsim;
#   - else `make integration` in the source tree (needs Go: provisioning
#     step "install-packages").
# PODSIM_BIN_DIR defaults to $PODSIM_SRC/bin when it holds podsim, else to
# /usr/local/lib/podsim (provisioning step "install-podsim"). Arguments are
# passed to the test binary (e.g. -test.run TestIntegrationScenarios).
# PODSIM_TEST_TIMEOUT: the go test timeout (default 30m: slow VMs).
# Exit code: the tests' (0 = all passed).
set -euo pipefail

say() { echo "podsim-test: $*"; }
die() { echo "podsim-test: ERROR: $*" >&2; exit 1; }
runs() { [ -f "$1" ] && [ -x "$1" ] && "$@" >/dev/null 2>&1; }

[ "$(id -u)" -eq 0 ] || die "the integration tests need root"
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/go/bin${PATH:+:$PATH}"

src=${PODSIM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
bindir=${PODSIM_BIN_DIR:-}
if [ -z "$bindir" ]; then
  if [ -x "$src/bin/podsim" ]; then bindir=$src/bin; else bindir=/usr/local/lib/podsim; fi
fi
timeout=${PODSIM_TEST_TIMEOUT:-30m}

# The VM's facts.
cgfs=$(stat -fc %T /sys/fs/cgroup 2>/dev/null || echo "nothing mounted")
say "kernel: $(uname -srm)"
say "os: $(sed -n 's/^PRETTY_NAME=//p' /etc/os-release | tr -d '"')"
say "cgroup-fs: $cgfs"
if [ "$cgfs" = cgroup2fs ]; then
  say "cgroup controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
  say "cgroup root subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
elif [ "${PODSIM_ALLOW_CGROUP_V1:-0}" = 1 ]; then
  say "WARNING: not cgroup v2 ($cgfs); PODSIM_ALLOW_CGROUP_V1=1 so running anyway"
else
  die "/sys/fs/cgroup is $cgfs, not cgroup2fs: this VM is not pure cgroup v2 (boot with systemd.unified_cgroup_hierarchy=1, or set PODSIM_ALLOW_CGROUP_V1=1)"
fi
for c in ctr ip script setpriv; do
  command -v "$c" >/dev/null 2>&1 || die "$c is missing: run the install-packages provisioning (hack/vm/provision-packages.sh)"
done

testbin=$bindir/integration.test
if runs "$bindir/podsim" version && runs "$testbin" -test.list '.*'; then
  say "podsim: $("$bindir/podsim" version)"
  timeout 300 "$bindir/podsim" doctor || say "podsim doctor reported problems (above); running the tests anyway"
  say "running $testbin (PODSIM_BIN=$bindir/podsim, timeout $timeout) $*"
  # The tests find nothing relative to the working directory, but go test
  # runs them in the package directory: do the same when it is there.
  cd "$src/integration" 2>/dev/null || cd /tmp
  set +e
  PODSIM_BIN=$bindir/podsim "$testbin" -test.v -test.count=1 -test.timeout "$timeout" "$@"
  rc=$?
  set -e
elif command -v go >/dev/null 2>&1 && [ -f "$src/Makefile" ]; then
  [ $# -eq 0 ] || say "arguments ignored by 'make integration': $*"
  export GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
  say "no runnable $testbin: running 'make integration' in $src"
  set +e
  make -C "$src" integration
  rc=$?
  set -e
else
  die "neither a runnable $testbin nor Go and a source tree at $src: build the tests on the host (go test -c -o bin/integration.test ./integration) or run the install-packages provisioning"
fi
say "integration tests exit code: $rc"
exit "$rc"
