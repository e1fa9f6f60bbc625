//go:build !linux

package namespaces

// ID identifies a namespace; namespaces exist only on Linux.
type ID struct {
	Type  string
	Inode uint64
}

func PinNetNS(name string) (string, error) { return "", ErrNotLinux }
func RemoveNetNS(path string) error        { return ErrNotLinux }
func IsPinned(path string) bool            { return false }
func Of(pid int) (map[string]ID, error)    { return nil, ErrNotLinux }
func Read(path, typ string) (ID, error)    { return ID{}, ErrNotLinux }

func ListeningTCP(pid int) ([]string, error) { return nil, ErrNotLinux }

func PinNetNSOf(name, nsPath string) (string, error) { return "", ErrNotLinux }
