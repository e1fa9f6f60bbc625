package scenarios

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/podsim/podsim/cgroups"
)

// ResourceLimitsYAML: two containers with limits; "hog" allocates far more
// than its 32Mi limit, "steady" keeps running beside it.
const ResourceLimitsYAML = `apiVersion: v1
kind: Pod
metadata:
  name: limits
spec:
  # Never: the OOM-killed attempt stays, so its cgroup's oom_kill counter
  # can be read (with Always the node agent would restart hog: CrashLoopBackOff).
  restartPolicy: Never
  containers:
  - name: hog
    image: busybox
    # Keep growing a string in the shell's memory until the limit stops it.
    command: ['sh', '-c', 'sleep 1; x=0123456789abcdef; while true; do x="$x$x"; done']
    resources:
      limits: {memory: 32Mi, cpu: 250m}
  - name: steady
    image: busybox
    command: ['sleep', '5000']
    resources:
      requests: {cpu: 100m, memory: 16Mi}
      limits: {memory: 64Mi, cpu: 500m}
`

// QoSTierYAML: a BestEffort and a Guaranteed pod beside the Burstable
// "limits", to see the three land in kubelet's QoS tiers.
const QoSTierYAML = `apiVersion: v1
kind: Pod
metadata:
  name: qos-besteffort
spec:
  containers:
  - name: c
    image: busybox
    command: ['sleep', '5000']
---
apiVersion: v1
kind: Pod
metadata:
  name: qos-guaranteed
spec:
  containers:
  - name: c
    image: busybox
    command: ['sleep', '5000']
    resources:
      limits: {memory: 16Mi, cpu: 100m}
`

