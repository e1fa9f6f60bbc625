package namespaces

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// ParseListening returns the sockets in LISTEN state ("127.0.0.1:5000",
// "[::]:8080") of a /proc/<pid>/net/tcp or tcp6 table read from r. It is
// apart from ListeningTCP so a table read elsewhere (on a cluster's node,
// through a pod) is parsed the same way.
func ParseListening(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
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

// ParseLink parses an nsfs link text such as "net:[4026531840]".
func ParseLink(link, typ string) (ID, error) {
	open := strings.IndexByte(link, '[')
	if open < 0 || !strings.HasSuffix(link, "]") {
		return ID{}, fmt.Errorf("unexpected namespace link %q", link)
	}
	n, err := strconv.ParseUint(link[open+1:len(link)-1], 10, 64)
	if err != nil {
		return ID{}, fmt.Errorf("parsing namespace link %q: %w", link, err)
	}
	return ID{Type: typ, Inode: n}, nil
}
