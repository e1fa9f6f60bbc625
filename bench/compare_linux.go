package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/containerd"
	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/namespaces"
	"github.com/podsim/podsim/sandbox"
	"github.com/podsim/podsim/sandbox/images"
)

// PodView is one runtime's pod: a row per process (sandbox first) with its
// host PID and OCI spec.
type PodView struct {
	Runtime string
	PodIP   string
	Rows    []RowView
}

// RowView is the sandbox or one container.
type RowView struct {
	Name    string
	PID     int    // 0 when not running (an init container that finished)
	Spec    []byte // OCI runtime spec (JSON)
	Sandbox bool
	Mounts  []string // the container's volume mount paths, compared too
}

var nsTypes = []string{"net", "ipc", "uts", "pid", "mnt", "cgroup", "user", "time"}

// CollectFacts reads what the kernel and the specs say about a pod.
func CollectFacts(v PodView) *Facts {
	f := &Facts{Runtime: v.Runtime}
	host, _ := namespaces.Of(0)
	var sbNS map[string]namespaces.ID
	var sbCgroup string
	for _, r := range v.Rows {
		if r.Sandbox && r.PID > 0 {
			sbNS, _ = namespaces.Of(r.PID)
			sbCgroup = cgroups.OfProcess(r.PID)
		}
	}
	ident := map[string]int{} // device+root of shared mounts -> first-seen index
	norm := func(s string) string {
		if v.PodIP != "" {
			s = strings.ReplaceAll(s, v.PodIP, "<pod-ip>")
		}
		return s
	}
	for _, r := range v.Rows {
		waitExec(r.PID)
		if r.PID > 0 {
			ns, _ := namespaces.Of(r.PID)
			for _, t := range nsTypes {
				id, ok := ns[t]
				if !ok {
					continue
				}
				f.Set(r.Name, "namespaces", t, NSRelation(id.String(), sbNS[t].String(), host[t].String(), r.Sandbox))
			}
			cg := cgroups.OfProcess(r.PID)
			f.Set(r.Name, "cgroup", "cgroup path", cg)
			shape := "?"
			switch {
			case r.Sandbox:
				shape = "child of the pod cgroup"
			case sbCgroup != "" && path.Dir(cg) == path.Dir(sbCgroup):
				shape = "sibling of the sandbox's, in one pod cgroup"
			default:
				shape = "elsewhere than the sandbox's pod cgroup"
			}
			f.Set(r.Name, "cgroup", "cgroup nesting", shape)
			for item, file := range map[string]string{"cpu.shares": "cpu/cpu.shares", "cpu.cfs_quota_us": "cpu/cpu.cfs_quota_us", "memory.limit_in_bytes": "memory/memory.limit_in_bytes"} {
				if b, err := os.ReadFile("/sys/fs/cgroup/" + path.Dir(file) + cg + "/" + path.Base(file)); err == nil {
					f.Set(r.Name, "cgroup", item, strings.TrimSpace(string(b)))
				}
			}
			if !r.Sandbox {
				if b, err := os.ReadFile("/sys/fs/cgroup/memory" + path.Dir(cg) + "/memory.limit_in_bytes"); err == nil {
					f.Set(r.Name, "cgroup", "pod cgroup memory.limit_in_bytes", strings.TrimSpace(string(b)))
				}
			}
			f.Set(r.Name, "cgroup", "cgroup ancestry (weight, limits)", cgroupAncestry(cg))
			st := procStatus(r.PID)
			for _, k := range []string{"CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters"} {
				f.Set(r.Name, "security", k, st[k])
			}
			aa := "(no LSM attribute)"
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/attr/current", r.PID)); err == nil {
				aa = strings.TrimSpace(strings.TrimRight(string(b), "\x00"))
			}
			f.Set(r.Name, "security", "LSM label (attr/current)", aa)
			f.Set(r.Name, "process", "uid gid", firstField(st["Uid"])+" "+firstField(st["Gid"]))
			f.Set(r.Name, "process", "groups", st["Groups"])
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/oom_score_adj", r.PID)); err == nil {
				f.Set(r.Name, "process", "oom_score_adj", strings.TrimSpace(string(b)))
			}
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", r.PID)); err == nil {
				f.Set(r.Name, "process", "args", strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " ")))
			}
			if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", r.PID)); err == nil {
				f.Set(r.Name, "process", "cwd", cwd)
			}
			if h, err := utsHostname(r.PID); err == nil {
				f.Set(r.Name, "process", "hostname (uname)", h)
			}
			for k, val := range procLimits(r.PID) {
				f.Set(r.Name, "process", "limit "+k, val)
			}
			if !r.Sandbox {
				env := procEnv(r.PID)
				for k, val := range env {
					f.Set(r.Name, "process", "env "+k, norm(val))
				}
				if _, ok := env["HOSTNAME"]; !ok {
					f.Set(r.Name, "process", "env HOSTNAME", "(unset)")
				}
			}
			mi := mountInfo(r.PID)
			if m, ok := mi["/"]; ok {
				f.Set(r.Name, "mounts", "mount / (rootfs)", m.fstype+" "+m.rwFlag())
			}
			// The pod's shared objects: the same #N in two containers is one
			// inode (one tmpfs, one file) mounted in both.
			shared := map[string]bool{"/etc/hosts": true, "/etc/hostname": true, "/etc/resolv.conf": true, "/dev/shm": true}
			for _, mp := range r.Mounts {
				shared[mp] = true
			}
			if !r.Sandbox {
				for mp := range shared {
					if _, ok := mi[mp]; !ok {
						f.Set(r.Name, "mounts", "mount "+mp, "(not a mount)")
					}
				}
			}
			// Every mount of the container, as it sees it: type, flags and
			// what it is — a new filesystem, a bind (from the host, or of
			// a masked path), or one of the pod's shared objects.
			for _, mp := range slices.Sorted(maps.Keys(mi)) {
				if mp == "/" {
					continue
				}
				m := mi[mp]
				kind := "new"
				if m.root != "/" {
					kind = "bind"
				}
				if shared[mp] {
					key := m.dev + " " + m.root
					if _, ok := ident[key]; !ok {
						ident[key] = len(ident) + 1
					}
					kind = fmt.Sprintf("object #%d", ident[key])
				}
				f.Set(r.Name, "mounts", "mount "+mp, fmt.Sprintf("%s %s, %s", m.fstype, m.opts(), kind))
			}
			if !r.Sandbox {
				for _, p := range sandbox.NodeMaskedPaths() {
					if m, ok := mi[p]; ok {
						f.Set(r.Name, "security", "masked "+p, "masked ("+m.fstype+" "+m.rwFlag()+")")
					} else if _, err := os.Stat(fmt.Sprintf("/proc/%d/root%s", r.PID, p)); err != nil {
						f.Set(r.Name, "security", "masked "+p, "(absent on this kernel)")
					} else {
						f.Set(r.Name, "security", "masked "+p, "visible")
					}
				}
				for _, p := range sandbox.KubeletReadonlyPaths {
					if m, ok := mi[p]; ok {
						f.Set(r.Name, "security", "read-only "+p, m.rwFlag())
					} else {
						f.Set(r.Name, "security", "read-only "+p, "(no mount: as /proc)")
					}
				}
				for _, file := range []string{"/etc/hosts", "/etc/resolv.conf", "/etc/hostname"} {
					if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/root%s", r.PID, file)); err == nil {
						f.Set(r.Name, "files", "file "+file, norm(strings.TrimSpace(string(b))))
					}
				}
			}
		}
		if len(r.Spec) > 0 {
			specFacts(f, r.Name, r.Spec)
			volumeFacts(f, r)
		}
	}
	return f
}

