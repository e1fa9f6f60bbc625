package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/moby/sys/mountinfo"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	cg "github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const unifiedMount = "/sys/fs/cgroup"

// Mode names the host's cgroup layout: "v1", "hybrid" (v1 controllers plus an
// empty v2 tree, as on this development machine) or "v2" (unified only, as on
// Ubuntu 24.04 and most current distributions).
func Mode() string {
	switch cg.Mode() {
	case cg.Unified:
		return "v2"
	case cg.Hybrid:
		return "hybrid"
	case cg.Legacy:
		return "v1"
	}
	return "unavailable"
}

// CreatePod creates the pod cgroup in its QoS tier (and the tier and the
// podsim parent) and writes the pod-level weight and limits, as kubelet's
// cgroupfs driver does: the BestEffort tier weighs MinShares, the Burstable
// tier the sum of its pods' requests (updated here and in Remove), the pod
// its own requests. On v2 it also enables the controllers in every
// cgroup.subtree_control on the way down, without which a container cgroup
// under the pod could not get memory or cpu limits.
func CreatePod(podPath string, lim Limits) error {
	err := createPod(podPath, lim)
	if errors.Is(err, fs.ErrNotExist) {
		// The tier was removed by the last pod of it leaving at the
		// same moment: make it again.
		err = createPod(podPath, lim)
	}
	if err != nil {
		return err
	}
	return updateTier(path.Dir(podPath))
}

func createPod(podPath string, lim Limits) error {
	if tier := path.Dir(podPath); isTier(tier) {
		if err := createCgroup(tier, Limits{CPUShares: tierShares(tier)}); err != nil {
			return fmt.Errorf("creating QoS tier cgroup %s: %w", tier, err)
		}
	}
	if err := createCgroup(podPath, lim); err != nil {
		return fmt.Errorf("creating pod cgroup %s: %w", podPath, err)
	}
	return nil
}

// createCgroup makes one cgroup with a CPU weight and limits.
func createCgroup(cgPath string, lim Limits) error {
	shares := max(lim.CPUShares, MinShares)
	if cg.Mode() == cg.Unified {
		weight := SharesToWeight(shares)
		res := &cgroup2.Resources{CPU: &cgroup2.CPU{Weight: &weight}}
		if lim.MemoryBytes > 0 {
			m := lim.MemoryBytes
			res.Memory = &cgroup2.Memory{Max: &m}
		}
		if lim.CPUMilli > 0 {
			res.CPU.Max = cgroup2.NewCPUMax(ptr(MilliCPUToQuota(lim.CPUMilli)), ptr(uint64(QuotaPeriod)))
		}
		if _, err := cgroup2.NewManager(unifiedMount, cgPath, res); err != nil {
			return fmt.Errorf("(v2): %w", err)
		}
		probe, err := cgroup2.Load(path.Join(cgPath, "child"), cgroup2.WithMountpoint(unifiedMount))
		if err != nil {
			return fmt.Errorf("loading %s: %w", cgPath, err)
		}
		ctrls, err := probe.RootControllers()
		if err != nil {
			return fmt.Errorf("reading cgroup.controllers: %w", err)
		}
		if err := probe.ToggleControllers(ctrls, cgroup2.Enable); err != nil {
			return fmt.Errorf("enabling controllers %v for %s: %w", ctrls, cgPath, err)
		}
		return nil
	}
	res := &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: &shares}}
	if lim.MemoryBytes > 0 {
		m := lim.MemoryBytes
		res.Memory = &specs.LinuxMemory{Limit: &m}
	}
	if lim.CPUMilli > 0 {
		period := uint64(QuotaPeriod)
		quota := MilliCPUToQuota(lim.CPUMilli)
		res.CPU.Period, res.CPU.Quota = &period, &quota
	}
	// Only real controllers: the named "systemd" hierarchy of a hybrid host is
	// not one, and runc does not place containers there under cgroupfs.
	if _, err := cgroup1.New(cgroup1.StaticPath(cgPath), res, cgroup1.WithHiearchy(controllersOnly)); err != nil {
		return fmt.Errorf("(v1): %w", err)
	}
	return nil
}