func resourceLimits() *Scenario {
	return &Scenario{
		Name:      "resource-limits",
		Summary:   "limits are cgroup files: the container over its memory limit is OOM-killed, its sibling runs on",
		Manifests: []string{ResourceLimitsYAML, QoSTierYAML},
		Run: func(ctx context.Context, t *T) {
			p, err := t.Procs(ctx, "limits")
			if err != nil {
				t.Check("read the pod's processes", "", err.Error(), false)
				return
			}
			claim := "kernel: steady's limits (64Mi, 500m CPU) are in its cgroup files: memory limit and CFS quota 50ms per 100ms"
			n, ok := t.NeedsNode(ctx, "limits", claim)
			if !ok {
				return
			}
			var b strings.Builder
			steady, _ := t.CgroupDir(ctx, n, p.PID["steady"], "memory.x")
			fmt.Fprintf(&b, "cgroup %s (%s, from /proc/%d/cgroup)\n", cgroups.Mode(), steady, p.PID["steady"])
			vals := map[string]string{}
			for _, f := range cgroups.LimitFiles() {
				v, err := t.CgroupFile(ctx, n, p.PID["steady"], f)
				if err != nil {
					v = err.Error()
				}
				vals[f] = v
				fmt.Fprintf(&b, "%-22s %s\n", f, v)
			}
			memOK := vals["memory.limit_in_bytes"] == "67108864" || vals["memory.max"] == "67108864"
			cpuOK := vals["cpu.cfs_quota_us"] == "50000" && vals["cpu.cfs_period_us"] == "100000" || vals["cpu.max"] == "50000 100000"
			t.Check(claim, "cat <cgroup>/{"+strings.Join(cgroups.LimitFiles(), ",")+"}", b.String(), memOK && cpuOK)

			// From inside, as a JVM or automaxprocs does: the read-only
			// cgroup filesystem at /sys/fs/cgroup is the container's own.
			out, code, cmd := t.Exec(ctx, "limits", "steady", "sh", "-c",
				"cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "+
					"cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us; "+
					"f=/sys/fs/cgroup/memory.max; [ -d /sys/fs/cgroup/memory ] && f=/sys/fs/cgroup/memory/memory.limit_in_bytes; touch $f 2>&1; "+
					"grep ' /sys/fs/cgroup' /proc/self/mounts | head -3")
			inOK := code == 0 && strings.Contains(out, "67108864") && (strings.Contains(out, "50000 100000") || strings.Contains(out, "50000\n100000")) &&
				strings.Contains(out, "Read-only file system")
			t.Check("inside: steady reads its own memory limit (64Mi) and CPU quota (50ms/100ms) from /sys/fs/cgroup, mounted read-only as CRI does",
				cmd, out, inOK)

			// kubelet's QoS tiers and weights (cgroupfs driver): the pod
			// cgroup's cpu.shares is its CPU requests (250m + 100m -> 358),
			// BestEffort pods weigh 2, the tiers as kubelet sets them. The pod
			// cgroup is the parent of a container's, read from the kernel.
			podCg := map[string]string{}
			for name, ctr := range map[string]string{"limits": "steady", "qos-besteffort": "c", "qos-guaranteed": "c"} {
				if q, err := t.Procs(ctx, name); err == nil {
					if d, err := t.CgroupDir(ctx, n, q.PID[ctr], "cpu.shares"); err == nil {
						podCg[name] = path.Dir(d)
					}
				}
			}
			weight := func(cg string) string {
				for _, f := range []string{"cpu.shares", "cpu.weight"} {
					if v, err := n.ReadFile(ctx, path.Join(cg, f)); err == nil {
						return f + "=" + strings.TrimSpace(string(v))
					}
				}
				return "?"
			}
			w := func(shares uint64) string {
				if cgroups.Mode() == "v2" {
					return fmt.Sprintf("cpu.weight=%d", cgroups.SharesToWeight(shares))
				}
				return fmt.Sprintf("cpu.shares=%d", shares)
			}
			// tier "" is the QoS root itself (Guaranteed pods sit in it):
			// /podsim for podsim, <cgroup-root>/kubepods for kubelet.
			want := []struct{ pod, tier, weight, tierWeight string }{
				{"qos-besteffort", "besteffort", w(2), w(2)},
				{"limits", "burstable", w(358), ""},
				{"qos-guaranteed", "", w(102), ""},
			}
			var qb strings.Builder
			qosOK := true
			for _, x := range want {
				cg := podCg[x.pod]
				got, tierGot := weight(cg), weight(path.Dir(cg))
				fmt.Fprintf(&qb, "%-15s %-45s %s; tier %s %s\n", x.pod, cg, got, path.Dir(cg), tierGot)
				tier := path.Base(path.Dir(cg))
				if tier != "besteffort" && tier != "burstable" {
					tier = ""
				}
				if cg == "" || tier != x.tier || got != x.weight || (x.tierWeight != "" && tierGot != x.tierWeight) {
					qosOK = false
				}
			}
			t.Check("kernel: BestEffort, Burstable and Guaranteed pods sit in kubelet's QoS tiers (besteffort/, burstable/, the parent) with kubelet's weights",
				"cat <qos root>/[<tier>/]pod<uid>/{cpu.shares|cpu.weight}", qb.String(), qosOK)

			// Wait for the hog to hit its limit: its status as the API (or
			// podsim get) shows it; podsim also reads the kernel's counter of
			// the container's cgroup, which it keeps after the exit.
			var st string
			Eventually(ctx, 180*time.Second, func() bool {
				q, err := t.Procs(ctx, "limits")
				if err != nil {
					return false
				}
				for _, c := range q.Pod.Status.ContainerStatuses {
					if c.Name == "hog" && c.State.Terminated != nil {
						st = fmt.Sprintf("hog exited with code %d, reason %s; pod phase %s", c.State.Terminated.ExitCode, c.State.Terminated.Reason, q.Pod.Status.Phase)
					}
				}
				return st != ""
			})
			kernelOK := true
			if p.State != nil {
				var hog string
				for _, c := range p.State.Containers {
					if c.Name == "hog" {
						hog = c.Cgroup
					}
				}
				kills := cgroups.OOMKills(hog)
				st += fmt.Sprintf("\nkernel: oom_kill counter of hog's cgroup = %d", kills)
				kernelOK = kills > 0
			}
			t.Check("hog is OOM-killed: exit code 137 (SIGKILL), reason OOMKilled", t.B.Name()+": get pods limits",
				st, strings.Contains(st, "code 137") && strings.Contains(st, "reason OOMKilled") && kernelOK)

			out, code, cmd = t.Exec(ctx, "limits", "steady", "echo", "still running")
			t.Check("steady keeps running: the OOM kill stayed inside hog's cgroup", cmd, out, code == 0 && strings.Contains(out, "still running"))
		},
	}
}
