package images

import (
	"os"
	"syscall"
)

// fileIdentity is what tells a replaced file from the same one: inode,
// device and ctime (a package upgrade writes a new inode; a chmod or an
// in-place write changes ctime).
func fileIdentity(fi os.FileInfo) (ino, dev uint64, ctime int64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino, uint64(st.Dev), st.Ctim.Sec*1e9 + st.Ctim.Nsec
	}
	return 0, 0, 0
}