// tierShares is the weight kubelet gives a QoS tier: MinShares for
// BestEffort; for Burstable the requests of its pods, read back from their
// cgroups (a pod at MinShares asked for no CPU and adds nothing).
func tierShares(tier string) uint64 {
	if path.Base(tier) != BurstableTier {
		return MinShares
	}
	var sum uint64
	for _, pod := range children(tier) {
		if v, err := ReadFile(pod, weightFile()); err == nil {
			if n, err := strconv.ParseUint(v, 10, 64); err == nil {
				if cg.Mode() == cg.Unified {
					n = weightToShares(n)
				}
				if n > MinShares {
					sum += n
				}
			}
		}
	}
	return max(sum, MinShares)
}

// updateTier rewrites a tier's weight after a pod came or went.
func updateTier(tier string) error {
	if !isTier(tier) {
		return nil
	}
	shares := tierShares(tier)
	v := strconv.FormatUint(shares, 10)
	if cg.Mode() == cg.Unified {
		v = strconv.FormatUint(SharesToWeight(shares), 10)
	}
	if err := os.WriteFile(file(tier, weightFile()), []byte(v), 0o644); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("setting the weight of QoS tier %s: %w", tier, err)
	}
	return nil
}

// isTier says whether a cgroup is a QoS tier (of podsim's parent, or of
// another root such as the benchmark's kubelet emulation).
func isTier(cgPath string) bool {
	b := path.Base(cgPath)
	return b == BestEffortTier || b == BurstableTier
}

func weightFile() string {
	if cg.Mode() == cg.Unified {
		return "cpu.weight"
	}
	return "cpu.shares"
}

// weightToShares inverts SharesToWeight (to within its rounding).
func weightToShares(w uint64) uint64 {
	if w <= 1 {
		return MinShares
	}
	return 2 + ((w-1)*262142+9998)/9999
}

// children lists the cgroup paths of the sub-cgroups of cgPath (in the cpu
// hierarchy on v1, the one tree on v2).
func children(cgPath string) []string {
	ents, _ := os.ReadDir(filepath.Dir(file(cgPath, "cpu.x")))
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, path.Join(cgPath, e.Name()))
		}
	}
	return out
}

// PodDirs lists, in every hierarchy, the directories of podsim's pod
// cgroups and of any tier without pods: what gc removes and leak checks
// look for. An empty list means podsim left nothing in the cgroup tree.
func PodDirs() []string {
	var out []string
	for _, d := range Dirs(Parent) {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			sub := filepath.Join(d, e.Name())
			if e.Name() != BestEffortTier && e.Name() != BurstableTier {
				out = append(out, sub)
				continue
			}
			pods, _ := os.ReadDir(sub)
			n := 0
			for _, p := range pods {
				if p.IsDir() {
					out = append(out, filepath.Join(sub, p.Name()))
					n++
				}
			}
			if n == 0 {
				out = append(out, sub)
			}
		}
	}
	sort.Strings(out)
	return out
}

func controllersOnly() ([]cgroup1.Subsystem, error) {
	subs, err := cgroup1.Default()
	if err != nil {
		return nil, err
	}
	out := subs[:0]
	for _, s := range subs {
		if s.Name() != "systemd" {
			out = append(out, s)
		}
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }

// Dirs lists the directories that exist for a cgroup path in every mounted
// hierarchy (one per v1 controller, or the single v2 tree). Tests and
// `podsim inspect` use it to look at the kernel's view directly.
func Dirs(cgPath string) []string {
	var out []string
	for _, mp := range mountpoints() {
		d := filepath.Join(mp, cgPath)
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

// Remove deletes a cgroup and all its children in every hierarchy, deepest
// first (a cgroup directory can only be removed with rmdir once its children
// are gone and no process is left in it). Missing directories are fine, so
// teardown can be repeated after a crash. The podsim parent is removed too
// when no pod is left in it.
func Remove(cgPath string) error {
	if !strings.HasPrefix(filepath.Clean(cgPath), Parent+"/") {
		return fmt.Errorf("refusing to remove cgroup %q: not under %s", cgPath, Parent)
	}
	var errs []error
	for _, d := range Dirs(cgPath) {
		if err := removeTree(d); err != nil {
			errs = append(errs, err)
		}
	}
	if tier := path.Dir(filepath.Clean(cgPath)); isTier(tier) {
		if err := updateTier(tier); err != nil {
			errs = append(errs, err)
		}
	}
	RemoveParent()
	return errors.Join(errs...)
}

func removeTree(dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing cgroup %s: %w", dirs[i], err))
		}
	}
	return errors.Join(errs...)
}

// Procs returns the PIDs in a cgroup (in any hierarchy where it exists).
func Procs(cgPath string) []int {
	seen := map[int]bool{}
	var out []int
	for _, d := range Dirs(cgPath) {
		f, err := os.Open(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var pid int
			if _, err := fmt.Sscan(sc.Text(), &pid); err == nil && !seen[pid] {
				seen[pid] = true
				out = append(out, pid)
			}
		}
		f.Close()
	}
	return out
}

// mountpoints lists the cgroup (v1) and cgroup2 mount points of this host.
func mountpoints() []string {
	mounts, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(mounts))
	for _, m := range mounts {
		out = append(out, m.Mountpoint)
	}
	return out
}

