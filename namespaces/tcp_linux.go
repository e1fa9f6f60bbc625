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

// ListeningTCP returns the IPv4 TCP sockets in LISTEN state ("127.0.0.1:5000")
// of the network namespace that pid is in, read from /proc/<pid>/net/tcp.
// That file shows the socket table of the *reader's target's* network
// namespace, so two pids print the same table exactly when they share one.
// pid 0 means this process (the host's namespace).
func ListeningTCP(pid int) ([]string, error) {
	path := "/proc/self/net/tcp"
	if pid > 0 {
		path = fmt.Sprintf("/proc/%d/net/tcp", pid)
	}
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
		if !ok || len(addr) != 8 {
			continue
		}
		b, err := hex.DecodeString(addr)
		if err != nil {
			continue
		}
		p, err := strconv.ParseUint(port, 16, 16)
		if err != nil {
			continue
		}
		// /proc prints the address as a little-endian 32-bit word.
		ip := net.IPv4(b[3], b[2], b[1], b[0])
		out = append(out, fmt.Sprintf("%s:%d", ip, p))
	}
	return out, sc.Err()
}
