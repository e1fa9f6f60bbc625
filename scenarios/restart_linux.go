package scenarios

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/podsim/podsim/namespaces"
	"github.com/podsim/podsim/sandbox"
)

// RestartPodYAML is restart-keeps-network's pod: "crash" exits 1 after three
// seconds (appending a line to the emptyDir first), "steady" runs on.
const RestartPodYAML = `apiVersion: v1
kind: Pod
metadata:
  name: restarter
spec:
  terminationGracePeriodSeconds: 2
  volumes:
  - name: data
    emptyDir: {}
  containers:
  - name: crash
    image: busybox
    command: ['sh', '-c', 'echo x >> /data/runs; echo "run $(wc -l < /data/runs)"; sleep 3; exit 1']
    volumeMounts: [{name: data, mountPath: /data}]
  - name: steady
    image: busybox
    command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done']
    volumeMounts: [{name: data, mountPath: /data}]
`

// restartKeepsNetwork: a restarted container is a new container in the
// same sandbox (the pause holds the netns, so IP and netns stay; volumes
// belong to the pod); a dead pause means a new sandbox: new netns, new IP.
func restartKeepsNetwork() *Scenario {
	return &Scenario{
		Name:      "restart-keeps-network",
		Summary:   "a crashing container restarts in the same sandbox (same netns, IP, emptyDir); a dead pause means a new sandbox (new netns, new IP)",
		Manifests: []string{RestartPodYAML},
		// Restart counts, the emptyDir's host path and the pause's task come
		// from podsim's records and containerd.
		Needs: []Capability{CapPodsimRecord},
		Run: func(ctx context.Context, t *T) {
			before, ok := restartedOnce(ctx, t)
			if !ok {
				return
			}
			rebuiltSandbox(ctx, t, before)
		},
	}
}

// restartedOnce checks the first half: the restart in the same sandbox.
func restartedOnce(ctx context.Context, t *T) (*sandbox.PodState, bool) {
	var st *sandbox.PodState
	running := Eventually(ctx, 60*time.Second, func() bool {
		st, _ = t.M.Get(ctx, t.Namespace, "restarter")
		return st != nil && st.Containers[0].RestartCount >= 1 && st.Containers[0].Status == "running" && st.Containers[1].Status == "running"
	})
	if !t.Check("the node agent restarts crash (exit 1) as a new container", "podsim get pod restarter", podLine(st), running) {
		return nil, false
	}
	crash, steady := st.Containers[0], st.Containers[1]
	pids := map[string]int{"POD": int(st.Pause.PID), "crash (attempt " + fmt.Sprint(crash.RestartCount) + ")": int(crash.PID), "steady": int(steady.PID)}
	node, _ := t.node(ctx, "restarter")
	ids, table := t.NSCompare(ctx, node, "net", pids, "POD", "crash (attempt "+fmt.Sprint(crash.RestartCount)+")", "steady")
	pin, _ := readPin(st.NetNS)
	t.Check("kernel: the new attempt's process is in the pause's network namespace, the one pinned at "+st.NetNS,
		"readlink /proc/<pid>/ns/net; stat -L -c %i "+st.NetNS, fmt.Sprintf("%spin inode %d", table, pin),
		ids["POD"].Inode != 0 && ids["POD"].Inode == pin && ids["crash (attempt "+fmt.Sprint(crash.RestartCount)+")"] == ids["POD"] && ids["steady"] == ids["POD"])
	o, code, cmd := t.Exec(ctx, "restarter", "steady", "ip", "-o", "-4", "addr", "show", "eth0")
	t.Check("the pod IP stayed "+st.IP+" (the sandbox, not the container, owns eth0)", cmd, o, code == 0 && strings.Contains(o, " "+st.IP+"/"))
	runs, _ := os.ReadFile(filepath.Join(t.M.VolumeHostDir(st.Record, "data"), "runs"))
	n := strings.Count(string(runs), "x")
	t.Check("host: the emptyDir kept every run's line (volumes belong to the pod)",
		"cat "+filepath.Join(t.M.VolumeHostDir(st.Record, "data"), "runs"), fmt.Sprintf("%d lines after %d restarts", n, crash.RestartCount), n >= crash.RestartCount+1)
	var prev lockedBuffer
	err := t.M.Logs(ctx, t.Namespace, "restarter", "crash", sandbox.LogOptions{Tail: -1, Previous: true}, &prev)
	t.Check("logs --previous shows the last finished run", "podsim logs restarter -c crash --previous", prev.String(),
		err == nil && strings.Contains(prev.String(), fmt.Sprintf("run %d", crash.RestartCount)))
	steadyKept := crash.RestartCount >= 1 && steady.RestartCount == 0
	t.Check("the sibling steady ran on, never restarted", "podsim get pod restarter -o yaml", fmt.Sprintf("steady: restartCount %d, pid %d", steady.RestartCount, steady.PID), steadyKept)
	status := ""
	backoff := Eventually(ctx, 30*time.Second, func() bool {
		if st2, _ := t.M.Get(ctx, t.Namespace, "restarter"); st2 != nil {
			status = st2.StatusText()
		}
		return status == "CrashLoopBackOff"
	})
	t.Check("after a second crash it waits out kubelet's back-off: CrashLoopBackOff", "podsim get pods", "STATUS "+status, backoff)
	return st, true
}

