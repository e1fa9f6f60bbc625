//go:build linux

package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"golang.org/x/sys/unix"
)

const (
	// probeTimeout bounds the connect of a "does a containerd answer
	// here?" check: a missing or stale socket fails at once.
	probeTimeout = 2 * time.Second
	// answerTimeout bounds the gRPC handshake and Version call once the
	// socket accepted a connection: a daemon is there, and under load (50
	// podsim commands at once on 2 cores) its answer can take seconds —
	// giving up after probeTimeout made a busy containerd look dead.
	answerTimeout = 20 * time.Second
	// startTimeout bounds the wait for a freshly started containerd. Without
	// the CRI plugin it answers in well under a second.
	startTimeout = 30 * time.Second
	// lockTimeout bounds the wait for another podsim that is starting it.
	lockTimeout = startTimeout + 10*time.Second
	// stopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	stopTimeout = 10 * time.Second
	// maxLogSize: a bigger log is rotated to containerd.log.1 at start.
	maxLogSize = 8 << 20
)

// Connect resolves the containerd address (explicit, then system, then
// podsim's own, started on demand) and returns a client whose default
// namespace is Namespace and default runtime RuntimeName. Concurrent calls,
// also from different podsim processes, start at most one daemon.
func Connect(ctx context.Context, opts Options) (*containerd.Client, Info, error) {
	return resolve(ctx, opts, dial, startEmbedded)
}

// dial connects to the containerd at address and asks its version, which
// proves a daemon answers (a socket file alone proves nothing: it stays
// behind when a daemon is killed).
func dial(ctx context.Context, address string) (*containerd.Client, string, error) {
	// A plain connect first: a missing or dead socket fails immediately
	// instead of after the gRPC client's dial timeout.
	conn, err := net.DialTimeout("unix", address, probeTimeout)
	if err != nil {
		return nil, "", err
	}
	conn.Close()
	c, err := containerd.New(address,
		containerd.WithDefaultNamespace(Namespace),
		containerd.WithDefaultRuntime(RuntimeName),
		containerd.WithTimeout(answerTimeout))
	if err != nil {
		return nil, "", err
	}
	vctx, cancel := context.WithTimeout(ctx, answerTimeout)
	defer cancel()
	v, err := c.Version(vctx)
	if err != nil {
		c.Close()
		return nil, "", err
	}
	return c, v.Version, nil
}

// answers reports whether a containerd answers at address.
func answers(ctx context.Context, address string) bool {
	c, _, err := dial(ctx, address)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// startEmbedded makes sure podsim's own containerd runs and answers at
// p.Socket, starting it if needed, and returns the supervisor pid.
func startEmbedded(ctx context.Context, o Options, p paths) (int, error) {
	// Fast path, no lock: an earlier podsim command left it running.
	if answers(ctx, p.Socket) {
		pid, _ := supervisorPID(p)
		return pid, nil
	}
	bin, err := exec.LookPath("containerd")
	if err != nil {
		return 0, errNotInstalled
	}
	self := o.SelfExe
	if self == "" {
		if self, err = os.Executable(); err != nil {
			return 0, fmt.Errorf("cannot find the podsim binary to run the containerd supervisor: %w", err)
		}
	}
	// 0711 like containerd's own root: others may traverse (to reach
	// container rootfs paths) but not list.
	for _, d := range []string{p.Root, p.Dir} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return 0, fmt.Errorf("preparing podsim's own containerd (run podsim as root): %w", err)
		}
	}

	// Two podsim commands started at the same moment must not both start a
	// daemon on the same root (the second would block on metadata.db's lock
	// and fight over the sockets). An flock is released by the kernel when
	// its holder dies, so a crashed podsim never leaves a stale lock behind.
	unlock, err := lockFile(ctx, p.Lock, o)
	if err != nil {
		return 0, err
	}
	defer unlock()

	if pid, found, err := runningEmbedded(ctx, o, p, bin); found {
		return pid, err
	}
	return launchSupervisor(ctx, o, p, bin, self)
}