// volumeFacts: where each volume mount of a container lives on the host,
// from the spec's mount sources, below the runtime's pods directory with
// the pod's own id normalised (kubelet: <root-dir>/pods/<uid>/volumes/
// kubernetes.io~empty-dir/NAME; podsim: /var/lib/podsim/pods/<id>/...).
func volumeFacts(f *Facts, r RowView) {
	if r.Sandbox || len(r.Mounts) == 0 {
		return
	}
	var s specs.Spec
	if json.Unmarshal(r.Spec, &s) != nil {
		return
	}
	for _, mp := range r.Mounts {
		v := "(no mount in the spec)"
		for _, m := range s.Mounts {
			if m.Destination == mp {
				v = VolumeLayout(m.Source)
			}
		}
		f.Set(r.Name, "volumes", "volume "+mp, v)
	}
}

// VolumeLayout is a volume's host path below the pods directory with the
// pod-specific directory as <pod>: "<pod>/volumes/kubernetes.io~empty-dir/
// shared". A path that is no pod's (a hostPath) is kept as it is.
func VolumeLayout(src string) string {
	i := strings.Index(src, "/volumes/")
	if i < 0 {
		return src
	}
	j := strings.LastIndex(src[:i], "/pods/")
	if j < 0 || strings.Contains(src[j+len("/pods/"):i], "/") {
		return src
	}
	return "<pod>" + src[i:]
}

