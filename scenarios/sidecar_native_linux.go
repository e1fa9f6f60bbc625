package scenarios

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// nativeSidecarYAML is the article's sidecar-logs pattern (an app that
// logs to a file in a shared emptyDir, a sidecar that streams the file to
// stdout) written the way Kubernetes now writes a sidecar: an init
// container with restartPolicy Always. busybox stands in for Elasticsearch;
// the app is a Job-like pod (restartPolicy Never) that writes its lines,
// waits for the scenario's go-ahead, and exits. busybox's tail -F looks at
// the file once a second: the sidecar's preStop hook (sleep 2) gives it
// the time to ship the app's last line before it is stopped (tail, PID 1
// without a SIGTERM handler, would otherwise die at once).
const nativeSidecarYAML = `apiVersion: v1
kind: Pod
metadata:
  name: native-sidecar
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 5
  initContainers:
  - name: logshipper
    image: busybox
    restartPolicy: Always
    command: ["sh", "-c", "touch /var/log/app/app.log && exec tail -n +1 -F /var/log/app/app.log"]
    lifecycle:
      preStop:
        sleep:
          seconds: 2
    volumeMounts:
    - name: logs
      mountPath: /var/log/app
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "for i in 1 2 3 4 5; do echo \"main: line $i\" >> /var/log/app/app.log; done; while [ ! -e /var/log/app/go ]; do sleep 0.1; done; echo 'main: done' >> /var/log/app/app.log"]
    volumeMounts:
    - name: logs
      mountPath: /var/log/app
  volumes:
  - name: logs
    emptyDir: {}
`

func nativeSidecar() *Scenario {
	return &Scenario{
		Name:      "native-sidecar",
		Summary:   "native sidecar: the log shipper is an init container with restartPolicy Always: it starts first, sees every line, and the pod completes with the app",
		Manifests: []string{nativeSidecarYAML},
		// Start order and the sidecar's end are read from the node's /proc
		// (the processes found from the pod's status), the phase from the
		// pod's status.
		Run: func(ctx context.Context, t *T) {
			const pod = "native-sidecar"
			p, err := t.Procs(ctx, pod)
			if !t.Check("the pod runs: the sidecar is an init container that keeps running beside main", "podsim get pod "+pod, fmt.Sprint(err), err == nil) {
				return
			}
			n, ok := t.NeedsNode(ctx, pod, "kernel: the log shipper's process started before main's")
			if !ok {
				return
			}
			side, main := p.PID["logshipper"], p.PID["main"]
			sideStart, e1 := procStartTicks(ctx, n, side)
			mainStart, e2 := procStartTicks(ctx, n, main)
			t.Check("kernel: the log shipper's process started before main's (field 22 of /proc/<pid>/stat, in clock ticks since boot)",
				fmt.Sprintf("awk '{print $22}' /proc/%d/stat /proc/%d/stat", side, main),
				fmt.Sprintf("logshipper pid %d started at %d (%v)\nmain       pid %d started at %d (%v)", side, sideStart, e1, main, mainStart, e2),
				e1 == nil && e2 == nil && stateWord(containerStatus(p.Pod, "logshipper")) == "running" && sideStart < mainStart)
			mnt := func(pid int) string {
				return grepLines(t.ReadHost(ctx, n, fmt.Sprintf("/proc/%d/mountinfo", pid)), " /var/log/app ", 1)
			}
			ms, mm := mnt(side), mnt(main)
			t.Check("kernel: both mount the same emptyDir directory at /var/log/app", fmt.Sprintf("grep ' /var/log/app ' /proc/{%d,%d}/mountinfo", side, main),
				ms+"\n"+mm, ms != "" && mm != "" && strings.Fields(ms)[3] == strings.Fields(mm)[3])
			out, code, cmd := t.Exec(ctx, pod, "main", "touch", "/var/log/app/go")
			t.Check("main is told to finish", cmd, out, code == 0)
			var ps string
			done := Eventually(ctx, 60*time.Second, func() bool {
				s, err := t.Procs(ctx, pod)
				if err != nil {
					return false
				}
				m, l := containerStatus(s.Pod, "main"), containerStatus(s.Pod, "logshipper")
				ps = fmt.Sprintf("phase %s, main %s (exit %d), logshipper %s (exit %d)", s.Pod.Status.Phase, stateWord(m), exitCode(m), stateWord(l), exitCode(l))
				return s.Pod.Status.Phase == corev1.PodSucceeded && stateWord(l) == "exited"
			})
			t.Check("the pod completes (phase Succeeded) when main does: the node agent stopped the sidecar (after its preStop hook)", "podsim get pod "+pod+" -o jsonpath='{.status.phase}'", ps, done)
			_, err = n.Inode(ctx, fmt.Sprintf("/proc/%d", side))
			gone := side != 0 && err != nil && (os.IsNotExist(err) || strings.Contains(err.Error(), "No such file"))
			t.Check("kernel: the sidecar's process is gone", fmt.Sprintf("ls -d /proc/%d", side), fmt.Sprint(err), gone)
			logs := t.Logs(ctx, pod, "logshipper")
			all := true
			for _, l := range []string{"main: line 1", "main: line 2", "main: line 3", "main: line 4", "main: line 5", "main: done"} {
				all = all && strings.Contains(logs, l)
			}
			t.Check("podsim logs "+pod+" -c logshipper: the sidecar streamed every line main wrote, the last one included", "podsim logs "+pod+" -c logshipper", logs, all)
		},
	}
}

// procStartTicks is a process's start time (field 22 of /proc/<pid>/stat,
// clock ticks after boot), as the node's kernel recorded it.
func procStartTicks(ctx context.Context, n Node, pid int) (uint64, error) {
	if pid == 0 {
		return 0, fmt.Errorf("not running")
	}
	b, err := n.ReadFile(ctx, fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// comm (field 2) may hold spaces: count from the last ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}
