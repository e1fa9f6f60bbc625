package agentapi

import (
	"net"

	"golang.org/x/sys/unix"
)

// peer is the PID and UID of the process at the other end of a unix
// socket, from the kernel (SO_PEERCRED), not from anything it sent.
func peer(c net.Conn) (pid, uid int, ok bool) {
	uc, isUnix := c.(*net.UnixConn)
	if !isUnix {
		return 0, 0, false
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, 0, false
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil || cerr != nil {
		return 0, 0, false
	}
	return int(cred.Pid), int(cred.Uid), true
}
