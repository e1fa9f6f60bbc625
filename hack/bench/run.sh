#!/usr/bin/env bash
# Runs `podsim bench` (with --ci, a short one) the way docs/performance.md
# was made:
#
#   sudo hack/bench/run.sh --runs 15 --scale 100 --save bench.json
#   sudo hack/bench/run.sh --ci        # what CI should run: quick, checks it still works
#
# It installs the reference systems first (hack/bench/install-reference.sh:
# crictl into bin/, Debian's podman), builds podsim if needed, and holds the
# host-wide lock the integration tests take (/tmp/podsim-integration.lock,
# PODSIM_LOCK to change it) for the whole run, so no other test's pods,
# netns or veths are around while it measures and it leaves none behind.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" -ne 0 ]; then
  echo "bench: needs root (it builds real pods): sudo $0 $*" >&2
  exit 1
fi
LOCK="${PODSIM_LOCK:-/tmp/podsim-integration.lock}"
./hack/bench/install-reference.sh
# A podsim binary from before `bench` existed is rebuilt.
if [ ! -x bin/pause ] || ! ./bin/podsim bench --help >/dev/null 2>&1; then make build; fi

if [ "${1:-}" = "--ci" ]; then
  shift
  # Short: every system and pod twice (after a warm-up), memory with 2 pods,
  # a scale run of 3 pods through the CLI only (the 100-pod run is too long
  # for CI) with the agent's idle CPU over 2 s.
  # (`podsim compare` of podtest and a shareProcessNamespace pod runs in the
  # integration tests: TestIntegrationCompareWithCRI.)
  exec flock -o "$LOCK" ./bin/podsim bench --runs 2 --mem-pods 2 --scale 3 --scale-systems podsim-cli --idle-window 2s "$@"
fi
exec flock -o "$LOCK" ./bin/podsim bench "$@"
