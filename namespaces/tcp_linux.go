package namespaces

import (
	"fmt"
	"os"
)

// ListeningTCP returns the TCP sockets in LISTEN state ("127.0.0.1:5000",
// "[::]:8080") of the network namespace that pid is in, read from
// /proc/<pid>/net/tcp and tcp6.
// That file shows the socket table of the *reader's target's* network
// namespace, so two pids print the same table exactly when they share one.
// pid 0 means this process (the host's namespace).
func ListeningTCP(pid int) ([]string, error) {
	base := "/proc/self/net/"
	if pid > 0 {
		base = fmt.Sprintf("/proc/%d/net/", pid)
	}
	out, err := listening(base + "tcp")
	if err != nil {
		return nil, err
	}
	v6, err := listening(base + "tcp6")
	if err == nil {
		out = append(out, v6...)
	}
	return out, nil
}

func listening(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseListening(f)
}
