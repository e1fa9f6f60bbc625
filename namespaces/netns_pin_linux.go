package namespaces

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// PinNetNSOf pins the network namespace a process already has (nsPath,
// /proc/<pid>/ns/net) at NetNSDir/name, as containerd's NewNetNSFromPID
// does for a pod with a user namespace: there the pause makes the netns,
// so that it belongs to the pod's user namespace, and CNI wires it through
// the pin afterwards.
func PinNetNSOf(name, nsPath string) (string, error) {
	path, err := newPinFile(name)
	if err != nil {
		return "", err
	}
	if err := unix.Mount(nsPath, path, "none", unix.MS_BIND, ""); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("bind-mounting %s on %s: %w", nsPath, path, err)
	}
	return path, nil
}

// newPinFile makes the empty file NetNSDir/name a namespace is bind-mounted
// onto (as iproute2 and CNI's testutils do), refusing a name in use.
func newPinFile(name string) (string, error) {
	if err := validName(name); err != nil {
		return "", err
	}
	if err := ensureSharedNetNSDir(); err != nil {
		return "", err
	}
	path := filepath.Join(NetNSDir, name)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("network namespace pin %s already exists: remove it with 'podsim gc': %w", path, err)
		}
		return "", fmt.Errorf("creating netns pin file %s: %w", path, err)
	}
	f.Close()
	return path, nil
}
