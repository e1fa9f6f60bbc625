#!/usr/bin/env bash
# Runs inside the `make vm-test` VM, started at boot by podsim-vm-test.service
# from the read-only 9p share /mnt/podsim-in:
#   src/             the files the tests read relative to their package
#                    (integration/, testdata/)
#   bin/             podsim, pause, helpers, integration.test
#   provision-test.sh, test-args (one per line), test-env (NAME=value lines)
#   command          optional: a bash script run instead of provision-test.sh
#                    (make vm-test PODSIM_VM_COMMAND='podsim run all')
# Copies src/ and bin/ to the VM's disk (/opt/podsim/src, with bin/ in it as
# in a checkout), runs provision-test.sh (the Vagrant "test" step) there and
# writes to the share /mnt/podsim-out:
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

src=/opt/podsim/src
say "guest up after $(cut -d' ' -f1 /proc/uptime) s; copying the binaries and test data from the share"
rm -rf /opt/podsim && mkdir -p /opt/podsim
if ! cp -a "$in/src" "$src" || ! cp -a "$in/bin" "$src/bin"; then
  say "ERROR: cannot copy $in/src and $in/bin"
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

# Test knobs from the host (PODSIM_CYCLES=...): NAME=value lines only.
if [ -f "$in/test-env" ]; then
  while IFS= read -r kv; do
    if [[ $kv =~ ^[A-Z_][A-Z0-9_]*=.*$ ]]; then
      export "${kv?}"
      say "env $kv"
    fi
  done <"$in/test-env"
fi

export PODSIM_BIN_DIR=$src/bin PODSIM_SRC=$src PODSIM_BIN=$src/bin/podsim
run_tests() {
  if [ -s "$in/command" ]; then
    say "running the command: $(cat "$in/command")"
    (cd "$src" && PATH="$src/bin:$PATH" bash "$in/command")
  else
    say "running provision-test.sh ${args[*]}"
    bash "$in/provision-test.sh" "${args[@]}"
  fi
}
start=$(date +%s)
# Full output to the share; test progress lines to the console.
run_tests 2>&1 |
  tee "$out/test-output.log" |
  grep --line-buffered -E '^(=== |\[(PASS|FAIL)\]|podsim-vm:|[[:space:]]*--- (PASS|FAIL|SKIP)|PASS$|FAIL|ok |podsim-test:|panic:)'
rc=${PIPESTATUS[0]}
echo "test-seconds: $(($(date +%s) - start))" >>"$out/vm-info"
echo "$rc" >"$out/exit-code.tmp" && mv "$out/exit-code.tmp" "$out/exit-code"
sync
say "tests took $(($(date +%s) - start)) s"
echo "PODSIM-VM-RESULT: exit $rc"
exit 0
