package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// lock takes podsim's host-wide lock. Pod creation and removal change shared
// kernel state (the bridge, IPAM, the podsim cgroup parent, name
// uniqueness, the hosts files), so podsim processes take turns; readers
// (get, logs, exec) do not lock. flock is released by the kernel if podsim
// dies. Waiting can be interrupted (Ctrl-C), and says what it waits for.
func (m *Manager) lock(ctx context.Context) (func(), error) {
	return m.flock(ctx, m.paths.lockFile(), "another podsim command to finish creating or deleting a pod")
}

// Locked runs f holding the host-wide pod lock. The objects pods read
// (Services for /etc/hosts, ConfigMaps and Secrets for volumes) change under
// it, so that a pod being built sees the object either before or after the
// change, and the refresh that follows the change (RefreshHosts,
// RefreshProjections) reaches every pod already built.
func (m *Manager) Locked(ctx context.Context, f func() error) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return f()
}

// FileLock takes an exclusive lock on the file rel below podsim's run
// directory, for locks of other packages (one per Deployment); waitingFor
// says what a command that has to wait for it waits for.
func (m *Manager) FileLock(ctx context.Context, rel, waitingFor string) (func(), error) {
	return m.flock(ctx, filepath.Join(m.paths.Run, rel), waitingFor)
}

func (m *Manager) flock(ctx context.Context, p, waitingFor string) (func(), error) {
	return flockFile(ctx, p, waitingFor, m.progress)
}

// RemoveIdleBridge deletes podsim's bridge if no pod is plugged into it,
// holding the host-wide pod lock so that no pod is being wired meanwhile
// (`podsim system stop`: the node's infrastructure goes with the runtime).
func RemoveIdleBridge(ctx context.Context, paths Paths, bridge string) (bool, error) {
	unlock, err := flockFile(ctx, paths.lockFile(), "another podsim command to finish creating or deleting a pod", func(string) {})
	if err != nil {
		return false, err
	}
	defer unlock()
	return RemoveBridgeIfUnused(bridge)
}

// flockFile takes an exclusive flock(2) on p, polling so that ctx can end the wait.
func flockFile(ctx context.Context, p, waitingFor string, progress func(string)) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", p, err)
	}
	told := false
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", p, err)
		}
		if !told {
			progress("waiting for " + waitingFor + " (lock " + p + ")")
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the lock %s: %w", p, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
}