// cgroupAncestry is the chain of cgroups from the container's up to (not
// including) the runtime's top parent (/podsim, or the benchmark's stand-in
// for kubepods), each with its CPU weight and limits as the kernel holds
// them: "container[...] < pod[...] < besteffort[...]". Names are generic
// (container, pod, the QoS tier) so both runtimes' chains compare.
func cgroupAncestry(cg string) string {
	parts := strings.Split(strings.Trim(cg, "/"), "/")
	var out []string
	for i := len(parts) - 1; i >= 1; i-- {
		p := "/" + strings.Join(parts[:i+1], "/")
		name := parts[i]
		switch {
		case i == len(parts)-1:
			name = "container"
		case strings.HasPrefix(name, "pod"):
			name = "pod"
		}
		var vals []string
		for _, file := range cgroups.LimitFiles() {
			if file == "cpu.cfs_period_us" || file == "pids.max" {
				continue
			}
			v, err := cgroups.ReadFile(p, file)
			if err != nil {
				v = "?"
			}
			vals = append(vals, file+"="+v)
		}
		out = append(out, name+"["+strings.Join(vals, " ")+"]")
	}
	return strings.Join(out, " < ")
}

// waitExec waits (briefly) until a freshly started container process has
// left runc's init and runs its own program.
func waitExec(pid int) {
	if pid <= 0 {
		return
	}
	for i := 0; i < 100; i++ {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || !strings.HasPrefix(string(b), "runc") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func firstField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func procStatus(pid int) map[string]string {
	out := map[string]string{}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return out
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			out[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return out
}

func procEnv(pid int) map[string]string {
	out := map[string]string{}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return out
	}
	for _, kv := range strings.Split(string(b), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			out[k] = v
		}
	}
	return out
}

// procLimits reads /proc/<pid>/limits: "Max open files" -> "1024 1024 files".
func procLimits(pid int) map[string]string {
	out := map[string]string{}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return out
	}
	for i, l := range strings.Split(string(b), "\n") {
		if i == 0 || len(l) < 26 {
			continue
		}
		name := strings.TrimSpace(l[:26])
		out[name] = strings.Join(strings.Fields(l[26:]), " ")
	}
	return out
}

type mountEntry struct {
	dev, root, fstype, mntOpts, superOpts string
}

func (m mountEntry) rwFlag() string {
	for _, o := range strings.Split(m.mntOpts, ",") {
		if o == "ro" || o == "rw" {
			return o
		}
	}
	return "?"
}

// opts are the mount options that matter for a container: ro/rw and the
// nosuid/nodev/noexec flags, plus a tmpfs's size.
func (m mountEntry) opts() string {
	var keep []string
	for _, o := range strings.Split(m.mntOpts, ",") {
		switch o {
		case "ro", "rw", "nosuid", "nodev", "noexec":
			keep = append(keep, o)
		}
	}
	if m.fstype == "tmpfs" {
		for _, o := range strings.Split(m.superOpts, ",") {
			if strings.HasPrefix(o, "size=") {
				keep = append(keep, o)
			}
		}
	}
	return strings.Join(keep, ",")
}

// mountInfo reads a process's mount table: mount point -> the last entry
// (the one on top), with moby's mountinfo parser (containerd's).
func mountInfo(pid int) map[string]mountEntry {
	out := map[string]mountEntry{}
	fh, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		return out
	}
	defer fh.Close()
	mounts, err := mountinfo.GetMountsFromReader(fh, nil)
	if err != nil {
		return out
	}
	for _, m := range mounts {
		out[m.Mountpoint] = mountEntry{dev: fmt.Sprintf("%d:%d", m.Major, m.Minor), root: m.Root,
			mntOpts: m.Options, fstype: m.FSType, superOpts: m.VFSOptions}
	}
	return out
}

