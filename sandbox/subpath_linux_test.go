package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPinSubPath (root: it bind-mounts): the subPath mount is of the inode
// opened beneath the volume; a component that is (or became) a symlink is
// refused rather than followed — the window CVE-2021-25741 used.
func TestPinSubPath(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: bind mounts")
	}
	vol := t.TempDir()
	outside := t.TempDir()
	targets := t.TempDir()
	os.MkdirAll(filepath.Join(vol, "a/b"), 0o755)
	os.WriteFile(filepath.Join(vol, "a/b/file"), []byte("inside"), 0o644)
	os.WriteFile(filepath.Join(outside, "secret"), []byte("host secret"), 0o644)
	unmount := func(p string) { unix.Unmount(p, unix.MNT_DETACH) }

	// A file and a directory: the mount shows the very same inode.
	for _, rel := range []string{"a/b/file", "a/b"} {
		target := filepath.Join(targets, strings.ReplaceAll(rel, "/", "_"))
		if err := pinSubPath(vol, rel, target); err != nil {
			t.Fatalf("pinSubPath(%s): %v", rel, err)
		}
		t.Cleanup(func() { unmount(target) })
		var want, got syscall.Stat_t
		syscall.Stat(filepath.Join(vol, rel), &want)
		syscall.Stat(target, &got)
		if want.Ino != got.Ino || want.Dev != got.Dev {
			t.Errorf("%s: mount shows inode %d, want %d", rel, got.Ino, want.Ino)
		}
	}

	// What a container could do between podsim's check and the mount:
	// replace a directory on the path, or the file itself, by a symlink
	// to the host. Neither may be followed.
	os.Rename(filepath.Join(vol, "a/b"), filepath.Join(vol, "a/b.orig"))
	if err := os.Symlink(outside, filepath.Join(vol, "a/b")); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(targets, "swapped-dir")
	if err := pinSubPath(vol, "a/b/secret", target); err == nil {
		unmount(target)
		t.Error("a directory swapped for a symlink was followed out of the volume")
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(vol, "a/link")); err != nil {
		t.Fatal(err)
	}
	target = filepath.Join(targets, "swapped-file")
	if err := pinSubPath(vol, "a/link", target); err == nil {
		unmount(target)
		t.Error("a file swapped for a symlink was followed out of the volume")
	}
	if err := pinSubPath(vol, "../"+filepath.Base(outside)+"/secret", filepath.Join(targets, "dotdot")); err == nil {
		unmount(filepath.Join(targets, "dotdot"))
		t.Error("'..' escaped the volume")
	}
}

func TestMkdirNoSymlinks(t *testing.T) {
	base := t.TempDir()
	if err := mkdirNoSymlinks(base, "a/b"); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(base, "evil")); err != nil {
		t.Fatal(err)
	}
	if err := mkdirNoSymlinks(base, "evil/x"); err == nil {
		t.Error("followed a symlink out of the volume")
	}
	if _, err := os.Stat(filepath.Join(outside, "x")); err == nil {
		t.Error("created a directory outside the volume")
	}
}
