#!/usr/bin/env bash
# Runs inside the `make vm-test` VM, started at boot by podsim-vm-test.service
# from the read-only 9p share /mnt/podsim-in (bin/: podsim, pause, helpers,
# integration.test; provision-test.sh; test-args). Copies the binaries to
# the VM's disk, runs provision-test.sh (the Vagrant "test" step) and writes
# to the share /mnt/podsim-out:
#   vm-info          kernel, cgroup file system and controllers, boot time
#   test-output.log  the whole output of provision-test.sh
#   exit-code        its exit code (written last)
# The console (ttyS0, the host's log) gets progress lines and a final
#   PODSIM-VM-RESULT: exit <code>
# marker. The unit powers the VM off when this returns.
set -uo pipefail

in=/mnt/podsim-in
out=/mnt/podsim-out
say() { echo "podsim-vm: $*"; }

say "guest up after $(cut -d' ' -f1 /proc/uptime) s; copying binaries from the share"
rm -rf /opt/podsim && mkdir -p /opt/podsim
if ! cp -a "$in/bin" /opt/podsim/bin; then
  say "ERROR: cannot copy $in/bin"
  echo 125 >"$out/exit-code"
  echo "PODSIM-VM-RESULT: exit 125"
  exit 0
fi

{
  echo "kernel: $(uname -srm)"
  echo "cgroup-fs: $(stat -fc %T /sys/fs/cgroup)"
  echo "cgroup-controllers: $(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)"
  echo "cgroup-subtree-control: $(cat /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null)"
  echo "cmdline: $(cat /proc/cmdline)"
  echo "cpus: $(nproc), memory: $(awk '/MemTotal/ { print $2 " kB" }' /proc/meminfo)"
  echo "containerd.service: $(systemctl is-active containerd.service 2>/dev/null)"
  echo "boot-seconds: $(cut -d' ' -f1 /proc/uptime)"
} >"$out/vm-info"
sed 's/^/podsim-vm: /' "$out/vm-info"

args=()
if [ -f "$in/test-args" ]; then
  while IFS= read -r a; do [ -n "$a" ] && args+=("$a"); done <"$in/test-args"
fi

say "running provision-test.sh ${args[*]}"
start=$(date +%s)
# Full output to the share; test progress lines to the console.
PODSIM_BIN_DIR=/opt/podsim/bin PODSIM_SRC=/opt/podsim \
  bash "$in/provision-test.sh" "${args[@]}" 2>&1 |
  tee "$out/test-output.log" |
  grep --line-buffered -E '^(=== RUN|[[:space:]]*--- (PASS|FAIL|SKIP)|PASS$|FAIL|ok |podsim-test:|panic:)'
rc=${PIPESTATUS[0]}
echo "test-seconds: $(($(date +%s) - start))" >>"$out/vm-info"
echo "$rc" >"$out/exit-code.tmp" && mv "$out/exit-code.tmp" "$out/exit-code"
sync
say "tests took $(($(date +%s) - start)) s"
echo "PODSIM-VM-RESULT: exit $rc"
exit 0
