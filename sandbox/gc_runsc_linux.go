package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podsim/podsim/sandbox/runtime"
)

// gVisor's leftovers after a crash. Normally gVisor's shim removes a
// container's runsc state (runsc delete) and the pod's Sentry and gofers
// exit with the sandbox. If the shim was killed, a Sentry can outlive it
// (it is the shim's child, reparented), and runsc's state files and the
// sandbox's control socket stay in RunscRoot.

// stopStrayRunsc ends a runsc-sandbox or runsc-gofer of podsim's runsc root
// whose shim is gone: SIGKILL to that very process (same PID and start
// time, command line re-read), as containerd's runsc shim would kill it.
func stopStrayRunsc(p podsimProc) error {
	again, ok := readPodsimProc(p.PID)
	if !ok || again.Start != p.Start || !again.Runsc {
		return nil // not that process any more
	}
	if err := unix.Kill(p.PID, syscall.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("killing stray gVisor process %d: %w", p.PID, err)
	}
	if !p.waitGone(3 * time.Second) {
		return fmt.Errorf("%w: gVisor process %d got SIGKILL and has not exited yet", errStillGoing, p.PID)
	}
	return nil
}

// gvisorShimState reads, in one scan of /proc, whether gVisor's shim
// daemon of sandbox id runs (it is named by the sandbox ID: one shim per
// pod) and whether containerd is cleaning up after a dead one: it runs the
// shim binary's "delete" for each of the sandbox's containers (IDs id and
// id-<name>[.N]).
func gvisorShimState(id string) (daemon, cleanup bool) {
	for _, p := range listPodsimProcs() {
		ours := p.ShimID == id || strings.HasPrefix(p.ShimID, id+"-")
		switch {
		case !ours || !p.alive():
		case p.ShimAction == "delete":
			cleanup = true
		case p.ShimAction == "" && p.ShimID == id:
			daemon = true
		}
	}
	return daemon, cleanup
}

// removeStaleBundles removes the task bundles of the sandbox id's
// containers that containerd's cleanup after a dead gVisor shim left
// behind: gVisor's "shim delete" can outlast containerd's 5 s limit and
// be killed, and containerd then keeps the bundle (rootfs still mounted),
// so no task with that ID can be made again. Called once containerd has
// no task of the sandbox left (the rebuild removed them).
func removeStaleBundles(id string) {
	for _, mp := range mountPoints() {
		if filepath.Base(mp) != "rootfs" {
			continue
		}
		bundle := filepath.Dir(mp)
		if b := filepath.Base(bundle); b == id || strings.HasPrefix(b, id+"-") {
			_ = removeBundle(bundle, b)
		}
	}
}

// gcRunscState plans the removal of runsc's files in its root of
// containers containerd no longer has: state files (<cid>_sandbox:<sid>
// .state and .lock) and sandbox control sockets (runsc-<sid>.sock); then
// of runsc's shared null network namespace, once no sandbox is left.
func (m *Manager) gcRunscState(ctx context.Context, add gcAdd) {
	dir := filepath.Join(RunscRoot, runtime.Namespace)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		id, _, ok := strings.Cut(e.Name(), "_sandbox:")
		if !ok {
			sid, isSock := strings.CutSuffix(strings.TrimPrefix(e.Name(), "runsc-"), ".sock")
			if !isSock || !strings.HasPrefix(e.Name(), "runsc-") {
				continue
			}
			id = sid
		}
		path := filepath.Join(dir, e.Name())
		add("file "+path, func(ctx context.Context) error {
			if _, err := m.client.LoadContainer(ctx, id); err == nil {
				return fmt.Errorf("runsc file %s: container %s still exists", path, id)
			}
			if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
				return err
			}
			return nil
		})
	}
	if _, err := os.Lstat(filepath.Join(dir, specNullNetNS)); err == nil {
		add("gVisor's null network namespace "+filepath.Join(dir, specNullNetNS), func(context.Context) error {
			if !releaseNullNetNS() {
				return fmt.Errorf("%s: gVisor sandboxes still run under %s", specNullNetNS, dir)
			}
			return nil
		})
	}
}

// specNullNetNS is runsc's shared empty network namespace for gofers,
// bind-mounted in its root (runsc's specutils.NullNetNSFilename).
const specNullNetNS = "null-netns"

// releaseNullNetNS unmounts and removes runsc's null-netns once no gVisor
// sandbox is left under podsim's runsc root (no state file): runsc pins it
// with the first sandbox and keeps it for the next, so without this the
// last gVisor pod would leave a mount behind. It reports whether the root
// is free of it. Callers hold the host lock, so no sandbox starts meanwhile.
func releaseNullNetNS() bool {
	dir := filepath.Join(RunscRoot, runtime.Namespace)
	if states, _ := filepath.Glob(filepath.Join(dir, "*.state")); len(states) > 0 {
		return false
	}
	path := filepath.Join(dir, specNullNetNS)
	// Concurrent runsc calls may have stacked bind mounts: undo them all.
	for unix.Unmount(path, unix.MNT_DETACH) == nil {
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return false
	}
	return true
}
