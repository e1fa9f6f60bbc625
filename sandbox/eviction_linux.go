package sandbox

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// diskUsage is what a directory tree holds on disk, counted the way
// kubelet's volume metrics count an emptyDir (pkg/volume/util/fs
// DiskUsage): allocated blocks (st_blocks × 512, so a sparse file counts
// what it really uses), every hard-linked inode once, and nothing on
// another file system (a mount inside it is not the volume's).
func diskUsage(root string) (int64, error) {
	var top syscall.Stat_t
	if err := syscall.Lstat(root, &top); err != nil {
		return 0, err
	}
	seen := map[uint64]bool{}
	var total int64
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // removed while walking
				return nil
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		if st.Dev != top.Dev {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if st.Nlink > 1 && !d.IsDir() {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		total += st.Blocks * 512
		return nil
	})
	return total, err
}

// emptyDirOverLimit is kubelet's emptyDirLimitEviction for one pod: the
// eviction message of the first disk emptyDir that holds more than its
// sizeLimit, or "" when none does (or the pod has none: no walk at all).
func (m *Manager) emptyDirOverLimit(rec *Record) string {
	for _, l := range diskEmptyDirLimits(&rec.Pod) {
		used, err := diskUsage(m.EmptyDirPath(rec, l.Name))
		if err != nil {
			if !os.IsNotExist(err) {
				m.warn("measuring emptyDir " + l.Name + " of pod " + rec.Name() + ": " + err.Error())
			}
			continue
		}
		if used > l.Limit.Value() {
			return emptyDirEvictionMessage(l.Name, l.Limit)
		}
	}
	return ""
}
