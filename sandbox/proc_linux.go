package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
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