// utsHostname reads the hostname of pid's UTS namespace (setns on a locked
// thread, then back).
func utsHostname(pid int) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		self, err := unix.Open("/proc/thread-self/ns/uts", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- res{err: err}
			return
		}
		defer unix.Close(self)
		target, err := unix.Open(fmt.Sprintf("/proc/%d/ns/uts", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- res{err: err}
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWUTS); err != nil {
			runtime.UnlockOSThread()
			ch <- res{err: err}
			return
		}
		var u unix.Utsname
		uerr := unix.Uname(&u)
		if err := unix.Setns(self, unix.CLONE_NEWUTS); err == nil {
			runtime.UnlockOSThread()
		} // else: the thread stays locked and dies with this goroutine
		if uerr != nil {
			ch <- res{err: uerr}
			return
		}
		ch <- res{s: unix.ByteSliceToString(u.Nodename[:])}
	}()
	r := <-ch
	return r.s, r.err
}

// specFacts records the OCI spec items compare looks at.
func specFacts(f *Facts, row string, raw []byte) {
	var s specs.Spec
	if err := json.Unmarshal(raw, &s); err != nil {
		f.Set(row, "spec", "spec (unreadable)", err.Error())
		return
	}
	set := func(item, v string) { f.Set(row, "spec", "spec "+item, v) }
	if s.Process != nil {
		p := s.Process
		set("process.noNewPrivileges", strconv.FormatBool(p.NoNewPrivileges))
		set("process.terminal", strconv.FormatBool(p.Terminal))
		set("process.user", fmt.Sprintf("%d:%d", p.User.UID, p.User.GID))
		set("process.user.additionalGids", fmt.Sprint(p.User.AdditionalGids))
		set("apparmorProfile", orDash(p.ApparmorProfile))
		if p.OOMScoreAdj != nil {
			set("oomScoreAdj", strconv.Itoa(*p.OOMScoreAdj))
		} else {
			set("oomScoreAdj", "(unset)")
		}
		var rl []string
		for _, r := range p.Rlimits {
			rl = append(rl, fmt.Sprintf("%s=%d:%d", r.Type, r.Soft, r.Hard))
		}
		set("rlimits", orDash(strings.Join(rl, " ")))
		if p.Capabilities != nil {
			set("process.capabilities (bounding)", strings.Join(sortedCopy(p.Capabilities.Bounding), ","))
			set("process.capabilities (effective)", strings.Join(sortedCopy(p.Capabilities.Effective), ","))
		}
	}
	if s.Root != nil {
		set("root.readonly", strconv.FormatBool(s.Root.Readonly))
	}
	set("hostname", orDash(s.Hostname))
	if l := s.Linux; l != nil {
		var ns []string
		for _, n := range l.Namespaces {
			how := "new"
			if n.Path != "" {
				how = "joined"
			}
			ns = append(ns, string(n.Type)+"="+how)
		}
		sort.Strings(ns)
		set("linux.namespaces", strings.Join(ns, " "))
		set("maskedPaths", strings.Join(sortedCopy(l.MaskedPaths), " "))
		set("readonlyPaths", strings.Join(sortedCopy(l.ReadonlyPaths), " "))
		if l.Seccomp == nil {
			set("linux.seccomp", "none (unconfined)")
		} else {
			set("linux.seccomp", fmt.Sprintf("default %s, %d syscall rules", l.Seccomp.DefaultAction, len(l.Seccomp.Syscalls)))
		}
		var sc []string
		for _, k := range slices.Sorted(maps.Keys(l.Sysctl)) {
			sc = append(sc, k+"="+l.Sysctl[k])
		}
		set("linux.sysctl", orDash(strings.Join(sc, " ")))
		set("linux.devices", fmt.Sprintf("%d device nodes", len(l.Devices)))
		if r := l.Resources; r != nil {
			var parts []string
			if r.CPU != nil {
				if r.CPU.Shares != nil {
					parts = append(parts, fmt.Sprintf("cpu.shares=%d", *r.CPU.Shares))
				}
				if r.CPU.Quota != nil {
					parts = append(parts, fmt.Sprintf("cpu.quota=%d", *r.CPU.Quota))
				}
			}
			if r.Memory != nil && r.Memory.Limit != nil {
				parts = append(parts, fmt.Sprintf("memory.limit=%d", *r.Memory.Limit))
			}
			set("linux.resources", orDash(strings.Join(parts, " ")))
		}
	}
	for _, m := range s.Mounts {
		set("mount "+m.Destination, m.Type+" "+strings.Join(filterOpts(m.Options), ","))
	}
	var dests []string
	for _, m := range s.Mounts {
		dests = append(dests, m.Destination)
	}
	// Sorted (CRI orders the kubelet's mounts by depth, podsim keeps the
	// pod's first; what the container sees is the "mount" items above),
	// duplicates kept: a mount hidden under another one shows here.
	sort.Strings(dests)
	set("mount destinations", strings.Join(dests, " "))
}

