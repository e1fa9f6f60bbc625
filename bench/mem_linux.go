package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ScanProcs reads every process. Processes that exit while being read are
// skipped; kernel threads (no cmdline) are skipped.
func ScanProcs() map[int]*Proc {
	out := map[int]*Proc{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(d + "/cmdline")
		if err != nil || len(raw) == 0 {
			continue
		}
		p := &Proc{PID: pid, Cmdline: strings.TrimSpace(string(bytes.ReplaceAll(raw, []byte{0}, []byte{' '})))}
		p.MntNS, _ = os.Readlink(d + "/ns/mnt")
		st, err := os.ReadFile(d + "/status")
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(st), "\n") {
			k, v, ok := strings.Cut(l, ":")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch k {
			case "Name":
				p.Comm = v
			case "PPid":
				p.PPID, _ = strconv.Atoi(v)
			case "VmRSS":
				p.RSSKB = kb(v)
			}
		}
		out[pid] = p
	}
	return out
}

// readPSS reads a process's proportional set size (kB); 0 if unreadable.
func readPSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Pss:"); ok {
			return kb(strings.TrimSpace(v))
		}
	}
	return 0
}

func kb(v string) int64 {
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n
}

// Usage is the memory of a system's per-pod processes: the runtime
// processes (shims, conmon) and the infrastructure processes they parent
// (pause, catatonit, log drivers), not the workload itself.
type Usage struct {
	Procs  int              `json:"procs"`
	Shims  int              `json:"shims"` // per-pod runtime processes: containerd shims or conmon
	RSSKB  int64            `json:"rssKB"`
	PSSKB  int64            `json:"pssKB"`
	ByKind map[string]int64 `json:"rssKBByKind"`
}

// ProcKind classifies a process of a pod's process tree: "shim", "conmon",
// "pause", "catatonit", "sentry", "gofer" and "runsc" (gVisor's) or ""
// (workload).
// podsim has no per-container log process: the node agent writes the logs
// (its memory is not per pod).
func ProcKind(p *Proc) string {
	cl := p.Cmdline
	switch {
	case strings.Contains(cl, "containerd-shim"):
		return "shim"
	case p.Comm == "conmon":
		return "conmon"
	case cl == "/pause" || strings.HasSuffix(strings.Fields(cl + " x")[0], "/pause"):
		return "pause"
	case strings.Contains(cl, "catatonit"):
		return "catatonit"
	// gVisor's processes: the Sentry is the container's kernel (and holds
	// its workload's memory too, which no host process of its own shows),
	// the gofer serves its files.
	case strings.HasPrefix(cl, "runsc-sandbox"):
		return "sentry"
	case strings.HasPrefix(cl, "runsc-gofer"):
		return "gofer"
	// gVisor's shim runs "runsc wait" for each container, for as long as
	// the container runs.
	case filepath.Base(strings.Fields(cl + " x")[0]) == "runsc":
		return "runsc"
	}
	return ""
}

// Overhead sums the processes rooted at the processes isRoot selects, and
// their descendants that are infrastructure: the known kinds (ProcKind !=
// "": pause, catatonit, ...) and any process that runs in the root's own
// mount namespace, i.e. on the runtime's side rather than in a container
// (a log driver, whatever a runtime adds later: found, not listed; it is
// labelled by its command name). Workload processes (in a container's
// mount namespace) and everything below them are not counted.
func Overhead(procs map[int]*Proc, isRoot func(*Proc) bool) Usage {
	children := map[int][]*Proc{}
	for _, p := range procs {
		children[p.PPID] = append(children[p.PPID], p)
	}
	u := Usage{ByKind: map[string]int64{}}
	seen := map[int]bool{}
	var add func(p *Proc, root bool, rootMnt string)
	add = func(p *Proc, root bool, rootMnt string) {
		if seen[p.PID] {
			return
		}
		kind := ProcKind(p)
		runtimeSide := p.MntNS != "" && p.MntNS == rootMnt
		if !root && kind == "" && !runtimeSide {
			return // workload
		}
		if kind == "" {
			kind = p.Comm
		}
		if kind == "" {
			kind = "other"
		}
		seen[p.PID] = true
		u.Procs++
		if root {
			u.Shims++
		}
		u.RSSKB += p.RSSKB
		u.PSSKB += readPSS(p.PID)
		u.ByKind[kind] += p.RSSKB
		for _, c := range children[p.PID] {
			add(c, false, rootMnt)
		}
	}
	for _, p := range procs {
		if isRoot(p) {
			add(p, true, p.MntNS)
		}
	}
	return u
}

// Sub returns u - base (what the pods added).
func (u Usage) Sub(base Usage) Usage {
	out := Usage{Procs: u.Procs - base.Procs, Shims: u.Shims - base.Shims, RSSKB: u.RSSKB - base.RSSKB, PSSKB: u.PSSKB - base.PSSKB, ByKind: map[string]int64{}}
	for k, v := range u.ByKind {
		out.ByKind[k] = v - base.ByKind[k]
	}
	for k, v := range base.ByKind {
		if _, ok := u.ByKind[k]; !ok {
			out.ByKind[k] = -v
		}
	}
	return out
}
