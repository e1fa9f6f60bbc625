package sandbox

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// fsGroup (kubelet's pkg/volume SetVolumeOwnership): every file of a
// volume the pod owns (emptyDir, configMap, secret, downwardAPI,
// projected; never a hostPath) is given to the pod's fsGroup, made group
// readable (and writable, unless the volume is read-only) and every
// directory setgid, so that what containers create later is the group's
// too. With the group as a supplementary group of every container
// (podSupplementalGroups), a non-root container can use the volume.
//
// fsGroupChangePolicy OnRootMismatch lets kubelet skip the walk when the
// volume's root already has the group and the bits; kubelet passes no
// policy for these volume kinds (they are made new for each pod, and a
// rewrite of a projected volume must reach the new files), so podsim
// always walks, as kubelet does for them.

// Permission bits kubelet adds: group rw (ro for read-only volumes), and
// group x plus setgid on directories.
const (
	fsGroupRW   fs.FileMode = 0o660
	fsGroupRO   fs.FileMode = 0o440
	fsGroupExec fs.FileMode = 0o110
)

// setVolumeOwnership walks dir: lchown(uid unchanged, fsGroup) of every
// entry, then for all but symlinks chmod with the group bits (and setgid
// on directories). No fsGroup: nothing to do.
func setVolumeOwnership(dir string, fsGroup *int64, readOnly bool) error {
	if fsGroup == nil {
		return nil
	}
	gid := int(*fsGroup)
	return filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		if err := os.Lchown(p, int(st.Uid), gid); err != nil {
			return fmt.Errorf("giving %s to fsGroup %d: %w", p, gid, err)
		}
		if info.Mode()&os.ModeSymlink != 0 {
			return nil // a symlink's own bits mean nothing
		}
		return os.Chmod(p, info.Mode()|ownershipMask(info.IsDir(), readOnly))
	})
}

// ownershipMask is the bits kubelet adds to a file or directory.
func ownershipMask(dir, readOnly bool) fs.FileMode {
	mask := fsGroupRW
	if readOnly {
		mask = fsGroupRO
	}
	if dir {
		mask |= os.ModeSetgid | fsGroupExec
	}
	return mask
}
