package namespaces

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// PinNetNS creates a new network namespace and keeps it alive without any
// process in it, by bind-mounting its nsfs file onto NetNSDir/name.
//
// Why: kubelet/CRI create the pod network *before* the pause container so
// that CNI can wire it; a namespace normally dies with its last process, the
// bind mount is what holds it.
//
// unshare(CLONE_NEWNET) changes the namespace of the calling *thread*, so the
// work runs on a dedicated, locked OS thread that is switched back to the
// original namespace afterwards. If switching back fails the thread is left
// locked, and Go then terminates it instead of reusing it in the wrong
// namespace.
func PinNetNS(name string) (string, error) {
	path, err := newPinFile(name)
	if err != nil {
		return "", err
	}

	errCh := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		origin, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errCh <- fmt.Errorf("reading current network namespace: %w", err)
			return
		}
		defer origin.Close()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errCh <- fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
			return
		}
		src := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		mountErr := unix.Mount(src, path, "none", unix.MS_BIND, "")
		if err := netns.Set(origin); err != nil {
			// Thread stays locked: the runtime discards it when this goroutine ends.
			errCh <- errors.Join(mountErr, fmt.Errorf("restoring network namespace of thread: %w", err))
			return
		}
		runtime.UnlockOSThread()
		if mountErr != nil {
			mountErr = fmt.Errorf("bind-mounting %s on %s: %w", src, path, mountErr)
		}
		errCh <- mountErr
	}()
	if err := <-errCh; err != nil {
		os.Remove(path)
		return "", err
	}
	return path, nil
}

// RemoveNetNS unpins a network namespace: detach the bind mount (the kernel
// frees the namespace once nothing else holds it) and delete the pin file.
// Idempotent: a missing pin is not an error, so teardown can be retried.
func RemoveNetNS(path string) error {
	if path == "" {
		return nil
	}
	if !strings.HasPrefix(filepath.Clean(path), NetNSDir+"/") {
		return fmt.Errorf("refusing to remove %q: not under %s", path, NetNSDir)
	}
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmounting netns pin %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing netns pin %s: %w", path, err)
	}
	return nil
}

// ensureSharedNetNSDir makes NetNSDir a shared mount point, as `ip netns add`
// does, so that pins made later propagate into mount namespaces created
// earlier and an unmount here releases the namespace everywhere.
func ensureSharedNetNSDir() error {
	if err := os.MkdirAll(NetNSDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", NetNSDir, err)
	}
	err := unix.Mount("", NetNSDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("making %s a shared mount: %w", NetNSDir, err)
	}
	// EINVAL: not a mount point yet. Bind it onto itself first.
	if err := unix.Mount(NetNSDir, NetNSDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind-mounting %s onto itself: %w", NetNSDir, err)
	}
	if err := unix.Mount("", NetNSDir, "none", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making %s a shared mount: %w", NetNSDir, err)
	}
	return nil
}

// IsPinned reports whether path is a live netns pin (an nsfs mount).
func IsPinned(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}

func validName(name string) error {
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return fmt.Errorf("invalid network namespace name %q", name)
	}
	return nil
}
