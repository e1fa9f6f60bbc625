#!/bin/sh
# probe-load.sh: the node agent's CPU and memory with many probed pods
# (docs/performance.md). Run as root, from the repository, with nothing else
# on podsim's containerd:
#
#   sudo hack/probe-load.sh [http|exec|none] [PODS] [SECONDS]
#
# It applies PODS busybox pods (default 50), each with a 1 s readiness probe
# (http: httpGet against busybox httpd in the pod, from the host; exec: `cat
# /tmp/ready` through containerd's exec), waits until every pod is ready,
# samples the agent's (and containerd's) CPU time from /proc/<pid>/stat over
# SECONDS (default 60) and their RSS from /proc/<pid>/status, then deletes
# the pods.
set -eu
kind=${1:-http}
n=${2:-50}
secs=${3:-60}
podsim=${PODSIM:-./bin/podsim}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

i=0
while [ "$i" -lt "$n" ]; do
	if [ "$kind" = none ]; then # no probe: what the agent costs when nothing is due
		probe='' cmd='["sleep", "3600"]'
	elif [ "$kind" = exec ]; then
		probe='exec: {command: ["cat", "/tmp/ready"]}'
		cmd='["sh", "-c", "touch /tmp/ready && exec sleep 3600"]'
	else
		probe='httpGet: {path: /, port: 8080}'
		cmd='["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]'
	fi
	cat >>"$dir/pods.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: load-$i, labels: {app: probe-load}}
spec:
  containers:
  - name: c
    image: busybox
    command: $cmd
YAML
	[ -n "$probe" ] && printf '    readinessProbe:\n      %s\n      periodSeconds: 1\n' "$probe" >>"$dir/pods.yaml"
	echo --- >>"$dir/pods.yaml"
	i=$((i + 1))
done

t0=$(date +%s)
$podsim apply -f "$dir/pods.yaml" >/dev/null
echo "applied $n pods in $(($(date +%s) - t0)) s; waiting until all are ready"
until [ "$($podsim get pods | grep -c '^load-.* 1/1 ')" -eq "$n" ]; do sleep 1; done

agent=$(cat /run/podsim/agent/agent.pid)
ctrd=$(ps -eo pid=,args= | awk '$2 ~ /containerd$/ && /podsim/ {print $1; exit}')
tck=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
a0=$(ticks "$agent"); c0=$(ticks "$ctrd")
sleep "$secs"
a1=$(ticks "$agent"); c1=$(ticks "$ctrd")
rss() { awk '/^VmRSS|^VmHWM/ {printf "%s %s kB  ", $1, $2}' "/proc/$1/status"; }
echo "$n pods, readiness $kind every 1 s, over $secs s:"
echo "  agent (pid $agent):      CPU $(echo "$a0 $a1 $tck $secs" | awk '{printf "%.1f%%", ($2-$1)/$3/$4*100}') of one core; $(rss "$agent")"
echo "  containerd (pid $ctrd): CPU $(echo "$c0 $c1 $tck $secs" | awk '{printf "%.1f%%", ($2-$1)/$3/$4*100}') of one core; $(rss "$ctrd")"
echo "  goroutines/threads of the agent: $(awk '/^Threads/ {print $2}' "/proc/$agent/status") threads"
$podsim delete pods --all --grace-period=1 >/dev/null