func filterOpts(o []string) []string {
	var out []string
	for _, x := range o {
		if x == "ro" || x == "rw" || x == "nosuid" || x == "nodev" || x == "noexec" || x == "bind" || x == "rbind" || strings.HasPrefix(x, "size=") {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// CompareOptions configure ComparePod.
type CompareOptions struct {
	Pod       *corev1.Pod
	Manager   *sandbox.Manager
	Client    *containerd.Client // podsim's (ctx carries podsim's namespace)
	Catalog   *images.Catalog
	PodsimExe string
	Layout    Layout
	CNIBin    []string
	Progress  func(string)
}

// CompareResult is what ComparePod found.
type CompareResult struct {
	Pod    string
	Podsim *Facts
	CRI    *Facts
	Diffs  []Diff
	Notes  []string
}

// ComparePod builds the pod through podsim and through CRI (a reference
// containerd with the CRI plugin, driven by crictl with configs translated
// as kubelet would), reads both, removes both, and diffs them.
func ComparePod(ctx context.Context, o CompareOptions) (_ *CompareResult, err error) {
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	pod := o.Pod.DeepCopy()
	pod.Namespace = BenchNamespace
	res := &CompareResult{Pod: pod.Name}
	var imgs []string
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		n, err := images.Normalize(c.Image)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, n)
	}
	// Translate first: a pod the CRI side cannot express fails before
	// anything is built.
	if _, err := TranslateToCRI(pod, CRIOptions{UID: "check"}); err != nil {
		return nil, err
	}
	crictl, err := FindCrictl(o.PodsimExe)
	if err != nil {
		return nil, err
	}
	cri, err := StartCRI(ctx, CRIServerOptions{Layout: o.Layout, PodsimExe: o.PodsimExe, Crictl: crictl, CNIBinDirs: o.CNIBin,
		Catalog: o.Catalog, Images: imgs, Progress: o.Progress})
	if err != nil {
		cleanupCRIHost(o.Layout)
		return nil, fmt.Errorf("starting the reference CRI containerd: %w", err)
	}
	guard := NewGuard()
	defer func() {
		cctx := context.WithoutCancel(ctx)
		if cerr := cri.Stop(cctx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("stopping the CRI containerd: %w", cerr))
		}
		os.Remove(o.Layout.Run)
		os.Remove(o.Layout.State)
		if gerr := guard.Check("compare"); gerr != nil {
			err = errors.Join(err, gerr)
		}
	}()

	// podsim.
	pv, remove, err := buildPodsimSide(ctx, o.Manager, o.Client, pod, o.Progress)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, remove()) }()

	// CRI.
	o.Progress("building pod " + pod.Name + " through CRI (crictl runp, create, start)")
	cs := &CRISystem{S: cri, DNS: PodDNS(pod), KubeHosts: true, MemTotal: sandbox.HostMemoryBytes()}
	h, err := cs.CreatePod(ctx, pod)
	if err != nil {
		return nil, fmt.Errorf("CRI: %w", err)
	}
	defer func() {
		if _, derr := cs.Delete(context.WithoutCancel(ctx), h); derr != nil {
			err = errors.Join(err, fmt.Errorf("deleting the CRI pod: %w", derr))
		}
	}()
	info, err := cs.Inspect(ctx, h)
	if err != nil {
		return nil, err
	}
	cv := PodView{Runtime: "cri", PodIP: info.IP}
	cv.Rows = append(cv.Rows, RowView{Name: "POD", PID: info.SandboxPID, Spec: info.SandboxSpec, Sandbox: true})
	for _, c := range pod.Spec.InitContainers {
		ci := info.Containers[c.Name]
		cv.Rows = append(cv.Rows, RowView{Name: c.Name, Spec: ci.Spec, Mounts: mountPaths(c)})
	}
	for _, c := range pod.Spec.Containers {
		ci := info.Containers[c.Name]
		cv.Rows = append(cv.Rows, RowView{Name: c.Name, PID: ci.PID, Spec: ci.Spec, Mounts: mountPaths(c)})
	}
	res.Podsim, res.CRI = CollectFacts(pv), CollectFacts(cv)
	res.Diffs = Compare(res.Podsim, res.CRI)
	res.Notes = append(res.Notes, fmt.Sprintf("both pods were built in Kubernetes namespace %q; pod IPs are shown as <pod-ip>, mounted objects as #N (the same #N means one shared object)", BenchNamespace))
	return res, nil
}
