package scenarios

import (
	"os"
	"syscall"

	"github.com/podsim/podsim/namespaces"
)

// ListeningOn lists the TCP listeners of pid's network namespace.
func ListeningOn(pid int) ([]string, error) { return namespaces.ListeningTCP(pid) }

// ListeningOnHost lists the TCP listeners of podsim's own (the host's) network namespace.
func ListeningOnHost() ([]string, error) { return namespaces.ListeningTCP(0) }

func inode(fi os.FileInfo) uint64 {
	if fi == nil {
		return 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

// readPin returns the namespace inode behind a /run/netns pin.
func readPin(path string) (uint64, error) {
	id, err := namespaces.Read(path, "net")
	return id.Inode, err
}
