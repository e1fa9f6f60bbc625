package scenarios

import (
	"context"
	"fmt"
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

func resourceLimits() *Scenario {
	return &Scenario{
		Name:      "resource-limits",
		Summary:   "limits are cgroup files: the container over its memory limit is OOM-killed, its sibling runs on",
		Manifests: []string{ResourceLimitsYAML},
		Run: func(ctx context.Context, t *T) {
			p, err := t.Procs(ctx, "limits")
			if err != nil {
				t.Check("read the pod's processes", "", err.Error(), false)
				return
			}
			var steady, hog string
			for _, c := range p.State.Containers {
				switch c.Name {
				case "steady":
					steady = c.Cgroup
				case "hog":
					hog = c.Cgroup
				}
			}
			var b strings.Builder
			fmt.Fprintf(&b, "cgroup %s (%s)\n", cgroups.Mode(), steady)
			vals := map[string]string{}
			for _, f := range cgroups.LimitFiles() {
				v, err := cgroups.ReadFile(steady, f)
				if err != nil {
					v = err.Error()
				}
				vals[f] = v
				fmt.Fprintf(&b, "%-22s %s\n", f, v)
			}
			memOK := vals["memory.limit_in_bytes"] == "67108864" || vals["memory.max"] == "67108864"
			cpuOK := vals["cpu.cfs_quota_us"] == "50000" && vals["cpu.cfs_period_us"] == "100000" || vals["cpu.max"] == "50000 100000"
			t.Check("kernel: steady's limits (64Mi, 500m CPU) are in its cgroup files: memory limit and CFS quota 50ms per 100ms",
				"cat <cgroup>/{"+strings.Join(cgroups.LimitFiles(), ",")+"}", b.String(), memOK && cpuOK)

			// Wait for the hog to hit its limit.
			deadline := time.Now().Add(180 * time.Second)
			var st string
			for time.Now().Before(deadline) {
				ps, err := t.M.Get(ctx, t.Namespace, "limits")
				if err == nil {
					for _, c := range ps.Containers {
						if c.Name == "hog" && c.Status == "exited" {
							st = fmt.Sprintf("hog exited with code %d, OOMKilled=%v; pod status %s", c.ExitCode, c.OOMKilled, ps.StatusText())
						}
					}
				}
				if st != "" {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			kills := cgroups.OOMKills(hog)
			t.Check("hog is OOM-killed: exit code 137 (SIGKILL), reason OOMKilled in 'podsim get pods'", "podsim get pods limits",
				st+fmt.Sprintf("\nkernel: oom_kill counter of hog's cgroup = %d", kills),
				strings.Contains(st, "code 137") && strings.Contains(st, "OOMKilled=true") && strings.Contains(st, "status OOMKilled") && kills > 0)

			out, code, cmd := t.Exec(ctx, "limits", "steady", "echo", "still running")
			t.Check("steady keeps running: the OOM kill stayed inside hog's cgroup", cmd, out, code == 0 && strings.Contains(out, "still running"))
		},
	}
}
