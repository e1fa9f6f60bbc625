package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ignoresSIGTERM reports whether pid is the init process of its PID
// namespace (last NSpid field is 1) and has no SIGTERM handler (bit 15 of
// SigCgt clear). The kernel drops such signals to a namespace's init.
func ignoresSIGTERM(pid int) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	defer f.Close()
	isInit, caught := false, true
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		switch k {
		case "NSpid":
			isInit = len(fields) > 1 && fields[len(fields)-1] == "1"
		case "SigCgt":
			if len(fields) == 1 {
				mask, err := strconv.ParseUint(fields[0], 16, 64)
				if err == nil {
					caught = mask&(1<<(15-1)) != 0
				}
			}
		}
	}
	return isInit && !caught
}

// waitExeced waits (at most max) until pid is no longer runc's init, i.e.
// the container's own program has been exec'd. `runc start` returns once
// it has released runc init, a moment before the execve: a signal sent in
// that window goes to runc init, which has handlers for every signal, and
// is gone — a SIGTERM would then be lost and the stop would wait out the
// whole grace period.
func waitExeced(pid int, max time.Duration) {
	deadline := time.Now().Add(max)
	for {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || !strings.HasPrefix(string(comm), "runc:[") || time.Now().After(deadline) {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// procState describes pid as the kernel sees it, for an error message:
// gone, a zombie its parent has not reaped, or still there with its state
// letter from /proc/<pid>/stat.
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return fmt.Sprintf("the kernel has no process %d any more", pid)
	}
	// The state follows the command name, which is in parentheses and may
	// itself contain ") ".
	i := strings.LastIndex(string(b), ") ")
	if i < 0 || i+2 >= len(b) {
		return fmt.Sprintf("process %d is still there", pid)
	}
	switch st := b[i+2]; st {
	case 'Z':
		return fmt.Sprintf("process %d is a zombie its parent (the shim) has not reaped", pid)
	default:
		return fmt.Sprintf("process %d is still there, state %c", pid, st)
	}
}
