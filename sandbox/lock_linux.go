package sandbox

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lock takes podsim's host-wide lock. Pod creation and removal change shared
// kernel state (the bridge, IPAM, the podsim cgroup parent, name
// uniqueness), so podsim processes take turns; readers (get, logs, exec)
// do not lock. flock is released by the kernel if podsim dies.
func (m *Manager) lock() (func(), error) {
	p := m.paths.lockFile()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", p, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", p, err)
	}
	return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
}
