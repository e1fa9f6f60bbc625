package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/namespaces"
)

// GVisorView is a gVisor pod seen from both sides of the kernel boundary
// the RuntimeClass moved. The pod is one gVisor sandbox: on the host, one
// Sentry (runsc-sandbox, a kernel written in Go that runs in user space and
// intercepts the application's system calls with ptrace here) runs every
// container of the pod, the pause included, and one gofer per container
// (runsc-gofer) opens that container's files for it; inside, the Sentry's
// own kernel answers: its uname, its /proc, a PID 1 that is the
// container's command and no host process.
type GVisorView struct {
	Sentry HostProc // the pod's Sentry: the pause's task as containerd reports it
	// Cgroup is the Sentry's cgroup: runsc puts the whole sandbox in the
	// pod cgroup, so the pod's limits bound the Sentry and its gofers.
	Cgroup string
	// UIDMap is the user namespace runsc runs the Sentry in (its
	// uid_map, read by Inspect for the pause's row).
	UIDMap string
	Rows   []GVisorRow // the pause first, then each app container
}

// GVisorRow is one container of a gVisor pod.
type GVisorRow struct {
	Name  string
	Gofer HostProc // PID 0 when not found
	// What the container sees (read by exec through runsc); empty for the
	// pause, whose image has no programs to ask with.
	Kernel string   // uname -r inside
	PID1   string   // /proc/1/cmdline inside
	PIDs   []string // the process IDs in the container's /proc
	Err    string
}

// HostProc is a process as the host kernel sees it.
type HostProc struct {
	PID     int
	Threads int
	RSSKB   int
	NS      map[string]namespaces.ID
}

// gvisorExecTimeout bounds each look inside a container: runsc exec starts
// a process in the Sentry, which takes a few hundred ms under ptrace.
const gvisorExecTimeout = 20 * time.Second

// InspectGVisor reads, for a pod run by the runsc handler, the host's view
// of its Sentry and of each container's gofer, and each running app
// container's own view of its kernel. Nil for a pod of another handler.
func (m *Manager) InspectGVisor(ctx context.Context, in *Inspection) *GVisorView {
	st := in.State
	if st.RuntimeHandler != HandlerRunsc {
		return nil
	}
	v := &GVisorView{}
	gofers := gofersByContainer() // one /proc scan for all containers
	for _, r := range in.Rows {
		if r.Role == RoleSandbox && r.PID != 0 {
			v.Sentry = hostProc(int(r.PID))
			v.Cgroup = cgroups.OfProcess(int(r.PID))
			v.UIDMap = strings.Join(strings.Fields(r.UIDMap), " ")
			v.Rows = append(v.Rows, GVisorRow{Name: r.Name, Gofer: hostProcOr0(gofers[st.ID])})
		}
	}
	for _, c := range st.Containers {
		row := GVisorRow{Name: c.Name, Gofer: hostProcOr0(gofers[c.ID])}
		if c.PID == 0 {
			row.Err = c.Status
		} else {
			row.Kernel, row.PID1, row.PIDs, row.Err = m.gvisorInside(ctx, st.Pod.Namespace, st.Pod.Name, c.Name)
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

func hostProcOr0(pid int) HostProc {
	if pid == 0 {
		return HostProc{}
	}
	return hostProc(pid)
}

// gvisorInside runs uname -r, cat /proc/1/cmdline and ls /proc in the
// container (three execs of busybox applets, no shell needed).
func (m *Manager) gvisorInside(ctx context.Context, ns, pod, ctr string) (kernel, pid1 string, pids []string, errText string) {
	run := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		ctx, cancel := context.WithTimeout(ctx, gvisorExecTimeout)
		defer cancel()
		code, err := m.Exec(ctx, ns, pod, ctr, args, ExecIO{Stdout: &out, Stderr: &errb})
		if err == nil && code != 0 {
			err = fmt.Errorf("%s exited %d: %s", strings.Join(args, " "), code, strings.TrimSpace(errb.String()))
		}
		return out.String(), err
	}
	k, err := run("uname", "-r")
	if err != nil {
		return "", "", nil, err.Error()
	}
	c1, err := run("cat", "/proc/1/cmdline")
	if err != nil {
		return "", "", nil, err.Error()
	}
	ls, err := run("ls", "/proc")
	if err != nil {
		return "", "", nil, err.Error()
	}
	for _, f := range strings.Fields(ls) {
		if _, err := strconv.Atoi(f); err == nil {
			pids = append(pids, f)
		}
	}
	return strings.TrimSpace(k), strings.TrimSpace(strings.ReplaceAll(c1, "\x00", " ")), pids, ""
}

// gofersByContainer maps container IDs to the PID of the runsc-gofer
// serving each: runsc starts it with the container's bundle, whose
// directory is named by the container ID.
func gofersByContainer() map[string]int {
	out := map[string]int{}
	for _, p := range listPodsimProcs() {
		if p.Runsc && strings.HasPrefix(p.Cmdline, "runsc-gofer") {
			if id := bundleOf(strings.Fields(p.Cmdline)); id != "" {
				out[id] = p.PID
			}
		}
	}
	return out
}

// bundleOf is the base name of runsc's --bundle argument ("--bundle DIR"
// or "--bundle=DIR"), "" without one.
func bundleOf(args []string) string {
	for i, a := range args {
		switch {
		case a == "--bundle" && i+1 < len(args):
			return filepath.Base(args[i+1])
		case strings.HasPrefix(a, "--bundle="):
			return filepath.Base(strings.TrimPrefix(a, "--bundle="))
		}
	}
	return ""
}

// hostProc reads a process's threads, RSS and namespaces from /proc.
func hostProc(pid int) HostProc {
	p := HostProc{PID: pid}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "Threads":
			p.Threads, _ = strconv.Atoi(f[0])
		case "VmRSS":
			p.RSSKB, _ = strconv.Atoi(f[0])
		}
	}
	p.NS, _ = namespaces.Of(pid)
	return p
}
