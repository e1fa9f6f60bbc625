package namespaces

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
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
	var out []string
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || fields[3] != "0A" { // 0A = TCP_LISTEN
			continue
		}
		addr, port, ok := strings.Cut(fields[1], ":")
		b, err := hex.DecodeString(addr)
		if !ok || err != nil || (len(b) != 4 && len(b) != 16) {
			continue
		}
		p, err := strconv.ParseUint(port, 16, 16)
		if err != nil {
			continue
		}
		// /proc prints the address as little-endian 32-bit words.
		ip := make(net.IP, len(b))
		for i := 0; i < len(b); i += 4 {
			ip[i], ip[i+1], ip[i+2], ip[i+3] = b[i+3], b[i+2], b[i+1], b[i]
		}
		if len(b) == 4 {
			out = append(out, fmt.Sprintf("%s:%d", ip, p))
		} else {
			out = append(out, fmt.Sprintf("[%s]:%d", ip, p))
		}
	}
	return out, sc.Err()
}
