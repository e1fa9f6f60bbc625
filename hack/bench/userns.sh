#!/bin/sh
# The cost of hostUsers: false (docs/performance.md): create/delete time of
# the article's podtest with and without a user namespace, N rounds each,
# and the disk the chowned image copies take (ctr snapshots usage).
# Run as root with podsim built:  sudo hack/bench/userns.sh [rounds]
set -eu
cd "$(dirname "$0")/../.."
P=./bin/podsim
N=${1:-5}
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
sed -e 's/name: podtest$/name: ptu/' -e 's/^spec:$/spec:\n  hostUsers: false/' hack/bench/podtest.yaml > "$D/u.yaml"
sed -e 's/name: podtest$/name: ptn/' hack/bench/podtest.yaml > "$D/n.yaml"
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
$P apply -f "$D/n.yaml" >/dev/null && $P delete pod ptn >/dev/null   # images built and imported once
i=0
while [ $i -lt "$N" ]; do
  for k in n u; do
    s=$(date +%s%N); $P apply -f "$D/$k.yaml" >/dev/null; echo "create $k $(ms "$s") ms"
    if [ $k = u ] && [ $i = 0 ]; then
      A=$($P system info | awk '/^address:/{print $2}')
      echo "snapshots of the hostUsers: false pod (name, size, inodes):"
      for sn in $(ctr -a "$A" -n podsim snapshots ls | awk '$1 ~ /-[0-9]+-[0-9]+$/ || $2 ~ /-[0-9]+-[0-9]+$/ {print $1}'); do
        ctr -a "$A" -n podsim snapshots usage "$sn" | tail -1
      done
    fi
    s=$(date +%s%N); $P delete pod pt$k >/dev/null; echo "delete $k $(ms "$s") ms"
  done
  i=$((i + 1))
done
