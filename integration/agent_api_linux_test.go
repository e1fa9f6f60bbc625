package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const agentLog = "/run/podsim/agent/agent.log"

// agentRequests is the node agent's count of CLI commands it ran, from its
// status file.
func agentRequests(t *testing.T) int64 {
	t.Helper()
	var st struct {
		Socket   string `json:"socket"`
		Requests int64  `json:"requests"`
	}
	b, err := os.ReadFile("/run/podsim/agent/status.json")
	if err != nil || json.Unmarshal(b, &st) != nil || st.Socket == "" {
		return -1
	}
	return st.Requests
}

// servingAgent makes sure an agent of this podsim binary runs and serves
// its socket: a served command with no agent running starts one.
func servingAgent(t *testing.T) {
	t.Helper()
	// An agent of another podsim binary (another checkout's, left running)
	// declines this binary's commands by design: stop it, say so.
	if pid := agentPID(t); pid > 0 {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		self, _ := filepath.EvalSymlinks(podsimBin)
		if exe != self {
			t.Logf("the running node agent (pid %d) is %s, not %s: stopping it", pid, exe, self)
			stopAgent(t)
		}
	}
	if agentPID(t) == 0 {
		podsim(t, "", "delete", "pod", "agent-api-none") // runs in-process, starts the agent
	}
	waitFor(t, 30*time.Second, "the node agent to serve its socket", func() bool { return agentRequests(t) >= 0 })
}

