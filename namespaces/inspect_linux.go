package namespaces

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ID identifies a namespace the way the kernel prints it: "net:[4026532301]".
// Two processes share a namespace exactly when their IDs are equal.
type ID struct {
	Type  string
	Inode uint64
}

func (id ID) String() string { return fmt.Sprintf("%s:[%d]", id.Type, id.Inode) }

// Of reads the namespaces of a process from /proc/<pid>/ns. pid 0 means the
// calling process, which stands in for "the host": /proc/1/ns is not
// readable on every machine (containers, some VMs), /proc/self/ns always is.
func Of(pid int) (map[string]ID, error) {
	base := "/proc/self/ns"
	if pid > 0 {
		base = "/proc/" + strconv.Itoa(pid) + "/ns"
	}
	out := make(map[string]ID, len(Types))
	for _, t := range Types {
		id, err := Read(base+"/"+t, t)
		if err != nil {
			if os.IsNotExist(err) {
				continue // kernel without this namespace type
			}
			return nil, err
		}
		out[t] = id
	}
	return out, nil
}

// Read parses the nsfs link at path, e.g. /proc/42/ns/net or a pin under
// /run/netns (for a pin, the inode of the bind-mounted file is the namespace).
func Read(path, typ string) (ID, error) {
	link, err := os.Readlink(path)
	if err != nil {
		// A pin is a bind mount, not a symlink: stat gives the nsfs inode.
		fi, serr := os.Stat(path)
		if serr != nil {
			return ID{}, err
		}
		return ID{Type: typ, Inode: inodeOf(fi)}, nil
	}
	// link looks like "net:[4026531840]"
	open := strings.IndexByte(link, '[')
	if open < 0 || !strings.HasSuffix(link, "]") {
		return ID{}, fmt.Errorf("unexpected namespace link %q at %s", link, path)
	}
	n, err := strconv.ParseUint(link[open+1:len(link)-1], 10, 64)
	if err != nil {
		return ID{}, fmt.Errorf("parsing namespace link %q: %w", link, err)
	}
	return ID{Type: link[:open-1], Inode: n}, nil
}
