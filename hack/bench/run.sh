#!/usr/bin/env bash
# Runs `podsim bench` (and, with --ci, a short bench plus `podsim compare` of
# the article's podtest and of a shareProcessNamespace pod) the way
# docs/performance.md was made:
#
#   sudo hack/bench/run.sh --runs 20 --scale 100 --save bench.json
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
  # Short: every system and pod once (after a warm-up), memory with 2 pods.
  # compare fails (exit 2) on a difference in the namespace matrix or one
  # that docs/performance.md does not explain (--strict).
  exec flock -o "$LOCK" bash -c '
    set -euo pipefail
    ./bin/podsim bench --runs 2 --mem-pods 2 "$@"
    ./bin/podsim compare --strict hack/bench/podtest.yaml
    ./bin/podsim compare --strict hack/bench/podtest-sharepid.yaml
  ' bench-ci "$@"
fi
exec flock -o "$LOCK" ./bin/podsim bench "$@"
