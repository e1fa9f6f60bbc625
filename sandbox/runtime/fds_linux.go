package runtime

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// NoInheritedFDs marks every file descriptor above stderr close-on-exec, so
// a daemon this process starts (podsim's containerd supervisor, the bench's
// CRI containerd) does not carry descriptors podsim itself inherited.
//
// Go opens its own files with O_CLOEXEC, but a descriptor handed down by
// the caller is inherited as is, and a detached daemon would keep it open
// for its whole life. The case that matters: `flock LOCK podsim ...` (the
// Makefile and the bench take a host-wide lock that way) passes the locked
// descriptor on; a containerd supervisor started under it would hold the
// flock(2) lock forever and the next `flock LOCK` would wait for ever.
//
// close_range(2) with CLOSE_RANGE_CLOEXEC (Linux 5.11) does it in one call;
// older kernels get the same from a walk of /proc/self/fd.
func NoInheritedFDs() {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd) // the directory's own fd is harmless to flag too
		}
	}
}