// podsimProc runs podsim and returns its PID with the result.
func podsimProc(t *testing.T, dir, stdin string, env []string, args ...string) (int, result) {
	t.Helper()
	cmd := exec.Command(podsimBin, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errb, strings.NewReader(stdin)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(cmdTimeout(), func() { cmd.Process.Kill() })
	defer timer.Stop()
	cmd.Wait()
	return cmd.Process.Pid, result{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
}

func agentLogHas(s string) bool {
	b, _ := os.ReadFile(agentLog)
	return bytes.Contains(b, []byte(s))
}

func agentPod(name string, extra string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:%s
  containers:
  - name: c1
    image: busybox
    command: ['sleep', '5000']
  - name: c2
    image: busybox
    command: ['sleep', '5000']
`, name, extra)
}

// TestIntegrationAgentAPI: with the node agent running, apply and delete
// are run by the agent (its log names the CLI's PID, which the kernel gave
// it with SO_PEERCRED, and its request counter moves), print exactly what
// they print in-process (PODSIM_NO_AGENT=1), with relative paths and stdin
// the CLI's; concurrent applies all succeed with their own network
// namespaces and IPs.
func TestIntegrationAgentAPI(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	servingAgent(t)
	dir := t.TempDir()
	// nodeSelector is warned about: stderr has something to compare.
	y := agentPod("agent-api", "\n  nodeSelector: {disk: ssd}")
	if err := os.WriteFile(filepath.Join(dir, "m.yaml"), []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { podsim(t, "", "delete", "pod", "agent-api", "--now") })

	type run struct {
		args  []string
		stdin string
	}
	steps := []run{
		{[]string{"apply", "-f", "m.yaml"}, ""}, // relative to the CLI's directory
		{[]string{"apply", "-f", "-"}, y},       // stdin
		{[]string{"delete", "-f", "m.yaml", "--now"}, ""},
		{[]string{"delete", "pod", "agent-api"}, ""}, // an error: gone
		{[]string{"apply", "-f", "missing.yaml"}, ""},
		{[]string{"create", "configmap", "agent-api", "--from-literal=a=b"}, ""},
		{[]string{"delete", "configmap", "agent-api"}, ""},
	}
	// The first pod the agent builds may build podsim's images (it says
	// so on stderr): not what is compared.
	podsimProc(t, dir, "", nil, "apply", "-f", "m.yaml")
	podsimProc(t, dir, "", nil, "delete", "-f", "m.yaml", "--now")
	var viaAgent []result
	for _, s := range steps {
		before := agentRequests(t)
		pid, r := podsimProc(t, dir, s.stdin, nil, s.args...)
		if got := agentRequests(t); got != before+1 {
			t.Fatalf("podsim %v: the agent's request count went from %d to %d, want +1 (not run by the agent?)\n%s", s.args, before, got, r)
		}
		if want := fmt.Sprintf("from pid %d: podsim %s", pid, strings.Join(s.args, " ")); !agentLogHas(want) {
			t.Fatalf("the agent's log has no line %q", want)
		}
		if s.args[0] == "apply" && r.code == 0 {
			if pids := containerPIDs(t, string(getPod(t, "agent-api").UID)); len(pids) != 3 {
				t.Fatalf("want pause and 2 containers in the pod cgroup, got %v", pids)
			}
		}
		viaAgent = append(viaAgent, r)
	}
	for i, s := range steps {
		before := agentRequests(t)
		_, r := podsimProc(t, dir, s.stdin, []string{"PODSIM_NO_AGENT=1"}, s.args...)
		if got := agentRequests(t); got != before {
			t.Fatalf("PODSIM_NO_AGENT=1 podsim %v was run by the agent", s.args)
		}
		if r.String() != viaAgent[i].String() {
			t.Errorf("podsim %v: the agent's run printed\n%s\n\nin-process:\n%s", s.args, viaAgent[i], r)
		}
	}
	if !strings.Contains(viaAgent[0].stderr, "nodeSelector") || viaAgent[3].code == 0 || viaAgent[4].code == 0 {
		t.Errorf("the runs compared are not the ones meant (warning, errors): %v", viaAgent)
	}

	t.Run("concurrent", func(t *testing.T) {
		const n = 5
		before := agentRequests(t)
		var wg sync.WaitGroup
		res := make([]result, n)
		for i := 0; i < n; i++ {
			name := fmt.Sprintf("agent-api-%d", i)
			p := writeManifest(t, agentPod(name, ""))
			t.Cleanup(func() { podsim(t, "", "delete", "pod", name, "--now") })
			wg.Add(1)
			go func() { defer wg.Done(); _, res[i] = podsimProc(t, "", "", nil, "apply", "-f", p) }()
		}
		wg.Wait()
		ips, inodes := map[string]bool{}, map[string]bool{}
		for i, r := range res {
			if r.code != 0 {
				t.Fatalf("apply %d: %s", i, r)
			}
			p := getPod(t, fmt.Sprintf("agent-api-%d", i))
			pids := containerPIDs(t, string(p.UID))
			for _, pid := range pids {
				inodes[nsInode(t, pid, "net")] = true
				break
			}
			ips[p.Status.PodIP] = p.Status.PodIP != ""
		}
		if got := agentRequests(t); got != before+n {
			t.Errorf("the agent ran %d of the %d applies", got-before, n)
		}
		if len(ips) != n || len(inodes) != n || ips[""] {
			t.Errorf("want %d pods with their own IP and netns, got IPs %v, netns %v", n, ips, inodes)
		}
	})
}

// TestIntegrationAgentAPICancel: a CLI interrupted while the agent builds
// its pod (SIGTERM: it waits for the rollback; SIGKILL: its connection
// closes) leaves nothing half-built, as in-process.
func TestIntegrationAgentAPICancel(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	servingAgent(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			name := "agent-api-cancel"
			// c1's postStart hook holds the build: c2 starts after it.
			p := writeManifest(t, strings.Replace(agentPod(name, ""), "command: ['sleep', '5000']\n  - name: c2",
				"command: ['sleep', '5000']\n    lifecycle: {postStart: {exec: {command: ['sleep', '60']}}}\n  - name: c2", 1))
			t.Cleanup(func() { podsim(t, "", "delete", "pod", name, "--now") })
			cmd := podsimCmd("apply", "-f", p)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 60*time.Second, "the agent to start c1", func() bool {
				return agentLogHas(fmt.Sprintf("from pid %d:", cmd.Process.Pid)) && podsim(t, "", "get", "pod", name).code == 0 && len(containerPIDs(t, string(getPod(t, name).UID))) >= 2
			})
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			if err == nil {
				t.Fatalf("apply interrupted by %s exited 0", sig)
			}
			// SIGTERM: the CLI waited for the rollback; SIGKILL: the agent
			// rolls back when the connection closes.
			wait := time.Duration(0)
			if sig == syscall.SIGKILL {
				wait = 60 * time.Second
			}
			waitFor(t, wait+time.Second, "the half-built pod to be rolled back", func() bool {
				return podsim(t, "", "get", "pod", name).code != 0
			})
			t.Logf("CLI stderr: %s", errb.String())
		})
	}
}

// TestIntegrationAgentAPIAgentDies: the agent SIGKILLed in the middle of a
// command (its fault-injection point after CNI): the CLI says so, names
// the fix, exits non-zero; `podsim gc` removes what was half-built.
func TestIntegrationAgentAPIAgentDies(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	addr := containerdAddress(t)
	stopAgent(t)
	logf, err := os.OpenFile(agentLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	agent := exec.Command(podsimBin, "system", "agent", "--containerd-address", addr)
	agent.Env = append(os.Environ(), "PODSIM_AGENT_CRASH_AFTER=cni")
	agent.Stdout, agent.Stderr = logf, logf
	agent.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { agent.Wait(); close(exited) }()
	t.Cleanup(func() {
		agent.Process.Kill()
		<-exited
	})
	waitFor(t, 30*time.Second, "the agent to serve its socket", func() bool { return agentRequests(t) >= 0 })

	p := writeManifest(t, agentPod("agent-api-dies", ""))
	before := snapshot(t)
	r := podsim(t, "", "apply", "-f", p)
	if r.code == 0 || !strings.Contains(r.stderr, fmt.Sprintf("the node agent (pid %d) stopped before it finished", agent.Process.Pid)) || !strings.Contains(r.stderr, "podsim gc") {
		t.Fatalf("want a clear error naming the agent and 'podsim gc', got %s", r)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the agent did not die at its fault-injection point")
	}
	// Half-built: the netns pinned and wired, the pod cgroup, no pause.
	if left := added(before, snapshot(t)); len(left) == 0 {
		t.Error("the agent died after CNI but nothing was left on the host: did it die where it should?")
	} else {
		t.Logf("half-built, before gc:\n  %s", strings.Join(left, "\n  "))
	}
	mustPodsim(t, "gc")
	if r := podsim(t, "", "get", "pod", "agent-api-dies"); r.code == 0 {
		t.Errorf("the pod is still there after gc: %s", r)
	}
}
