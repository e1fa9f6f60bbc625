package bench

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/containerd"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/sandbox"
	"github.com/podsim/podsim/sandbox/images"
)

// Options configure a bench run. The podsim pieces come from the caller
// (the CLI builds them as every podsim command does).
type Options struct {
	Runs    int      // timed iterations per case and system
	Warmup  int      // untimed iterations first (builds podman's pause image, warms caches)
	Cases   []string // case names; empty = all
	MemPods int      // pods kept at once for the memory reading
	Scale   int      // pods for the scale run (0 = none)
	// ScaleSystems are the systems of the scale run (default podsim, cri, podman-net).
	ScaleSystems []string
	ScaleCase    string
	// IdleWindow is how long the agent's CPU is sampled with the scale
	// run's pods idle (default 10 s).
	IdleWindow time.Duration
	// Systems to run (default all); names as in the report.
	Only []string

	Layout     Layout
	Client     *containerd.Client // podsim's containerd, ctx carries podsim's namespace
	Address    string             // its socket
	Version    string             // its version
	Manager    *sandbox.Manager   // built with Tracer.Trace as its Trace option
	Tracer     *Tracer
	Catalog    *images.Catalog
	PodsimExe  string
	CNIBinDirs []string
	Progress   func(string)
}

type sysEntry struct {
	sys     System
	info    SystemInfo
	broken  string
	cleanup func(context.Context) error
}

