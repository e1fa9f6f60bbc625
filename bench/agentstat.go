package bench

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat: the kernel
// always exports them in USER_HZ (100 per second on Linux, whatever
// CONFIG_HZ is; see proc(5), "utime").
const userHZ = 100

// ParseStatCPU returns a process's user + system CPU time from the text of
// /proc/<pid>/stat (fields 14 and 15, utime and stime). The command name
// (field 2) is in parentheses and may itself contain spaces or ")", so the
// fields are counted from the last ")".
func ParseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("not a /proc/<pid>/stat line: %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state), so field N is f[N-3].
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/<pid>/stat has %d fields after the name, want at least 13", len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/<pid>/stat: utime %q, stime %q are not numbers", f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / userHZ, nil
}

// AgentUsage is the node agent's memory while it serves Pods pods: its
// RSS is shared by every pod it serves, so each pod's share is RSS/Pods.
type AgentUsage struct {
	PID         int       `json:"pid"`
	RSSKB       int64     `json:"rssKB"`
	PSSKB       int64     `json:"pssKB"`
	Pods        int       `json:"pods"`
	RSSKBPerPod JSONRatio `json:"rssKBPerPod"`
}

// AgentIdle is the agent's CPU over a window in which nothing happens
// (pods running, no command, no probe), and its memory then.
type AgentIdle struct {
	Pods       int           `json:"pods"`
	Window     time.Duration `json:"windowNs"`
	CPU        time.Duration `json:"cpuNs"`
	CPUPercent JSONRatio     `json:"cpuPercentOfOneCore"`
	RSSKB      int64         `json:"rssKB"`
	Error      string        `json:"error,omitempty"`
}