// runningEmbedded, called under the start lock, checks whether podsim's
// containerd or its supervisor already runs. When one does (found), the
// pid and error are startEmbedded's answer: it must not start another.
func runningEmbedded(ctx context.Context, o Options, p paths, bin string) (int, bool, error) {
	// Re-check under the lock: whoever held it may just have started it.
	if answers(ctx, p.Socket) {
		pid, _ := supervisorPID(p)
		return pid, true, nil
	}
	if pid, ok := supervisorPID(p); ok {
		// A supervisor runs but containerd does not answer (yet): its
		// starter gave up waiting, or it is slow. Wait for it instead of
		// starting a second one.
		o.progress("waiting for podsim's containerd (supervisor pid %d) to answer (log: %s)", pid, p.Log)
		return pid, true, waitAnswer(ctx, p, bin, nil)
	}
	if pid, ok := containerdPID(p); ok {
		// Its supervisor was killed but containerd lives on without
		// answering: it holds the root, so a new one could not start.
		return 0, true, fmt.Errorf("podsim's containerd (pid %d) runs without its supervisor and does not answer at %s; stop it with 'podsim system stop' (log: %s)", pid, p.Socket, p.Log)
	}
	return 0, false, nil
}

// launchSupervisor, called under the start lock, writes the config, starts
// the containerd supervisor (self) and waits until containerd (bin)
// answers; it returns the supervisor pid.
func launchSupervisor(ctx context.Context, o Options, p paths, bin, self string) (int, error) {
	if err := os.WriteFile(p.Config, []byte(renderConfig(p)), 0o644); err != nil {
		return 0, fmt.Errorf("writing containerd config: %w", err)
	}
	rotateLog(p.Log)
	logf, err := os.OpenFile(p.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("opening containerd log: %w", err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "\n=== %s podsim starts its containerd (%s, config %s)\n", time.Now().Format(time.RFC3339), bin, p.Config)

	o.progress("starting podsim's own containerd (log: %s)", p.Log)
	cmd := supervisorCmd(self, p, logf)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting the containerd supervisor (%s): %w", self, err)
	}
	pid := cmd.Process.Pid
	// While this podsim process lives, it is the supervisor's parent and
	// must reap it when it exits (else it stays a zombie of ours). Once
	// podsim exits, the supervisor is re-parented and this goroutine is gone.
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()

	if err := writePID(p.PIDFile, pid); err != nil {
		unix.Kill(pid, unix.SIGTERM)
		return 0, err
	}
	if err := waitAnswer(ctx, p, bin, exited); err != nil {
		// A half-started daemon would confuse the next command: stop it.
		// The log keeps the reason.
		sctx, cancel := context.WithTimeout(context.Background(), stopTimeout+5*time.Second)
		defer cancel()
		stopEmbedded(sctx, p)
		return 0, err
	}
	o.progress("podsim's containerd is up at %s (supervisor pid %d)", p.Socket, pid)
	return pid, nil
}

// supervisorCmd is the (not yet started) command of the containerd
// supervisor, `<self> system supervise-containerd --config <config>`,
// detached from this podsim, with its stdout and stderr to logf.
func supervisorCmd(self string, p paths, logf *os.File) *exec.Cmd {
	cmd := exec.Command(self, append(append([]string{}, SuperviseArgs...), "--config", p.Config)...)
	// Detach the supervisor from this command so it outlives it:
	//  - Setsid: a new session and process group without a controlling
	//    terminal, so closing the terminal (SIGHUP) or Ctrl-C (SIGINT to the
	//    foreground process group) never reaches it;
	//  - stdin from /dev/null (exec's default for a nil Stdin), stdout and
	//    stderr straight into the log file (an *os.File is handed to the child
	//    as is; a pipe would break when podsim exits);
	//  - cwd "/" so it does not pin the directory podsim was run from.
	// The start lock's fd is opened close-on-exec, so the supervisor does
	// not inherit (and hold) it; NoInheritedFDs does the same for the fds
	// podsim itself inherited (such as the one `flock LOCK podsim` holds).
	NoInheritedFDs()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd
}

