package scenarios

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

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
// Restart counts and states come from the pod's status, the namespaces and
// the emptyDir from the node; only the netns pin is podsim's own record.
func restartKeepsNetwork() *Scenario {
	return &Scenario{
		Name:      "restart-keeps-network",
		Summary:   "a crashing container restarts in the same sandbox (same netns, IP, emptyDir); a dead pause means a new sandbox (new netns, new IP)",
		Manifests: []string{RestartPodYAML},
		Run: func(ctx context.Context, t *T) {
			before, ok := restartedOnce(ctx, t)
			if !ok {
				return
			}
			rebuiltSandbox(ctx, t, before)
		},
	}
}

// restarterRunning: crash restarted at least once and both containers run.
func restarterRunning(p *Procs) bool {
	crash, steady := containerStatus(p.Pod, "crash"), containerStatus(p.Pod, "steady")
	return restartCount(crash) >= 1 && stateWord(crash) == "running" && stateWord(steady) == "running" && p.PID["crash"] != 0 && p.PID["steady"] != 0
}

// readVolumeFile reads a file of a pod's volume on the node, from the
// volume's host directory.
func (t *T) readVolumeFile(ctx context.Context, n Node, pod, volume, file string) (string, string) {
	dir, err := t.B.VolumeDir(ctx, pod, volume)
	if err != nil {
		return "", err.Error()
	}
	p := path.Join(dir, file)
	if n == nil {
		return "", p
	}
	b, _ := n.ReadFile(ctx, p)
	return string(b), p
}

// restartedOnce checks the first half: the restart in the same sandbox.
func restartedOnce(ctx context.Context, t *T) (*Procs, bool) {
	var p *Procs
	running := Eventually(ctx, 60*time.Second, func() bool {
		p, _ = t.Procs(ctx, "restarter")
		return p != nil && restarterRunning(p)
	})
	if !t.Check("the node agent restarts crash (exit 1) as a new container", "podsim get pod restarter", podLine(p), running) {
		return nil, false
	}
	crash, steady := containerStatus(p.Pod, "crash"), containerStatus(p.Pod, "steady")
	attempt := "crash (attempt " + fmt.Sprint(crash.RestartCount) + ")"
	pids := map[string]int{"POD": p.PID["POD"], attempt: p.PID["crash"], "steady": p.PID["steady"]}
	node, _ := t.node(ctx, "restarter")
	ids, table := t.NSCompare(ctx, node, "net", pids, "POD", attempt, "steady")
	same := ids["POD"].Inode != 0 && ids[attempt] == ids["POD"] && ids["steady"] == ids["POD"]
	if t.Has(CapPodsimRecord) {
		pin, _ := readPin(p.State.NetNS)
		t.Check("kernel: the new attempt's process is in the pause's network namespace, the one pinned at "+p.State.NetNS,
			"readlink /proc/<pid>/ns/net; stat -L -c %i "+p.State.NetNS, fmt.Sprintf("%spin inode %d", table, pin), same && ids["POD"].Inode == pin)
	} else {
		t.Check("kernel: the new attempt's process is in the pause's network namespace", "readlink /proc/<pid>/ns/net", table, same)
		t.Needs(CapPodsimRecord, "kernel: that network namespace is the one pinned under /run/netns (the runtime's pin is not in the pod's API)")
	}
	ip := p.Pod.Status.PodIP
	o, code, cmd := t.Exec(ctx, "restarter", "steady", "ip", "-o", "-4", "addr", "show", "eth0")
	t.Check("the pod IP stayed "+ip+" (the sandbox, not the container, owns eth0)", cmd, o, code == 0 && ip != "" && strings.Contains(o, " "+ip+"/"))
	runs, rp := t.readVolumeFile(ctx, node, "restarter", "data", "runs")
	n := strings.Count(runs, "x")
	t.Check("host: the emptyDir kept every run's line (volumes belong to the pod)",
		"cat "+rp, fmt.Sprintf("%d lines after %d restarts", n, crash.RestartCount), n >= int(crash.RestartCount)+1)
	prev, err := t.B.PreviousLogs(ctx, "restarter", "crash")
	t.Check("logs --previous shows the last finished run", "podsim logs restarter -c crash --previous", prev,
		err == nil && strings.Contains(prev, fmt.Sprintf("run %d", crash.RestartCount)))
	steadyKept := crash.RestartCount >= 1 && steady.RestartCount == 0
	t.Check("the sibling steady ran on, never restarted", "podsim get pod restarter -o yaml", fmt.Sprintf("steady: restartCount %d, pid %d", steady.RestartCount, p.PID["steady"]), steadyKept)
	status := ""
	backoff := Eventually(ctx, 30*time.Second, func() bool {
		if p2, _ := t.Procs(ctx, "restarter"); p2 != nil {
			status = stateWord(containerStatus(p2.Pod, "crash"))
		}
		return status == "CrashLoopBackOff"
	})
	t.Check("after a second crash it waits out kubelet's back-off: CrashLoopBackOff", "podsim get pods", "STATUS "+status, backoff)
	return p, true
}