// rebuiltSandbox kills the pause (SIGKILL to its host PID, as containerd
// reports it) and checks the agent's new sandbox from the kernel.
func rebuiltSandbox(ctx context.Context, t *T, before *sandbox.PodState) {
	task, err := pauseTask(ctx, t.M, before.ID)
	if err != nil {
		t.Check("find the pause's host PID through containerd", "ctr -n podsim tasks ls", err.Error(), false)
		return
	}
	oldNet, _ := namespaces.Of(int(task))
	oldSteady, _ := namespaces.Of(int(before.Containers[1].PID))
	// Hold the old namespace open while the agent rebuilds: the kernel
	// reuses a freed namespace's inode number, so only a namespace still
	// alive proves that the new one is another.
	if held, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", task)); err == nil {
		defer held.Close()
	}
	err = syscall.Kill(int(task), syscall.SIGKILL)
	t.Check(fmt.Sprintf("kill the pause: SIGKILL to its host PID %d (from containerd's task)", task), fmt.Sprintf("kill -9 %d", task),
		fmt.Sprintf("its netns %s", oldNet["net"]), err == nil && oldNet["net"].Inode != 0)
	var st *sandbox.PodState
	rebuilt := Eventually(ctx, 90*time.Second, func() bool {
		st, _ = t.M.Get(ctx, t.Namespace, "restarter")
		return st != nil && st.Pause.Status == "running" && st.Pause.PID != task && st.Containers[1].Status == "running" &&
			st.Containers[1].PID != before.Containers[1].PID && !st.Rebuilding
	})
	if !t.Check("the agent rebuilds the sandbox (SandboxChanged) and restarts every container", "podsim get pod restarter", podLine(st), rebuilt) {
		return
	}
	newPause, _ := namespaces.Of(int(st.Pause.PID))
	newSteady, _ := namespaces.Of(int(st.Containers[1].PID))
	pin, _ := readPin(st.NetNS)
	t.Check("kernel: a new network namespace (another inode, the old one held open meanwhile), pinned again, and steady's new process is in it",
		"readlink /proc/<pid>/ns/net", fmt.Sprintf("before: pause %s, steady %s\nafter:  pause %s, steady %s, pin inode %d",
			oldNet["net"], oldSteady["net"], newPause["net"], newSteady["net"], pin),
		newPause["net"].Inode != 0 && newPause["net"] != oldNet["net"] && newSteady["net"] == newPause["net"] && pin == newPause["net"].Inode)
	o, code, cmd := t.Exec(ctx, "restarter", "steady", "ip", "-o", "-4", "addr", "show", "eth0")
	t.Check(fmt.Sprintf("a new IP from CNI: %s, was %s", st.IP, before.IP), cmd, o,
		code == 0 && st.IP != before.IP && strings.Contains(o, " "+st.IP+"/"))
	t.Check("steady's restart count went up (every container restarts with a new sandbox)", "podsim get pod restarter -o yaml",
		fmt.Sprintf("steady: restartCount %d", st.Containers[1].RestartCount), st.Containers[1].RestartCount == 1)
	runs, _ := os.ReadFile(filepath.Join(t.M.VolumeHostDir(st.Record, "data"), "runs"))
	t.Check("host: the emptyDir is still the same, with its contents", "cat .../volumes/kubernetes.io~empty-dir/data/runs",
		fmt.Sprintf("%d lines", strings.Count(string(runs), "x")), strings.Count(string(runs), "x") >= before.Containers[0].RestartCount+1)
	evs, _ := t.M.PodEvents(st.ID)
	var reasons []string
	for _, e := range evs {
		reasons = append(reasons, e.Reason)
	}
	t.Check("events: SandboxChanged, as kubelet records it", "podsim get events", strings.Join(reasons, " "), contains(reasons, "SandboxChanged"))
}

func pauseTask(ctx context.Context, m *sandbox.Manager, id string) (uint32, error) {
	c, err := m.Client().LoadContainer(ctx, id)
	if err != nil {
		return 0, err
	}
	task, err := c.Task(ctx, nil)
	if err != nil {
		return 0, err
	}
	return task.Pid(), nil
}

func podLine(st *sandbox.PodState) string {
	if st == nil {
		return "no pod"
	}
	r, n := st.Ready()
	return fmt.Sprintf("restarter %d/%d %s restarts %d IP %s", r, n, st.StatusText(), st.Restarts(), st.IP)
}