// Run runs the bench. It always cleans up what it made, also when it fails
// or ctx is cancelled, and reports anything it could not remove.
func Run(ctx context.Context, o Options) (rep *Report, err error) {
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	if o.Runs <= 0 {
		o.Runs = 10
	}
	if o.MemPods <= 0 {
		o.MemPods = 5
	}
	if o.ScaleCase == "" {
		o.ScaleCase = "2c"
	}
	if len(o.ScaleSystems) == 0 {
		o.ScaleSystems = []string{HeadlineSystem, "cri", "podman-net"}
	}
	if o.IdleWindow <= 0 {
		o.IdleWindow = 10 * time.Second
	}
	rep = &Report{Started: time.Now(), Runs: o.Runs, Machine: machineInfo(o.Version)}
	guard := NewGuard()
	if guard.before != "0" {
		rep.Notes = append(rep.Notes, "net.ipv4.ip_forward was already "+guard.before+" before the bench started")
	}
	before := hostSnapshot()

	cases, err := FindCases(o.Cases)
	if err != nil {
		return nil, err
	}
	// Which cases can run: podsim must provide every image offline.
	var runnable []*Case
	var imgs []string
	seen := map[string]bool{}
	for _, c := range cases {
		cr := &CaseResult{Case: c.Name, Description: c.Description}
		rep.Cases = append(rep.Cases, cr)
		if c.Needs != nil {
			cr.Skipped = c.Needs()
		}
		for _, ref := range c.Images {
			if cr.Skipped != "" {
				break
			}
			if _, err := o.Catalog.Lookup(ref); err != nil {
				cr.Skipped = fmt.Sprintf("podsim cannot provide image %s offline (%v)", ref, firstLine(err.Error()))
				break
			}
		}
		if cr.Skipped != "" {
			continue
		}
		runnable = append(runnable, c)
		for _, ref := range c.Images {
			n, _ := images.Normalize(ref)
			if !seen[n] {
				seen[n] = true
				imgs = append(imgs, n)
			}
		}
	}
	if len(runnable) == 0 {
		return rep, errors.New("no bench pod can run: podsim provides none of their images")
	}
	// Images in podsim's own containerd first: the others are fed from it.
	for _, ref := range append([]string{images.PauseImage}, imgs...) {
		if _, err := o.Catalog.Ensure(ctx, o.Client, ref, o.Progress); err != nil {
			return rep, fmt.Errorf("preparing image %s: %w", ref, err)
		}
	}

	var entries []*sysEntry
	defer func() {
		// Cleanup runs even when ctx was cancelled (Ctrl-C).
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
		defer cancel()
		o.Progress("cleaning up")
		for i := len(entries) - 1; i >= 0; i-- {
			if entries[i].cleanup != nil {
				if cerr := entries[i].cleanup(cctx); cerr != nil {
					rep.Errors = append(rep.Errors, fmt.Sprintf("cleanup of %s: %v", entries[i].info.Name, cerr))
				}
			}
		}
		// podsim keeps its bridge between pods (as a node keeps cni0); the
		// bench leaves the host as it found it, so an idle bridge it made goes.
		if br := sandbox.DefaultNetworkConfig().Bridge; !slices.Contains(before, "link "+br) {
			if _, err := sandbox.RemoveIdleBridge(cctx, sandbox.DefaultPaths(), br); err != nil {
				rep.Errors = append(rep.Errors, err.Error())
			}
		}
		// The layout's roots, if the systems left them empty.
		os.Remove(o.Layout.Run)
		os.Remove(o.Layout.State)
		if err := guard.Check("the bench"); err != nil {
			rep.Errors = append(rep.Errors, err.Error())
		}
		rep.Leftover = leftover(before)
		rep.Elapsed = time.Since(rep.Started)
	}()

	want := func(name string) bool {
		if len(o.Only) == 0 {
			return true
		}
		for _, n := range o.Only {
			if n == name || (n == "podman" && strings.HasPrefix(name, "podman")) {
				return true
			}
		}
		return false
	}
	add := func(s System, cleanup func(context.Context) error) {
		entries = append(entries, &sysEntry{sys: s, info: SystemInfo{Name: s.Name(), Label: s.Label(), Available: true}, cleanup: cleanup})
	}
	unavailable := func(name, reason string) {
		entries = append(entries, &sysEntry{info: SystemInfo{Name: name, Reason: reason}})
	}

	// podsim itself: its pods live in their own Kubernetes namespace; the
	// cleanup deletes whatever is left there.
	ps := &PodsimSystem{M: o.Manager, T: o.Tracer, Address: o.Address, Version: o.Version}
	podsimCleanup := func(ctx context.Context) error {
		pods, err := o.Manager.List(ctx, BenchNamespace)
		var errs []error
		if err != nil {
			errs = append(errs, err)
		}
		for _, p := range pods {
			if err := o.Manager.DeletePod(ctx, BenchNamespace, p.Pod.Name, time.Second); err != nil {
				errs = append(errs, err)
			}
		}
		if err := removeTree(o.Layout.podsimCLIFiles()); err != nil {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}
	// Pods an interrupted bench left in podsim's bench namespace first.
	if err := podsimCleanup(ctx); err != nil {
		return rep, fmt.Errorf("removing podsim pods an earlier bench left in namespace %s: %w", BenchNamespace, err)
	}
	if want("podsim") {
		add(ps, podsimCleanup)
	}
	if want("podsim-cli") {
		add(&PodsimCLISystem{Exe: o.PodsimExe, Address: o.Address, Dir: o.Layout.podsimCLIFiles(), M: o.Manager}, podsimCleanup)
	}
	var cri *CRIServer
	if want("cri") {
		crictl, err := FindCrictl(o.PodsimExe)
		if err == nil {
			rep.Machine.Crictl = toolVersion(ctx, crictl, "--version")
			cri, err = StartCRI(ctx, CRIServerOptions{Layout: o.Layout, PodsimExe: o.PodsimExe, Crictl: crictl,
				CNIBinDirs: o.CNIBinDirs, Catalog: o.Catalog, Images: imgs, Progress: o.Progress})
		}
		if err != nil {
			unavailable("cri", err.Error())
			// StartCRI cleans up after itself; make sure of the host side.
			cleanupCRIHost(o.Layout)
		} else {
			add(&CRISystem{S: cri, DNS: HostDNS(BenchNamespace), MemTotal: sandbox.HostMemoryBytes()}, cri.Stop)
		}
	}
	if want("podman-net") || want("podman-none") {
		pm, err := SetupPodman(ctx, PodmanOptions{Layout: o.Layout, Client: o.Client, Images: imgs, Progress: o.Progress})
		if err != nil {
			for _, n := range []string{"podman-net", "podman-none"} {
				if want(n) {
					unavailable(n, err.Error())
				}
			}
		} else {
			rep.Machine.Podman = pm.Version
			first := true
			for _, netw := range []string{PodmanNetwork, "none"} {
				s := &PodmanSystem{P: pm, Network: netw}
				if !want(s.Name()) {
					continue
				}
				var cl func(context.Context) error
				if first {
					cl, first = pm.Cleanup, false
				}
				add(s, cl)
			}
		}
	}
	var floor *Floor
	if want("floor") {
		floor, err = SetupFloor(ctx, o.Layout, o.Client, imgs)
		if err != nil {
			unavailable("floor", err.Error())
		} else {
			rep.Machine.Runc = floor.Version
			add(floor, floor.Cleanup)
		}
	}
	for _, e := range entries {
		rep.Systems = append(rep.Systems, e.info)
	}
	active := func() []*sysEntry {
		var out []*sysEntry
		for _, e := range entries {
			if e.sys != nil && e.broken == "" {
				out = append(out, e)
			}
		}
		return out
	}

	// Tool start-up and the floor's pieces, interleaved too.
	toolCmds := map[string][]string{"podsim version (process start)": {o.PodsimExe, "version"}}
	if cri != nil {
		toolCmds["crictl version (process start + CRI Version call)"] = []string{cri.Crictl, "--config", o.Layout.crictlConfig(), "version"}
	}
	toolSamples := map[string][]time.Duration{}
	var bare, pinC, pinR []time.Duration
	for i := 0; i < o.Runs; i++ {
		for name, argv := range toolCmds {
			d, err := timed(func() error { _, err := run(ctx, nil, argv[0], argv[1:]...); return err })
			if err == nil {
				toolSamples[name] = append(toolSamples[name], d)
			}
		}
		if d, err := BareNetNS(); err == nil {
			bare = append(bare, d)
		}
		if c, r, err := PinnedNetNS(fmt.Sprintf("%s-pin-%d", FloorNetNSName, os.Getpid())); err == nil {
			pinC, pinR = append(pinC, c), append(pinR, r)
		}
	}
	rep.Floor = []NamedSummary{
		{Name: "netns: unshare(CLONE_NEWNET) alone", Summary: Summarize(bare)},
		{Name: "netns: unshare + pin under /run/netns (podsim's step)", Summary: Summarize(pinC)},
		{Name: "netns: unpin (umount + unlink)", Summary: Summarize(pinR)},
	}
	for _, name := range slices.Sorted(maps.Keys(toolSamples)) {
		rep.Tools = append(rep.Tools, NamedSummary{Name: name, Summary: Summarize(toolSamples[name])})
	}

	// The timed loop: for every iteration and case, every system builds and
	// removes the pod, in an order rotated each iteration.
	type key struct{ c, s string }
	phases := map[string][][]Phase{} // case -> create phases per run
	tdPhases := map[string][][]Phase{}
	results := map[key]*SystemResult{}
	for _, c := range runnable {
		for _, e := range entries {
			if e.sys != nil && c.RunsOn(e.info.Name) {
				results[key{c.Name, e.info.Name}] = &SystemResult{System: e.info.Name}
			}
		}
	}
	total := o.Warmup + o.Runs
	for it := 0; it < total; it++ {
		warm := it < o.Warmup
		if warm {
			o.Progress(fmt.Sprintf("warm-up %d/%d", it+1, o.Warmup))
		} else {
			o.Progress(fmt.Sprintf("run %d/%d", it-o.Warmup+1, o.Runs))
		}
		for _, c := range runnable {
			act := active()
			for j := range act {
				e := act[(j+it)%len(act)]
				if ctx.Err() != nil {
					return rep, ctx.Err()
				}
				if !c.RunsOn(e.info.Name) {
					continue
				}
				name := fmt.Sprintf("bench-%s-%d", c.Name, it)
				res := results[key{c.Name, e.info.Name}]
				h, rd, err := e.sys.Create(ctx, c, name)
				if gerr := guard.Check(e.info.Name); gerr != nil {
					return rep, gerr
				}
				var cph, tph []Phase
				if p, ok := e.sys.(Phaser); ok {
					cph = p.TakePhases()
				}
				if err != nil {
					res.Errors = append(res.Errors, firstLine(err.Error()))
					if h != nil {
						e.sys.Delete(ctx, h)
					}
					if len(res.Errors) >= 3 {
						e.broken = "3 failures"
					}
					continue
				}
				td, err := e.sys.Delete(ctx, h)
				if gerr := guard.Check(e.info.Name); gerr != nil {
					return rep, gerr
				}
				if p, ok := e.sys.(Phaser); ok {
					tph = p.TakePhases()
				}
				if err != nil {
					res.Errors = append(res.Errors, "teardown: "+firstLine(err.Error()))
					continue
				}
				if n, ok := e.sys.(interface{ TakeNotes() map[string]int }); ok {
					for note := range n.TakeNotes() {
						if !slices.Contains(res.Notes, note) {
							res.Notes = append(res.Notes, note)
						}
					}
				}
				if warm {
					continue
				}
				res.ready = append(res.ready, rd)
				res.teardown = append(res.teardown, td)
				res.Samples = append(res.Samples, [2]float64{ms(rd), ms(td)})
				res.Rounds = append(res.Rounds, it-o.Warmup)
				if e.info.Name == "podsim" {
					phases[c.Name] = append(phases[c.Name], cph)
					tdPhases[c.Name] = append(tdPhases[c.Name], tph)
				}
			}
		}
	}

	// Memory: MemPods pods at once per system, overhead processes only.
	for _, c := range runnable {
		cr := caseResult(rep, c.Name)
		cr.Memory = map[string]*MemResult{}
		for _, e := range active() {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			if !c.RunsOn(e.info.Name) {
				continue
			}
			o.Progress(fmt.Sprintf("memory: %d pods of %s through %s", o.MemPods, c.Name, e.info.Name))
			cr.Memory[e.info.Name] = measureMemory(ctx, e.sys, c, o.MemPods, guard, agentOf(e.sys, o.Manager))
		}
	}
	for _, c := range runnable {
		cr := caseResult(rep, c.Name)
		for _, e := range entries {
			if r := results[key{c.Name, e.info.Name}]; r != nil {
				r.Ready, r.Teardown = Summarize(r.ready), Summarize(r.teardown)
				cr.Results = append(cr.Results, r)
			}
		}
		cr.Phases = summarizePhases(phases[c.Name])
		cr.Teardown = summarizePhases(tdPhases[c.Name])
		cr.computeRatios()
		cr.computeHeadline()
	}

	// Scale.
	if o.Scale > 0 {
		var sc *Case
		for _, c := range runnable {
			if c.Name == o.ScaleCase {
				sc = c
			}
		}
		if sc == nil {
			rep.Notes = append(rep.Notes, "scale run skipped: pod "+o.ScaleCase+" cannot run")
		}
		for _, name := range o.ScaleSystems {
			if sc == nil {
				break
			}
			for _, e := range active() {
				if e.info.Name != name {
					continue
				}
				if ctx.Err() != nil {
					return rep, ctx.Err()
				}
				o.Progress(fmt.Sprintf("scale: %d pods of %s through %s", o.Scale, sc.Name, name))
				var agent agentHooks
				if agent.usage = agentOf(e.sys, o.Manager); agent.usage != nil {
					agent.idle = func() *AgentIdle {
						o.Progress(fmt.Sprintf("  %s: the agent's CPU over %s with the pods idle", name, o.IdleWindow))
						return measureAgentIdle(ctx, o.Manager, o.IdleWindow)
					}
				}
				s := scaleRun(ctx, e.sys, sc, o.Scale, guard, o.Progress, agent)
				analyseScale(s)
				rep.Scale = append(rep.Scale, s)
			}
		}
	}
	rep.evaluateTargets()
	return rep, nil
}

func caseResult(r *Report, name string) *CaseResult {
	for _, c := range r.Cases {
		if c.Case == name {
			return c
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// summarizePhases gives each phase name its distribution over the runs,
// in the order the phases first appear.
func summarizePhases(runs [][]Phase) []PhaseSummary {
	var order []string
	samples := map[string][]time.Duration{}
	overlap := map[string]bool{}
	for _, ph := range runs {
		for _, p := range ph {
			if _, ok := samples[p.Name]; !ok {
				order = append(order, p.Name)
			}
			samples[p.Name] = append(samples[p.Name], p.Duration)
			overlap[p.Name] = overlap[p.Name] || p.Overlap
		}
	}
	var out []PhaseSummary
	for _, n := range order {
		out = append(out, PhaseSummary{Name: n, Summary: Summarize(samples[n]), Overlap: overlap[n]})
	}
	return out
}

// measureMemory creates n pods, reads the overhead processes, removes them.
// agent, when not nil, reads podsim's node agent (podsim's systems only).
func measureMemory(ctx context.Context, s System, c *Case, n int, guard *Guard, agent func() *AgentUsage) *MemResult {
	base := Overhead(ScanProcs(), s.IsRoot)
	var hs []Handle
	res := &MemResult{Pods: n}
	defer func() {
		for _, h := range hs {
			if _, err := s.Delete(ctx, h); err != nil && res.Error == "" {
				res.Error = "teardown: " + firstLine(err.Error())
			}
		}
		if err := guard.Check(s.Name()); err != nil {
			res.Error = err.Error()
		}
	}()
	for i := 0; i < n; i++ {
		h, _, err := s.Create(ctx, c, fmt.Sprintf("bench-mem-%s-%d", c.Name, i))
		if p, ok := s.(Phaser); ok {
			p.TakePhases()
		}
		if h != nil {
			hs = append(hs, h)
		}
		if err != nil {
			res.Error = firstLine(err.Error())
			return res
		}
	}
	// Let log drivers and shims finish starting up.
	time.Sleep(500 * time.Millisecond)
	u := Overhead(ScanProcs(), s.IsRoot).Sub(base)
	f := float64(n)
	res.RSSKBPerPod, res.PSSKBPerPod = float64(u.RSSKB)/f, float64(u.PSSKB)/f
	res.ShimsPerPod, res.ProcsPerPod = float64(u.Shims)/f, float64(u.Procs)/f
	res.ByKind = map[string]int64{}
	for k, v := range u.ByKind {
		res.ByKind[k] = v / int64(n)
	}
	if agent != nil {
		if res.Agent = agent(); res.Agent != nil && res.Agent.Pods > 0 {
			res.RSSKBPerPodWithAgent = res.RSSKBPerPod + float64(res.Agent.RSSKBPerPod)
		}
	}
	return res
}

// agentHooks read podsim's node agent during a scale run (podsim's
// systems only; both nil for the others).
type agentHooks struct {
	usage func() *AgentUsage // its memory at each checkpoint
	idle  func() *AgentIdle  // its CPU with every pod built and idle
}

// scaleRun creates n pods one after another, reading memory at
// checkpoints, then removes them all.
func scaleRun(ctx context.Context, s System, c *Case, n int, guard *Guard, progress func(string), agent agentHooks) *ScaleResult {
	sr := &ScaleResult{System: s.Name(), Case: c.Name}
	base := Overhead(ScanProcs(), s.IsRoot)
	var hs []Handle
	checkpoint := func(k int) bool {
		return k == 1 || k == 10 || k == 25 || k == n || (k%50 == 0)
	}
	for i := 1; i <= n; i++ {
		if ctx.Err() != nil {
			sr.Stopped = "cancelled"
			break
		}
		if avail := memAvailableMB(); avail > 0 && avail < 1024 {
			sr.Stopped = fmt.Sprintf("MemAvailable fell to %d MB", avail)
			break
		}
		h, d, err := s.Create(ctx, c, fmt.Sprintf("bench-scale-%d", i))
		if p, ok := s.(Phaser); ok {
			p.TakePhases()
		}
		if h != nil && err == nil {
			hs = append(hs, h)
		} else if h != nil {
			s.Delete(ctx, h)
		}
		if err != nil {
			sr.Stopped = fmt.Sprintf("pod %d: %s", i, firstLine(err.Error()))
			break
		}
		if gerr := guard.Check(s.Name()); gerr != nil {
			sr.Stopped = gerr.Error()
			break
		}
		sr.Create = append(sr.Create, d)
		if checkpoint(i) {
			time.Sleep(300 * time.Millisecond)
			u := Overhead(ScanProcs(), s.IsRoot).Sub(base)
			sm := ScaleMem{Pods: i, RSSKBPerPod: float64(u.RSSKB) / float64(i), PSSKBPerPod: float64(u.PSSKB) / float64(i), MemAvailMB: memAvailableMB()}
			if agent.usage != nil {
				sm.Agent = agent.usage()
			}
			sr.Memory = append(sr.Memory, sm)
			progress(fmt.Sprintf("  %s: %d pods", s.Name(), i))
		}
	}
	sr.Pods = len(hs)
	if agent.idle != nil && len(hs) > 0 && ctx.Err() == nil {
		sr.AgentIdle = agent.idle()
	}
	t := time.Now()
	for _, h := range hs {
		d, err := s.Delete(ctx, h)
		if p, ok := s.(Phaser); ok {
			p.TakePhases()
		}
		if err != nil && sr.Stopped == "" {
			sr.Stopped = "teardown: " + firstLine(err.Error())
		}
		sr.Teardown = append(sr.Teardown, d)
	}
	sr.TeardownTotal = time.Since(t)
	return sr
}

func memAvailableMB() int64 { return meminfo("MemAvailable") / 1024 }

func meminfo(field string) int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return kb(strings.TrimSpace(v))
		}
	}
	return 0
}

func machineInfo(containerdVersion string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), MemoryMB: meminfo("MemTotal") / 1024, CgroupMode: cgroups.Mode(), Containerd: containerdVersion}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`)
			}
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				m.CPUModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return m
}

func toolVersion(ctx context.Context, bin string, args ...string) string {
	out, err := run(ctx, nil, bin, args...)
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	if strings.Contains(v, "unknown") {
		// `go install` builds report "unknown"; the module version is in the binary.
		if o2, err := run(ctx, nil, "go", "version", "-m", bin); err == nil {
			for _, l := range strings.Split(o2, "\n") {
				f := strings.Fields(l)
				if len(f) >= 3 && f[0] == "mod" && f[1] == "sigs.k8s.io/cri-tools" {
					return f[2]
				}
			}
		}
	}
	return strings.TrimPrefix(v, "crictl version ")
}

// hostSnapshot lists the host objects a pod runtime leaves when it leaks:
// netns pins, network links, mounts, cgroups, runtime processes.
func hostSnapshot() []string {
	var items []string
	ents, _ := os.ReadDir("/run/netns")
	for _, e := range ents {
		items = append(items, "netns "+e.Name())
	}
	if links, err := netlink.LinkList(); err == nil {
		for _, l := range links {
			items = append(items, "link "+l.Attrs().Name)
		}
	}
	for _, mp := range sandbox.MountsUnder("/run") {
		items = append(items, "mount "+mp)
	}
	for _, mp := range sandbox.MountsUnder("/var/lib") {
		items = append(items, "mount "+mp)
	}
	for _, pat := range []string{"/sys/fs/cgroup/*/podsim*/*", "/sys/fs/cgroup/podsim*/*", "/sys/fs/cgroup/*/podsim*", "/sys/fs/cgroup/podsim*"} {
		m, _ := filepath.Glob(pat)
		for _, d := range m {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				items = append(items, "cgroup "+d)
			}
		}
	}
	for _, p := range ScanProcs() {
		if k := ProcKind(p); k != "" {
			items = append(items, "process "+strconv.Itoa(p.PID)+" "+p.Cmdline)
		}
	}
	for _, d := range []string{"/var/lib/podsim/pods", DefaultLayout().Run, DefaultLayout().State} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			items = append(items, "file "+filepath.Join(d, e.Name()))
		}
	}
	sort.Strings(items)
	return items
}

// leftover is what exists now and did not before the bench (shims exit a
// moment after their last container, so it looks again for a few seconds).
func leftover(before []string) []string {
	had := map[string]bool{}
	for _, b := range before {
		had[b] = true
	}
	var out []string
	for i := 0; i < 30; i++ {
		out = nil
		for _, a := range hostSnapshot() {
			if !had[a] {
				out = append(out, a)
			}
		}
		if len(out) == 0 {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return out
}

// agentOf returns a reader of podsim's node agent for podsim's systems
// (in process or CLI: the same pods, the same agent), nil for the others.
func agentOf(s System, m *sandbox.Manager) func() *AgentUsage {
	switch s.(type) {
	case *PodsimSystem, *PodsimCLISystem:
		return func() *AgentUsage { return readAgent(m) }
	}
	return nil
}
