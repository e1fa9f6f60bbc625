package bench

import (
	"context"
	"errors"
	"fmt"
	"github.com/podsim/podsim/sandbox"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// run runs a command and returns its stdout; a failure carries the last
// lines of its stderr. Its stdout and stderr are temporary files, not pipes:
// `runc run -d` hands its stdio to the container and podman's conmon
// outlives podman, and a pipe they inherit would keep Wait waiting for EOF
// until they exit.
func run(ctx context.Context, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	outf, err := os.CreateTemp("", "podsim-bench-out-")
	if err != nil {
		return "", err
	}
	defer func() { outf.Close(); os.Remove(outf.Name()) }()
	errf, err := os.CreateTemp("", "podsim-bench-err-")
	if err != nil {
		return "", err
	}
	defer func() { errf.Close(); os.Remove(errf.Name()) }()
	cmd.Stdout, cmd.Stderr = outf, errf
	runErr := cmd.Run()
	out, _ := os.ReadFile(outf.Name())
	if runErr != nil {
		eb, _ := os.ReadFile(errf.Name())
		msg := strings.TrimSpace(string(eb))
		if lines := strings.Split(msg, "\n"); len(lines) > 6 {
			msg = strings.Join(lines[len(lines)-6:], "\n")
		}
		return string(out), fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), runErr, msg)
	}
	return string(out), nil
}

// timed runs f and returns how long it took.
func timed(f func() error) (time.Duration, error) {
	t := time.Now()
	err := f()
	return time.Since(t), err
}

// removeTree unmounts everything below dir (lazily) and removes it. It
// never removes across a mount it could not unmount.
func removeTree(dir string) error {
	if dir == "" || dir == "/" || !filepath.IsAbs(dir) {
		return fmt.Errorf("refusing to remove %q", dir)
	}
	var errs []error
	for _, mp := range sandbox.MountsUnder(dir) {
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", mp, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if left := sandbox.MountsUnder(dir); len(left) > 0 {
		return fmt.Errorf("still mounted below %s: %v", dir, left)
	}
	return os.RemoveAll(dir)
}

// removeCgroupTree removes the cgroup directory rel (e.g. "/podsimbench")
// in every hierarchy, deepest first. A cgroup with processes cannot be
// removed; that is reported.
func removeCgroupTree(rel string) error {
	var roots []string
	if m, _ := filepath.Glob("/sys/fs/cgroup/*" + rel); len(m) > 0 {
		roots = append(roots, m...)
	}
	if fi, err := os.Stat("/sys/fs/cgroup" + rel); err == nil && fi.IsDir() {
		roots = append(roots, "/sys/fs/cgroup"+rel)
	}
	var errs []error
	for _, r := range roots {
		var dirs []string
		filepath.WalkDir(r, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := rmdirRetry(dirs[i]); err != nil && !os.IsNotExist(err) {
				errs = append(errs, fmt.Errorf("removing cgroup %s: %w", dirs[i], err))
			}
		}
	}
	return errors.Join(errs...)
}

// rmdirRetry removes a cgroup directory; right after its last process exits
// the kernel may still report it busy for a moment.
func rmdirRetry(dir string) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// ipForward reads net.ipv4.ip_forward.
func ipForward() string {
	b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	return strings.TrimSpace(string(b))
}

// Guard checks that no system turned on IP forwarding. If one did, it is
// turned off again at once and the bench stops with an error naming it.
type Guard struct{ before string }

// NewGuard records the current ip_forward.
func NewGuard() *Guard { return &Guard{before: ipForward()} }

// Check verifies ip_forward is unchanged after what did something.
func (g *Guard) Check(what string) error {
	now := ipForward()
	if now == g.before {
		return nil
	}
	if g.before == "0" {
		_ = os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("0\n"), 0o644)
	}
	return fmt.Errorf("%s turned net.ipv4.ip_forward from %s to %s (set back to %s): the bench stops", what, g.before, now, g.before)
}