// ControllersMissing reports required controllers the host lacks.
func ControllersMissing() []string {
	want := []string{"cpu", "memory", "pids"}
	have := map[string]bool{}
	if cg.Mode() == cg.Unified {
		b, _ := os.ReadFile(filepath.Join(unifiedMount, "cgroup.controllers"))
		for _, c := range strings.Fields(string(b)) {
			have[c] = true
		}
	} else {
		subs, _ := controllersOnly()
		for _, s := range subs {
			have[string(s.Name())] = true
		}
	}
	var miss []string
	for _, w := range want {
		if !have[w] {
			miss = append(miss, w)
		}
	}
	return miss
}

// RemoveParent removes the QoS tiers and the podsim parent cgroup where
// they are empty (it fails while pods exist: that is intended), so podsim
// leaves nothing behind when its last pod goes.
func RemoveParent() {
	for _, t := range Tiers {
		for _, d := range Dirs(t) {
			os.Remove(d)
		}
	}
	for _, d := range Dirs(Parent) {
		os.Remove(d)
	}
}

// file finds a control file of a cgroup: on v2 in the one tree, on v1 in
// the hierarchy of the controller that owns it (memory.*, cpu.*, pids.*).
func file(cgPath, name string) string {
	if cg.Mode() == cg.Unified {
		return filepath.Join(unifiedMount, cgPath, name)
	}
	ctrl, _, _ := strings.Cut(name, ".")
	return filepath.Join(unifiedMount, ctrl, cgPath, name)
}

// ReadFile reads one control file of a cgroup (see LimitFiles for names).
func ReadFile(cgPath, name string) (string, error) {
	b, err := os.ReadFile(file(cgPath, name))
	return strings.TrimSpace(string(b)), err
}

// LimitFiles are the files that hold a cgroup's memory, CPU and pids
// limits on this host's cgroup version, in the order to print them.
func LimitFiles() []string {
	if cg.Mode() == cg.Unified {
		return []string{"memory.max", "cpu.max", "cpu.weight", "pids.max"}
	}
	return []string{"memory.limit_in_bytes", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares", "pids.max"}
}

// OOMKills returns how many processes of the cgroup the kernel's OOM
// killer has killed (memory.events on v2, memory.oom_control on v1).
func OOMKills(cgPath string) int {
	name := "memory.events"
	if cg.Mode() != cg.Unified {
		name = "memory.oom_control"
	}
	b, err := os.ReadFile(file(cgPath, name))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "oom_kill" {
			var n int
			fmt.Sscan(f[1], &n)
			return n
		}
	}
	return 0
}

// OfProcess is the cgroup pid is in, as the kernel says in
// /proc/<pid>/cgroup: the unified hierarchy's path on cgroup v2, the memory
// controller's on v1 (podsim, kubelet and CRI put a container at the same
// path in every controller). "" when the process is gone.
func OfProcess(pid int) string {
	v1, unified, err := cg.ParseCgroupFileUnified(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return ""
	}
	if p, ok := v1["memory"]; ok {
		return p
	}
	return unified
}