// waitAnswer polls p.Socket until containerd answers, the supervisor exits
// (exited is closed, or, when nil, its pid file no longer names a live
// supervisor), the deadline passes, or ctx ends.
func waitAnswer(ctx context.Context, p paths, bin string, exited <-chan struct{}) error {
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if answers(ctx, p.Socket) {
			return nil
		}
		if exited == nil {
			if _, ok := supervisorPID(p); !ok {
				return fmt.Errorf("podsim's containerd supervisor exited during start-up; see %s%s", p.Log, logTail(p.Log))
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for podsim's containerd (log: %s): %w", p.Log, ctx.Err())
		case <-exited:
			return fmt.Errorf("podsim's containerd (%s) exited during start-up; see %s%s", bin, p.Log, logTail(p.Log))
		case <-deadline.C:
			return fmt.Errorf("podsim's containerd did not answer at %s within %s; see %s%s", p.Socket, startTimeout, p.Log, logTail(p.Log))
		case <-tick.C:
		}
	}
}

// lockFile takes an exclusive flock on path, waiting (with progress) while
// another podsim holds it. The returned func releases it.
func lockFile(ctx context.Context, path string, o Options) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) // Go opens with O_CLOEXEC
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(lockTimeout)
	for first := true; ; first = false {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
		}
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if first {
			o.progress("another podsim is starting containerd; waiting for it")
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("another podsim has held %s for %s; is it stuck?", path, lockTimeout)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop stops podsim's own containerd: SIGTERM to the recorded supervisor
// (which forwards it to containerd and exits after it), SIGKILL after
// stopTimeout. Running containers are not stopped: their shims outlive
// containerd by design, and a restarted containerd reconnects to them.
// It returns nil if the daemon is not running.
func Stop(ctx context.Context, opts Options) error {
	return stopEmbedded(ctx, opts.paths())
}

func stopEmbedded(ctx context.Context, p paths) error {
	sup, supOK := supervisorPID(p)
	ctr, ctrOK := containerdPID(p)
	if !supOK && !ctrOK {
		os.Remove(p.PIDFile)
		os.Remove(p.CtrdPID)
		return nil
	}
	// Every check re-reads /proc/PID/cmdline, so a pid reused by an
	// unrelated process after ours exited is never signalled.
	alive := func() bool {
		return (supOK && isLive(sup, isSupervisorFor(p.Config))) ||
			(ctrOK && isLive(ctr, isContainerdFor(p.Config)))
	}
	if supOK {
		unix.Kill(sup, unix.SIGTERM)
	} else {
		unix.Kill(ctr, unix.SIGTERM) // supervisor gone: stop the orphaned containerd directly
	}
	if _, err := WaitUntil(ctx, stopTimeout, func() bool { return !alive() }); err != nil {
		return err
	}
	if alive() {
		// containerd first, so the supervisor's death cannot orphan it.
		if ctrOK && isLive(ctr, isContainerdFor(p.Config)) {
			unix.Kill(ctr, unix.SIGKILL)
		}
		if supOK && isLive(sup, isSupervisorFor(p.Config)) {
			unix.Kill(sup, unix.SIGKILL)
		}
		if _, err := WaitUntil(ctx, 5*time.Second, func() bool { return !alive() }); err != nil {
			return err
		}
		if alive() {
			return fmt.Errorf("podsim's containerd (supervisor pid %d) survived SIGKILL", sup)
		}
	}
	os.Remove(p.PIDFile)
	os.Remove(p.CtrdPID)
	return nil
}

// WaitUntil polls cond every 20 ms until it holds (true) or d passes
// (false); the error is ctx's when it ends first. podsim waits this way for
// what the kernel frees asynchronously: processes, mounts, cgroups.
func WaitUntil(ctx context.Context, d time.Duration, cond func() bool) (bool, error) {
	deadline := time.Now().Add(d)
	for !cond() {
		if !time.Now().Before(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return true, nil
}

// EmbeddedStatus reports whether podsim's own containerd runs, without
// starting it: the supervisor pid, or containerd's if it lost its supervisor.
func EmbeddedStatus(opts Options) (pid int, running bool) {
	p := opts.paths()
	if pid, ok := supervisorPID(p); ok {
		return pid, true
	}
	if pid, ok := containerdPID(p); ok {
		return pid, true
	}
	return 0, false
}

// supervisorPID returns the recorded supervisor pid if that process is alive
// and really is the supervisor of this config.
func supervisorPID(p paths) (int, bool) {
	pid, ok := readPID(p.PIDFile)
	if !ok || !isLive(pid, isSupervisorFor(p.Config)) {
		return 0, false
	}
	return pid, true
}

// containerdPID is the same for the containerd process itself.
func containerdPID(p paths) (int, bool) {
	pid, ok := readPID(p.CtrdPID)
	if !ok || !isLive(pid, isContainerdFor(p.Config)) {
		return 0, false
	}
	return pid, true
}

// isSupervisorFor matches `<podsim> system supervise-containerd --config <config>`.
func isSupervisorFor(config string) func([]string) bool {
	return func(args []string) bool {
		return containsSeq(args, SuperviseArgs) && hasConfig(args, config)
	}
}

// isContainerdFor matches `containerd --config <config>`.
func isContainerdFor(config string) func([]string) bool {
	return func(args []string) bool {
		return len(args) > 0 && filepath.Base(args[0]) == "containerd" && hasConfig(args, config)
	}
}

func hasConfig(args []string, config string) bool {
	for i, a := range args {
		if (a == "--config" || a == "-c") && i+1 < len(args) && args[i+1] == config {
			return true
		}
		if a == "--config="+config {
			return true
		}
	}
	return false
}

func containsSeq(args, seq []string) bool {
	for i := 0; i+len(seq) <= len(args); i++ {
		match := true
		for j := range seq {
			if args[i+j] != seq[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// isLive reports whether pid exists, is not a zombie, and its command line
// satisfies match. A zombie has exited (only its exit status waits for its
// parent) and has an empty cmdline, so it counts as gone.
func isLive(pid int, match func([]string) bool) bool {
	if pid <= 0 {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// Format: "pid (comm) S ...": comm may contain spaces and parentheses,
	// so the state is the field after the last ')'.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		if s := stat[i+2]; s == 'Z' || s == 'X' {
			return false
		}
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(raw) == 0 {
		return false
	}
	return match(strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00"))
}

func readPID(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, err == nil && pid > 0
}

// writePID writes pid atomically (rename), so a reader never sees half a number.
func writePID(path string, pid int) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// removePIDIf removes path if it still names pid (a newer daemon may have
// replaced it).
func removePIDIf(path string, pid int) {
	if got, ok := readPID(path); ok && got == pid {
		os.Remove(path)
	}
}

func rotateLog(path string) {
	if st, err := os.Stat(path); err == nil && st.Size() > maxLogSize {
		os.Rename(path, path+".1")
	}
}

// logTail returns the last lines of the log, formatted for an error message.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return "; last lines:\n  " + strings.Join(lines, "\n  ")
}

// Supervise is the body of the hidden `podsim system supervise-containerd
// --config <path>` command. It makes this process a child subreaper, runs
// containerd as its child, forwards SIGTERM/SIGINT to it, reaps every child
// (containerd and re-parented runc-v2 shims) as soon as it exits, and
// returns when containerd has exited. Cancelling ctx stops containerd too.
//
// Why a subreaper: `containerd-shim-runc-v2 start` forks the long-lived shim
// and exits, so the shim is orphaned. The kernel re-parents an orphan to its
// nearest ancestor marked with PR_SET_CHILD_SUBREAPER (else to PID 1), and
// only that parent's wait can remove it once it exits. containerd 1.6 does
// not mark itself, so the supervisor does, and reaps with wait4(-1).
func Supervise(ctx context.Context, configPath string) error {
	logger := log.New(os.Stderr, "podsim-supervisor: ", log.LstdFlags)
	if configPath == "" {
		return errors.New("supervise-containerd needs --config")
	}
	cfg, err := filepath.Abs(configPath)
	if err != nil {
		return err
	}
	bin, err := exec.LookPath("containerd")
	if err != nil {
		return errNotInstalled
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", err)
	}
	// Subscribe before starting the child so no signal is lost. SIGCHLD
	// only wakes the loop; the loop then reaps everything that has exited
	// (signals of the same kind coalesce, so one SIGCHLD may mean many).
	sigc := make(chan os.Signal, 32)
	signal.Notify(sigc, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGCHLD)
	defer signal.Stop(sigc)

	pid, err := forkContainerd(bin, cfg)
	if err != nil {
		return err
	}
	ctrdPIDFile := filepath.Join(filepath.Dir(cfg), "containerd.pid")
	supPIDFile := filepath.Join(filepath.Dir(cfg), "supervisor.pid")
	if err := writePID(ctrdPIDFile, pid); err != nil {
		logger.Printf("cannot record containerd pid: %v", err)
	}
	logger.Printf("pid %d is a child subreaper; started containerd pid %d (config %s)", os.Getpid(), pid, cfg)
	// The node agent beside it, as a node runs kubelet beside containerd.
	// It waits for containerd to answer; if one runs already it exits.
	// Only for the host's own containerd (tests run others in temp dirs).
	agent := 0
	if filepath.Dir(cfg) == filepath.Join(DefaultRunDir, "containerd") {
		agent = startAgentChild(filepath.Join(filepath.Dir(cfg), "containerd.sock"), logger)
	}

	r := &reaper{pid: pid}
	superviseLoop(ctx, sigc, r, agent, logger)
	r.reapAll()
	removePIDIf(ctrdPIDFile, pid)
	removePIDIf(supPIDFile, os.Getpid())
	// Shims still running (containers outlive containerd) are re-parented
	// again when the supervisor exits: to the next subreaper or PID 1.
	return containerdExitErr(r.status, r.reaped, logger)
}

// forkContainerd starts containerd (bin) with config cfg as a child of
// this process, stdin from /dev/null, stdout and stderr as ours, and
// returns its pid.
func forkContainerd(bin, cfg string) (int, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	NoInheritedFDs() // containerd gets stdio only, whoever started us
	// syscall.ForkExec, not os/exec: exec.Cmd.Wait waits for its own pid and
	// would race with the wait4(-1) of reaper.reapAll, which reaps
	// containerd too.
	pid, err := syscall.ForkExec(bin, []string{bin, "--config", cfg}, &syscall.ProcAttr{
		Dir:   "/",
		Env:   os.Environ(),
		Files: []uintptr{devnull.Fd(), os.Stdout.Fd(), os.Stderr.Fd()},
	})
	devnull.Close()
	if err != nil {
		return 0, fmt.Errorf("starting %s: %w", bin, err)
	}
	return pid, nil
}

// reaper reaps the supervisor's children: containerd (pid), whose exit
// status it keeps, and every other (re-parented shims), which it counts.
type reaper struct {
	pid    int
	exited bool
	status unix.WaitStatus
	reaped int
}

// reapAll reaps, without blocking, every child that has exited.
func (r *reaper) reapAll() {
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || wpid <= 0 { // ECHILD: no children; 0: none has exited
			return
		}
		if wpid == r.pid {
			r.exited, r.status = true, ws
		} else {
			r.reaped++
		}
	}
}

// superviseLoop reaps children as they exit and forwards SIGTERM/SIGINT to
// containerd (and to the node agent, pid agent when > 0), or stops
// containerd when ctx ends, until containerd has exited.
func superviseLoop(ctx context.Context, sigc <-chan os.Signal, r *reaper, agent int, logger *log.Logger) {
	pid := r.pid
	done := ctx.Done()
	for {
		r.reapAll()
		if r.exited {
			break
		}
		select {
		case s := <-sigc:
			switch s {
			case unix.SIGTERM, unix.SIGINT:
				logger.Printf("forwarding %v to containerd (pid %d)", s, pid)
				unix.Kill(pid, s.(syscall.Signal))
				if agent > 0 && isLive(agent, isAgent) {
					unix.Kill(agent, unix.SIGTERM)
				}
			case unix.SIGHUP:
				// No terminal to hang up on; ignore rather than die.
			}
		case <-done:
			done = nil
			logger.Printf("stopping containerd (pid %d)", pid)
			unix.Kill(pid, unix.SIGTERM)
		}
	}
}

// containerdExitErr logs how containerd ended (status; reaped other
// processes were reaped meanwhile) and returns Supervise's error: nil for
// exit status 0 or death by SIGTERM/SIGINT.
func containerdExitErr(status unix.WaitStatus, reaped int, logger *log.Logger) error {
	switch {
	case status.Exited():
		logger.Printf("containerd exited with status %d (reaped %d other processes)", status.ExitStatus(), reaped)
		if status.ExitStatus() != 0 {
			return fmt.Errorf("containerd exited with status %d", status.ExitStatus())
		}
	case status.Signaled():
		logger.Printf("containerd killed by %v (reaped %d other processes)", status.Signal(), reaped)
		if sig := status.Signal(); sig != unix.SIGTERM && sig != unix.SIGINT {
			return fmt.Errorf("containerd killed by %v", sig)
		}
	}
	return nil
}

// ReadHostLimits reads what this host allows podsim (for `podsim doctor`).
func ReadHostLimits() (HostLimits, error) {
	var h HostLimits
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return h, err
	}
	found := false
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			capEff, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return h, fmt.Errorf("parsing CapEff %q: %w", v, err)
			}
			h.CapSysResource = capEff&(1<<unix.CAP_SYS_RESOURCE) != 0
			found = true
			break
		}
	}
	if !found {
		return h, errors.New("no CapEff line in /proc/self/status")
	}
	oom, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return h, err
	}
	if h.OOMScoreAdj, err = strconv.Atoi(strings.TrimSpace(string(oom))); err != nil {
		return h, fmt.Errorf("parsing oom_score_adj: %w", err)
	}
	// Note: the Go runtime raises its own soft RLIMIT_NOFILE to the hard
	// limit at start-up (and restores the original one for the programs it
	// executes), so soft usually equals hard here.
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return h, err
	}
	h.NoFileSoft, h.NoFileHard = rl.Cur, rl.Max
	return h, nil
}

// startAgentChild starts `podsim system agent` as a child of the
// supervisor (reaped by its wait loop), with its stdio to the agent's log;
// the supervisor's fds are close-on-exec (NoInheritedFDs). 0: not started.
func startAgentChild(address string, logger *log.Logger) int {
	self, err := os.Executable()
	if err != nil {
		return 0
	}
	p := Options{}.Agent()
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return 0
	}
	logf, err := os.OpenFile(p.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 0
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0
	}
	defer devnull.Close()
	args := append(append([]string{self}, AgentArgs...), "--containerd-address", address)
	pid, err := syscall.ForkExec(self, args, &syscall.ProcAttr{Dir: "/", Env: os.Environ(),
		Files: []uintptr{devnull.Fd(), logf.Fd(), logf.Fd()}})
	if err != nil {
		logger.Printf("starting the node agent: %v", err)
		return 0
	}
	logger.Printf("started the node agent, pid %d", pid)
	return pid
}
