//go:build linux

package runtime

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// envSupervise makes the test binary act as the supervisor: the integration
// test passes the test binary itself as Options.SelfExe, so Connect runs
// `<test binary> system supervise-containerd --config <path>` and TestMain
// turns that into a call to Supervise (as podsim's hidden command does).
const envSupervise = "PODSIM_RUNTIME_TEST_SUPERVISE"

func TestMain(m *testing.M) {
	if os.Getenv(envSupervise) == "1" && len(os.Args) > 1 && os.Args[1] == SuperviseArgs[0] {
		var cfg string
		for i, a := range os.Args {
			if a == "--config" && i+1 < len(os.Args) {
				cfg = os.Args[i+1]
			}
		}
		if err := Supervise(context.Background(), cfg); err != nil {
			fmt.Fprintln(os.Stderr, "supervise-containerd:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestConnectExplicitAddressSilent(t *testing.T) {
	addr := filepath.Join(t.TempDir(), "nobody.sock")
	_, _, err := Connect(context.Background(), Options{Address: addr, SystemSocket: "/nonexistent"})
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("err = %v, want an error naming %s", err, addr)
	}
}

func TestReadHostLimits(t *testing.T) {
	h, err := ReadHostLimits()
	if err != nil {
		t.Fatal(err)
	}
	if h.NoFileHard < h.NoFileSoft || h.NoFileSoft == 0 {
		t.Errorf("odd RLIMIT_NOFILE: %+v", h)
	}
	if h.OOMScoreAdj < -1000 || h.OOMScoreAdj > 1000 {
		t.Errorf("oom_score_adj out of range: %d", h.OOMScoreAdj)
	}
	t.Logf("host limits: %+v", h)
}

func TestProcessMatchers(t *testing.T) {
	cfg := "/run/podsim/containerd/config.toml"
	sup := isSupervisorFor(cfg)
	if !sup([]string{"/usr/local/bin/podsim", "system", "supervise-containerd", "--config", cfg}) {
		t.Error("supervisor command line not recognised")
	}
	if sup([]string{"/usr/local/bin/podsim", "system", "supervise-containerd", "--config", "/other.toml"}) {
		t.Error("supervisor of another config accepted")
	}
	if sup([]string{"/bin/sleep", "100"}) {
		t.Error("unrelated process accepted")
	}
	ctr := isContainerdFor(cfg)
	if !ctr([]string{"/usr/bin/containerd", "--config", cfg}) || ctr([]string{"/usr/bin/containerd"}) {
		t.Error("containerd matcher wrong")
	}
	if !isLive(os.Getpid(), func([]string) bool { return true }) {
		t.Error("this process is not live?")
	}
	if isLive(os.Getpid(), sup) {
		t.Error("the test process taken for a supervisor")
	}
}

// TestStopIgnoresForeignPID: a stale pid file naming an unrelated process
// (here: this test) must not get that process signalled.
func TestStopIgnoresForeignPID(t *testing.T) {
	dir := t.TempDir()
	opts := Options{StateDir: dir, RunDir: dir, SystemSocket: "/nonexistent"}
	p := opts.paths()
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{p.PIDFile, p.CtrdPID} {
		if err := writePID(f, os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
	if pid, running := EmbeddedStatus(opts); running {
		t.Errorf("EmbeddedStatus took pid %d for podsim's containerd", pid)
	}
	if err := Stop(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.PIDFile); !os.IsNotExist(err) {
		t.Error("stale pid file not removed")
	}
}

// TestEmbeddedStartFailureNamesLog: when the supervisor dies at once, Connect
// fails fast with an error naming the log file instead of waiting 30s.
func TestEmbeddedStartFailureNamesLog(t *testing.T) {
	if _, err := exec.LookPath("containerd"); err != nil {
		t.Skip("containerd not installed")
	}
	falseBin, err := exec.LookPath("false")
	if err != nil {
		t.Skip("no false(1)")
	}
	dir := t.TempDir()
	opts := Options{StateDir: dir, RunDir: dir, SelfExe: falseBin, SystemSocket: "/nonexistent"}
	start := time.Now()
	_, _, err = Connect(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), opts.paths().Log) {
		t.Fatalf("err = %v, want one naming the log", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s to notice the supervisor died", d)
	}
}

// TestRenderedConfigAcceptedByContainerd lets the installed containerd parse
// the rendered config (`containerd config dump` only loads it).
func TestRenderedConfigAcceptedByContainerd(t *testing.T) {
	bin, err := exec.LookPath("containerd")
	if err != nil {
		t.Skip("containerd not installed")
	}
	dir := t.TempDir()
	p := Options{StateDir: dir, RunDir: dir, SystemSocket: "/nonexistent"}.paths()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(renderConfig(p)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--config", cfg, "config", "dump").CombinedOutput()
	if err != nil {
		t.Fatalf("containerd rejects the config: %v\n%s", err, out)
	}
	for _, want := range []string{p.Socket, p.TTRPC, p.Root, p.State, `"io.containerd.grpc.v1.cri"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("dumped config lacks %q:\n%s", want, out)
		}
	}
}

// TestIntegrationEmbeddedLifecycle starts a real containerd under the
// supervisor in temporary directories, reuses it, stops it, and checks that
// nothing is left behind. It never touches /run/containerd or a system daemon.
func TestIntegrationEmbeddedLifecycle(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: starts a real containerd")
	}
	if _, err := exec.LookPath("containerd"); err != nil {
		t.Skip("containerd not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	_, sysRunBefore := os.Stat("/run/containerd")
	// Unix socket paths must fit in 108 bytes: keep the run dir short.
	runDir, err := os.MkdirTemp("/run", "psrt")
	if err != nil {
		t.Fatal(err)
	}
	stateDir, err := os.MkdirTemp("", "podsim-rt-state")
	if err != nil {
		os.RemoveAll(runDir)
		t.Fatal(err)
	}
	t.Setenv(envSupervise, "1") // inherited by the re-executed test binary
	opts := Options{
		StateDir:     stateDir,
		RunDir:       runDir,
		SelfExe:      self,
		SystemSocket: filepath.Join(runDir, "no-system.sock"), // force embedded
		Progress:     func(s string) { t.Log("progress:", s) },
	}
	p := opts.paths()

	// Processes this test started, killed in Cleanup if still ours.
	var mu sync.Mutex
	var pids []int
	record := func(pid int) {
		mu.Lock()
		defer mu.Unlock()
		pids = append(pids, pid)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := Stop(ctx, opts); err != nil {
			t.Logf("cleanup Stop: %v", err)
		}
		ours := func(args []string) bool {
			return isSupervisorFor(p.Config)(args) || isContainerdFor(p.Config)(args)
		}
		for _, pid := range pids {
			if isLive(pid, ours) {
				t.Logf("cleanup: killing leftover pid %d", pid)
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		os.RemoveAll(runDir)
		os.RemoveAll(stateDir)
	})

	// A descriptor this process inherited without close-on-exec (as from
	// `flock LOCK podsim ...`) must not live on in the detached daemons:
	// one holding a flock(2) lock would block the next `flock LOCK` for ever.
	inherited := filepath.Join(t.TempDir(), "inherited.lock")
	ifd, err := syscall.Open(inherited, syscall.O_CREAT|syscall.O_RDWR, 0o600) // no O_CLOEXEC
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(ifd)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// Three concurrent first Connects: exactly one daemon must start.
	const n = 3
	infos := make([]Info, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, info, err := Connect(ctx, opts)
			infos[i], errs[i] = info, err
			if err == nil {
				record(info.PID)
				c.Close()
			}
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Connect %d: %v (log %s)%s", i, errs[i], p.Log, logTail(p.Log))
		}
		if infos[i].Kind != KindEmbedded || infos[i].Version == "" || infos[i].PID <= 0 ||
			infos[i].Address != p.Socket || infos[i].Log != p.Log {
			t.Fatalf("Connect %d: info %+v", i, infos[i])
		}
		if infos[i].PID != infos[0].PID {
			t.Fatalf("concurrent Connects started two supervisors: %d and %d", infos[0].PID, infos[i].PID)
		}
	}
	sup := infos[0].PID
	t.Logf("embedded containerd %s, supervisor pid %d", infos[0].Version, sup)

	ctr, ok := readPID(p.CtrdPID)
	if !ok || !isLive(ctr, isContainerdFor(p.Config)) {
		t.Fatalf("containerd pid file %s: pid %d not a live containerd", p.CtrdPID, ctr)
	}
	record(ctr)
	if got := procField(t, ctr, "PPid"); got != strconv.Itoa(sup) {
		t.Errorf("containerd's parent = %s, want the supervisor %d", got, sup)
	}
	for _, pid := range []int{sup, ctr} {
		if fd := fdTo(pid, inherited); fd != "" {
			t.Errorf("pid %d holds fd %s to %s, which it inherited from its starter", pid, fd, inherited)
		}
	}
	// Setsid: the supervisor leads its own session, detached from ours.
	if sid := sessionID(t, sup); sid != sup {
		t.Errorf("supervisor session = %d, want its own (%d)", sid, sup)
	}
	if _, err := os.Stat(p.Config); err != nil {
		t.Errorf("config not written: %v", err)
	}

	// A later Connect reuses the daemon, and the client works in Namespace.
	c, info, err := Connect(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if info.PID != sup || info.Kind != KindEmbedded {
		t.Errorf("second Connect: %+v, want supervisor %d reused", info, sup)
	}
	if _, err := c.Containers(ctx); err != nil {
		t.Errorf("listing containers in namespace %s: %v", Namespace, err)
	}
	c.Close()
	if pid, running := EmbeddedStatus(opts); !running || pid != sup {
		t.Errorf("EmbeddedStatus = %d, %v; want %d, true", pid, running, sup)
	}

	if err := Stop(ctx, opts); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	// Gone means gone from /proc: not even a zombie. The supervisor is our
	// child (Connect reaps it), containerd is the supervisor's (it reaps it).
	for _, pid := range []int{sup, ctr} {
		if !waitGone(pid, 5*time.Second) {
			t.Errorf("pid %d still in /proc after Stop (state %q)", pid, procField(t, pid, "State"))
		}
	}
	if pid, running := EmbeddedStatus(opts); running {
		t.Errorf("EmbeddedStatus after Stop: running, pid %d", pid)
	}
	if err := Stop(ctx, opts); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	for _, f := range []string{p.PIDFile, p.CtrdPID} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s left behind after Stop", f)
		}
	}
	if answers(ctx, p.Socket) {
		t.Error("socket still answers after Stop")
	}

	for _, d := range []string{runDir, stateDir} {
		if err := os.RemoveAll(d); err != nil {
			t.Errorf("removing %s: %v", d, err)
		}
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still exists", d)
		}
	}
	if _, err := os.Stat("/run/containerd"); os.IsNotExist(sysRunBefore) && err == nil {
		t.Error("the embedded containerd created /run/containerd")
	}
}

// fdTo returns the number of one of pid's descriptors open on path, or "".
func fdTo(pid int, path string) string {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && target == path {
			return e.Name()
		}
	}
	return ""
}

func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// procField returns a field of /proc/PID/status ("" if unreadable).
func procField(t *testing.T, pid int, name string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// sessionID reads field 6 (session) of /proc/PID/stat.
func sessionID(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// After comm: state ppid pgrp session ...
	sid, _ := strconv.Atoi(fields[3])
	return sid
}
