package sandbox

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	taskapi "github.com/containerd/containerd/api/runtime/task/v2"
	"github.com/containerd/ttrpc"
	"golang.org/x/sys/unix"

	"github.com/podsim/podsim/sandbox/runtime"
)

// podsimProc is a process podsim's pods leave on the host: a runc shim of
// podsim's containerd namespace, a pause, or a gVisor process, found by
// its command line (podsim has no log process per container: the node
// agent reads the containers' FIFOs).
type podsimProc struct {
	PID     int
	Start   string // start time, so a reused PID is never taken for it
	Cmdline string
	// For a shim: its -id (the sandbox's ID: a pod's containers share
	// their pause's shim) and -address (containerd's socket); ShimAction
	// is "start" or "delete" for the shim binary's short runs containerd
	// makes around a task (setting up, cleaning up after a dead shim), ""
	// for the shim daemon itself.
	ShimID, Address, ShimAction string
	// Runsc: a gVisor Sentry (runsc-sandbox) or gofer of podsim's runsc
	// handler (runtimeclass_linux.go), found by its --root.
	Runsc bool
}

func (p podsimProc) String() string { return fmt.Sprintf("%d %s", p.PID, p.Cmdline) }

// listPodsimProcs lists shims of podsim's containerd namespace, pause
// processes and gVisor's, by their command lines.
func listPodsimProcs() []podsimProc {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var out []podsimProc
	for _, p := range procs {
		var pid int
		if _, err := fmt.Sscan(filepath.Base(filepath.Dir(p)), &pid); err != nil {
			continue
		}
		if pp, ok := readPodsimProc(pid); ok {
			out = append(out, pp)
		}
	}
	return out
}

// readPodsimProc reads pid's command line and says whether it is one of
// podsim's processes.
func readPodsimProc(pid int) (podsimProc, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return podsimProc{}, false
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	cl := strings.TrimSpace(strings.Join(args, " "))
	p := podsimProc{PID: pid, Cmdline: cl}
	switch {
	case strings.Contains(filepath.Base(args[0]), "containerd-shim") && flagValue(args, "-namespace") == runtime.Namespace:
		p.ShimID, p.Address = flagValue(args, "-id"), flagValue(args, "-address")
		if last := args[len(args)-1]; last == "start" || last == "delete" {
			p.ShimAction = last
		}
	// gVisor's processes: the Sentry (runsc-sandbox), gofers (runsc-gofer)
	// and the shim's runsc calls ("runsc wait" lasts as long as its container).
	case (strings.HasPrefix(args[0], "runsc-") || filepath.Base(args[0]) == "runsc") && strings.Contains(cl, "--root="+RunscRoot+"/"):
		p.Runsc = true
	case cl == "/pause":
	default:
		return podsimProc{}, false
	}
	p.Start, _ = runtime.ProcessStart(pid)
	return p, true
}

func flagValue(args []string, name string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name {
			return args[i+1]
		}
	}
	return ""
}

// alive reports whether the process still runs (and is not a zombie).
func (p podsimProc) alive() bool {
	start, err := runtime.ProcessStart(p.PID)
	if err != nil || start != p.Start {
		return false
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID))
	return err == nil && !strings.Contains(string(st), ") Z ")
}

// waitGone waits up to d for the process to exit.
func (p podsimProc) waitGone(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for p.alive() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// stopOrphanShim ends a runc shim of podsim's namespace that containerd no
// longer knows, the way containerd ends a shim: over the shim's ttrpc
// socket, delete its task (the shim kills the process, runs runc delete
// and unmounts the rootfs) and ask it to shut down. If it does not answer
// or does not exit, the very process found by its command line (same PID
// and start time, command line re-read) gets SIGKILL. Then its socket and
// bundle (task state dir) are removed.
func stopOrphanShim(ctx context.Context, p podsimProc) error {
	bundle, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", p.PID)) // containerd starts the shim in its bundle
	bundle = strings.TrimSuffix(bundle, " (deleted)")
	sock := shimSocket(bundle, p)
	if sock != "" {
		shutdownShim(ctx, sock, p.ShimID)
	}
	if !p.waitGone(2 * time.Second) {
		if again, ok := readPodsimProc(p.PID); !ok || again.Start != p.Start || again.ShimID != p.ShimID {
			return nil // not that process any more: it is gone
		}
		if err := unix.Kill(p.PID, syscall.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("killing orphan shim %d: %w", p.PID, err)
		}
		if !p.waitGone(3 * time.Second) {
			return fmt.Errorf("%w: orphan shim %d got SIGKILL and has not exited yet", errStillGoing, p.PID)
		}
	}
	var errs []error
	if sock != "" {
		if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := removeBundle(bundle, p.ShimID); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// shimSocket is the shim's ttrpc socket path: written in the bundle's
// address file, else derived as containerd derives it (sha256 of
// containerd's address, namespace and ID, under /run/containerd/s).
func shimSocket(bundle string, p podsimProc) string {
	if b, err := os.ReadFile(filepath.Join(bundle, "address")); err == nil {
		if a := strings.TrimPrefix(strings.TrimSpace(string(b)), "unix://"); a != "" {
			return a
		}
	}
	if p.Address == "" || p.ShimID == "" {
		return ""
	}
	d := sha256.Sum256([]byte(filepath.Join(p.Address, runtime.Namespace, p.ShimID)))
	s := filepath.Join("/run/containerd/s", fmt.Sprintf("%x", d))
	if _, err := os.Stat(s); err != nil {
		return ""
	}
	return s
}

// shutdownShim asks the shim over its socket to kill and delete the task
// id (what is left of the pod's sandbox) and to shut down. Errors are
// expected (the task may never have been created; the connection closes as
// the shim exits) and ignored: the caller checks that the process is gone.
func shutdownShim(ctx context.Context, sock, id string) {
	conn, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()
	svc := taskapi.NewTaskClient(client)
	call := func(f func(context.Context)) {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		f(cctx)
	}
	call(func(c context.Context) {
		_, _ = svc.Kill(c, &taskapi.KillRequest{ID: id, Signal: uint32(syscall.SIGKILL), All: true})
	})
	call(func(c context.Context) { _, _ = svc.Delete(c, &taskapi.DeleteRequest{ID: id}) })
	call(func(c context.Context) { _, _ = svc.Shutdown(c, &taskapi.ShutdownRequest{ID: id, Now: true}) })
}

// removeBundle removes a dead shim's task state dir (and its work dir,
// which the bundle's "work" link points at), unmounting the rootfs first.
// Only a directory of podsim's namespace, named after the shim's ID.
func removeBundle(bundle, id string) error {
	if bundle == "" || id == "" || filepath.Base(bundle) != id ||
		!strings.HasSuffix(filepath.Dir(bundle), "/io.containerd.runtime.v2.task/"+runtime.Namespace) {
		return nil
	}
	for _, mp := range MountsUnder(bundle) {
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmounting %s: %w", mp, err) // never rm -r across a live mount
		}
	}
	if work, err := os.Readlink(filepath.Join(bundle, "work")); err == nil &&
		filepath.Base(work) == id && strings.HasSuffix(filepath.Dir(work), "/io.containerd.runtime.v2.task/"+runtime.Namespace) {
		if err := os.RemoveAll(work); err != nil {
			return err
		}
	}
	return os.RemoveAll(bundle)
}
