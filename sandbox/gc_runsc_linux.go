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

// gVisor's leftovers after a crash. Normally the runc shim removes a gVisor
// container's state (runsc delete --force, through podsim-runsc) and its
// Sentry and gofer exit with the container. If the shim was killed, a
// Sentry can outlive it (it is the shim's child, reparented), and runsc's
// state files stay in RunscRoot.

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

// gcRunscState plans the removal of runsc's state files (<id>_sandbox:<id>
// .state and .lock) of containers containerd no longer has.
func (m *Manager) gcRunscState(ctx context.Context, add gcAdd) {
	dir := filepath.Join(RunscRoot, runtime.Namespace)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		id, _, ok := strings.Cut(e.Name(), "_sandbox:")
		if !ok {
			continue
		}
		path := filepath.Join(dir, e.Name())
		add("file "+path, func(ctx context.Context) error {
			if _, err := m.client.LoadContainer(ctx, id); err == nil {
				return fmt.Errorf("runsc state %s: container %s still exists", path, id)
			}
			if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
				return err
			}
			return nil
		})
	}
}
