package integration

import (
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gcLines runs `podsim gc` (or with --dry-run) and returns what it lists,
// without the "removed " prefix, the idle bridge and cgroup parent aside
// and the "nothing" line dropped, so the two forms can be compared.
func gcLines(t *testing.T, args ...string) (lines []string, stdout string) {
	t.Helper()
	stdout = mustPodsim(t, append([]string{"gc"}, args...)...)
	for _, l := range strings.Split(stdout, "\n") {
		if l == "" || strings.HasPrefix(l, "nothing") {
			continue
		}
		lines = append(lines, strings.TrimPrefix(l, "removed "))
	}
	sort.Strings(lines)
	return lines, stdout
}

// TestIntegrationGCOrphanShim: a runc shim of podsim's containerd namespace
// that containerd knows nothing about (no container, no task) — what a
// podsim killed between the shim's start and the task's creation leaves.
// The test starts one the way containerd does (`containerd-shim-runc-v2
// ... start` in a bundle directory); `gc --dry-run` must list it, `gc` must
// list the same lines, shut the shim down and remove its socket, and
// return only once the process is gone.
func TestIntegrationGCOrphanShim(t *testing.T) {
	requireRoot(t)
	shimBin, err := exec.LookPath("containerd-shim-runc-v2")
	if err != nil {
		t.Skip("containerd-shim-runc-v2 not installed")
	}
	checkNoLeaks(t)
	addr := containerdAddress(t)
	bundle := t.TempDir()
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(`{"ociVersion":"1.0.2","annotations":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// containerd makes the shim's log fifo in the bundle and reads it; the
	// shim opens it for writing when it starts and blocks until a reader is there.
	fifo := filepath.Join(bundle, "log")
	if err := syscall.Mkfifo(fifo, 0o700); err != nil {
		t.Fatal(err)
	}
	logr, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logr.Close() })
	go io.Copy(io.Discard, logr)
	id := fmt.Sprintf("gc-orphan-%d", os.Getpid())
	start := exec.Command(shimBin, "-namespace", "podsim", "-id", id, "-address", addr, "start")
	start.Dir = bundle
	start.Env = append(os.Environ(), "TTRPC_ADDRESS="+addr+".ttrpc")
	out, err := start.CombinedOutput()
	if err != nil {
		t.Fatalf("starting a shim: %v\n%s", err, out)
	}
	sock := strings.TrimPrefix(strings.TrimSpace(string(out)), "unix://")
	pid := shimPID(id)
	t.Cleanup(func() { // only if gc failed: the shim the test started
		if p := shimPID(id); p != 0 {
			syscall.Kill(p, syscall.SIGKILL)
		}
	})
	if pid == 0 {
		t.Fatalf("no shim process with -id %s after start (it printed %q)", id, out)
	}
	dry, _ := gcLines(t, "--dry-run")
	want := fmt.Sprintf("process %d ", pid)
	if !containsPrefix(dry, want) {
		t.Fatalf("gc --dry-run does not list the orphan shim %d:\n%s", pid, strings.Join(dry, "\n"))
	}
	did, stdout := gcLines(t)
	if strings.Join(did, "\n") != strings.Join(dry, "\n") {
		t.Errorf("gc --dry-run listed:\n%s\nbut gc removed:\n%s", strings.Join(dry, "\n"), strings.Join(did, "\n"))
	}
	if strings.Contains(stdout, "still going away") {
		t.Errorf("gc did not finish the shim:\n%s", stdout)
	}
	// No waiting here: gc returns once what it removed is gone.
	// A zombie has exited: only its new parent (init) has yet to reap it.
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !strings.Contains(string(st), ") Z ") {
		t.Errorf("the orphan shim %d still runs after gc returned: %s", pid, st)
	}
	if p := shimPID(id); p != 0 {
		t.Errorf("a shim with -id %s runs after gc (pid %d)", id, p)
	}
	if _, err := os.Stat(sock); sock != "" && err == nil {
		t.Errorf("the shim's socket %s is still there", sock)
	}
	if again, _ := gcLines(t, "--dry-run"); containsPrefix(again, want) {
		t.Errorf("gc --dry-run still lists the shim after gc:\n%s", strings.Join(again, "\n"))
	}
}

// shimPID finds the running shim daemon with -id id (not the `start` call).
func shimPID(id string) int {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) < 2 || !strings.Contains(args[0], "containerd-shim") || args[len(args)-1] == "start" {
			continue
		}
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-id" && args[i+1] == id {
				var pid int
				fmt.Sscan(filepath.Base(filepath.Dir(p)), &pid)
				if st, err := os.ReadFile(filepath.Join(filepath.Dir(p), "stat")); err == nil && !strings.Contains(string(st), ") Z ") {
					return pid
				}
			}
		}
	}
	return 0
}

func containsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// TestIntegrationCrashAtRandomMoments: `podsim apply` of the article's
// podtest gets SIGKILL at a random moment between 0 and 1.5 s (after it
// finished, if it was quicker), PODSIM_RANDOM_CRASHES times (20; 200 for
// the figures in docs/reliability.md), each followed by `podsim gc`. After
// every one, with no waiting, podsim's inventory (`gc --inventory`, which
// lists leases and ingests too) and an independent look — ctr for
// containers, tasks, snapshots, leases and content ingests in podsim's
// namespace; /run/netns, veths, mountinfo, /sys/fs/cgroup/**/podsim and
// the process table — hold nothing that was not there before the test.
// PODSIM_CRASH_SEED repeats a run.
func TestIntegrationCrashAtRandomMoments(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	n := envInt("PODSIM_RANDOM_CRASHES", 20)
	seed := int64(envInt("PODSIM_CRASH_SEED", int(time.Now().UnixNano()%1e9)))
	rng := rand.New(rand.NewSource(seed))
	t.Logf("%d crashes, seed %d (PODSIM_CRASH_SEED=%d repeats them)", n, seed, seed)
	p := writeManifest(t, podtest)
	mustPodsim(t, "apply", "-f", p) // images built and cached before the clock matters
	mustPodsim(t, "delete", "pod", "podtest")
	host0 := snapshot(t)
	inv0 := strings.Split(mustPodsim(t, "gc", "--inventory"), "\n")
	var (
		killed, finished, going, failed int
		removedKinds                    = map[string]int{}
		gcMax, gcSum                    time.Duration
	)
	for i := 0; i < n; i++ {
		delay := time.Duration(rng.Int63n(int64(1500 * time.Millisecond)))
		cmd := podsimCmd("apply", "-f", p)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
			finished++
		case <-time.After(delay):
			cmd.Process.Signal(syscall.SIGKILL) // our own child
			<-done
			killed++
		}
		t0 := time.Now()
		lines, stdout := gcLines(t)
		d := time.Since(t0)
		gcSum += d
		if d > gcMax {
			gcMax = d
		}
		for _, l := range lines {
			if strings.HasPrefix(l, "still going away") {
				continue
			}
			removedKinds[strings.Fields(l)[0]]++
		}
		if strings.Contains(stdout, "still going away") {
			going++
			t.Logf("crash %d at %s: gc says something is still going away:\n%s", i, delay, stdout)
			time.Sleep(5 * time.Second)
		}
		var bad []string
		if left := added(host0, snapshot(t)); len(left) > 0 {
			bad = append(bad, "host / containerd (ctr): "+strings.Join(left, ", "))
		}
		if left := added(inv0, strings.Split(mustPodsim(t, "gc", "--inventory"), "\n")); len(left) > 0 {
			bad = append(bad, "podsim's inventory: "+strings.Join(left, ", "))
		}
		if inv := inventory(t); inv != "" {
			bad = append(bad, "gc --dry-run still lists: "+strings.ReplaceAll(inv, "\n", ", "))
		}
		if len(bad) > 0 {
			failed++
			t.Errorf("crash %d (SIGKILL after %s): after gc:\n  %s\ngc said:\n%s", i, delay.Round(time.Millisecond), strings.Join(bad, "\n  "), stdout)
			if failed >= 3 {
				t.Fatalf("stopping after %d failed crashes", failed)
			}
		}
	}
	var kinds []string
	for k, c := range removedKinds {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, c))
	}
	sort.Strings(kinds)
	t.Logf("%d runs: %d killed mid-apply, %d finished before the kill; gc removed: %s; gc took %s on average, %s at most; 'still going away' %d times; %d runs left something",
		n, killed, finished, strings.Join(kinds, ", "), (gcSum / time.Duration(n)).Round(time.Millisecond), gcMax.Round(time.Millisecond), going, failed)
	mustPodsim(t, "apply", "-f", p)
	if out := mustPodsim(t, "exec", "podtest", "-c", "c1", "--", "hostname"); out != "podtest\n" {
		t.Errorf("pod after the crashes: %q", out)
	}
	mustPodsim(t, "delete", "pod", "podtest")
}