// rebuiltSandbox kills the pause (SIGKILL to its host PID: containerd's
// task with podsim, the pod cgroup's process outside every app container
// on a cluster's node) and checks the new sandbox from the kernel.
func rebuiltSandbox(ctx context.Context, t *T, before *Procs) {
	node, ok := t.NeedsNode(ctx, "restarter", "kill the pause")
	if !ok {
		return
	}
	task, from := before.PID["POD"], "the pod cgroup's process that is no app container's, on the node"
	if t.Has(CapPodsimRecord) {
		pid, err := pauseTask(ctx, t.M, before.State.ID)
		if err != nil {
			t.Check("find the pause's host PID through containerd", "ctr -n podsim tasks ls", err.Error(), false)
			return
		}
		task, from = int(pid), "containerd's task"
	}
	oldNet, _ := t.NS(ctx, node, task, "net")
	oldSteady, _ := t.NS(ctx, node, before.PID["steady"], "net")
	// Hold the old namespace open while the node agent rebuilds: the
	// kernel reuses a freed namespace's inode number, so only a namespace
	// still alive proves that the new one is another.
	if release, err := node.Hold(ctx, fmt.Sprintf("/proc/%d/ns/net", task)); err == nil {
		defer release()
	}
	err := node.Kill(ctx, task)
	t.Check(fmt.Sprintf("kill the pause: SIGKILL to its host PID %d (from %s)", task, from), fmt.Sprintf("kill -9 %d", task),
		fmt.Sprintf("its netns %s", oldNet), err == nil && oldNet.Inode != 0)
	var p *Procs
	rebuilt := Eventually(ctx, 90*time.Second, func() bool {
		p, _ = t.Procs(ctx, "restarter")
		if p == nil || p.PID["POD"] == 0 || p.PID["POD"] == task || stateWord(containerStatus(p.Pod, "steady")) != "running" ||
			p.PID["steady"] == 0 || p.PID["steady"] == before.PID["steady"] {
			return false
		}
		return p.State == nil || (p.State.Pause.Status == "running" && !p.State.Rebuilding)
	})
	if !t.Check("the agent rebuilds the sandbox (SandboxChanged) and restarts every container", "podsim get pod restarter", podLine(p), rebuilt) {
		return
	}
	newPause, _ := t.NS(ctx, node, p.PID["POD"], "net")
	newSteady, _ := t.NS(ctx, node, p.PID["steady"], "net")
	obs := fmt.Sprintf("before: pause %s, steady %s\nafter:  pause %s, steady %s", oldNet, oldSteady, newPause, newSteady)
	fresh := newPause.Inode != 0 && newPause != oldNet && newSteady == newPause
	if t.Has(CapPodsimRecord) {
		pin, _ := readPin(p.State.NetNS)
		t.Check("kernel: a new network namespace (another inode, the old one held open meanwhile), pinned again, and steady's new process is in it",
			"readlink /proc/<pid>/ns/net", fmt.Sprintf("%s, pin inode %d", obs, pin), fresh && pin == newPause.Inode)
	} else {
		t.Check("kernel: a new network namespace (another inode, the old one held open meanwhile), and steady's new process is in it",
			"readlink /proc/<pid>/ns/net", obs, fresh)
		t.Needs(CapPodsimRecord, "kernel: the new network namespace is pinned again under /run/netns")
	}
	ip, oldIP := p.Pod.Status.PodIP, before.Pod.Status.PodIP
	o, code, cmd := t.Exec(ctx, "restarter", "steady", "ip", "-o", "-4", "addr", "show", "eth0")
	t.Check(fmt.Sprintf("a new IP from CNI: %s, was %s", ip, oldIP), cmd, o,
		code == 0 && ip != "" && ip != oldIP && strings.Contains(o, " "+ip+"/"))
	steady := restartCount(containerStatus(p.Pod, "steady"))
	t.Check("steady's restart count went up (every container restarts with a new sandbox)", "podsim get pod restarter -o yaml",
		fmt.Sprintf("steady: restartCount %d", steady), steady == 1)
	runs, rp := t.readVolumeFile(ctx, node, "restarter", "data", "runs")
	if t.Has(CapPodsimRecord) {
		rp = "cat .../volumes/kubernetes.io~empty-dir/data/runs"
	} else {
		rp = "cat " + rp
	}
	t.Check("host: the emptyDir is still the same, with its contents", rp,
		fmt.Sprintf("%d lines", strings.Count(runs, "x")), strings.Count(runs, "x") >= restartCount(containerStatus(before.Pod, "crash"))+1)
	var reasons []string
	Eventually(ctx, 10*time.Second, func() bool {
		reasons = t.eventReasons(ctx, "restarter")
		return contains(reasons, "SandboxChanged")
	})
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

func podLine(p *Procs) string {
	if p == nil {
		return "no pod"
	}
	if st := p.State; st != nil {
		r, n := st.Ready()
		return fmt.Sprintf("restarter %d/%d %s restarts %d IP %s", r, n, st.StatusText(), st.Restarts(), st.IP)
	}
	r := 0
	for _, s := range p.Pod.Status.ContainerStatuses {
		if s.Ready {
			r++
		}
	}
	var states []string
	for _, c := range p.Pod.Spec.Containers {
		states = append(states, c.Name+" "+stateWord(containerStatus(p.Pod, c.Name)))
	}
	return fmt.Sprintf("restarter %d/%d %s (%s) restarts %d IP %s", r, len(p.Pod.Spec.Containers), p.Pod.Status.Phase, strings.Join(states, ", "), appRestarts(p.Pod), p.Pod.Status.PodIP)
}
