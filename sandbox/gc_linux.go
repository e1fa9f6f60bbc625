package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/leases"
	"github.com/containerd/containerd/snapshots"
	"golang.org/x/sys/unix"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/namespaces"
	"github.com/podsim/podsim/sandbox/runtime"
)

// errStillGoing marks an object gc removed (or had removed) that has not
// gone yet when gc stops waiting: it is reported, not counted as removed.
var errStillGoing = errors.New("still going away")

// GCReport is what `podsim gc` did, or with dryRun would do.
type GCReport struct {
	// Removed lists, one line each, what gc removed (dry run: would remove).
	// `podsim gc --dry-run` prints exactly the lines `podsim gc` then removes.
	Removed []string
	// Going lists what gc removed or stopped but has not gone yet.
	Going []string
	// Kept lists what podsim made that gc leaves: objects stored by
	// `podsim create`/`apply` (Deployments, Services, ConfigMaps, Secrets)
	// and leases of podsim processes that still run.
	Kept []string
}

// gcItem is one object gc removes: what names it (as the inventory does),
// remove removes it and returns once it is gone (or errStillGoing).
type gcItem struct {
	what   string
	remove func(ctx context.Context) error
}

// GC removes every object podsim made, found by label and by name rather
// than by trusting the records: pods (records), containers, leases,
// snapshots and content ingests in podsim's containerd namespace, shims,
// mounts, netns pins named podsim-*, pod run/state/log dirs, the /podsim
// cgroup tree, IPAM reservations and the idle bridge. It is how a host is
// cleaned after a crash. It holds the host-wide lock, plans, then (unless
// dryRun) carries out the plan in order, each step waiting until what it
// removed is gone, so the report lists exactly what the plan listed.
//
// Leases are the one kind gc judges by owner: a lease podsim took
// (runtime.WithLease) is removed when its owner process is gone; a lease
// without podsim's owner labels (the Go client's own, from an older podsim)
// only when no other podsim command runs; the snapshots and ingests a kept
// lease holds are kept with it.
func (m *Manager) GC(ctx context.Context, bridge string, dryRun bool) (*GCReport, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	ctx = context.WithoutCancel(ctx) // never leave a half-done step
	plan, rep, err := m.gcPlan(ctx, bridge)
	if err != nil || dryRun {
		for _, it := range plan {
			rep.Removed = append(rep.Removed, it.what)
		}
		return rep, err
	}
	// A step may fail only because a later one has not run yet — a pod's
	// cgroup is busy while an orphan shim still holds its pause — so what
	// failed is tried once more at the end (every step is idempotent).
	var retry []gcItem
	for _, it := range plan {
		if err := it.remove(ctx); err != nil && !errors.Is(err, errStillGoing) {
			retry = append(retry, it)
			continue
		} else if err != nil {
			rep.Going = append(rep.Going, it.what+": "+err.Error())
			continue
		}
		rep.Removed = append(rep.Removed, it.what)
	}
	var errs []error
	for _, it := range retry {
		err := it.remove(ctx)
		switch {
		case err == nil:
			rep.Removed = append(rep.Removed, it.what)
		case errors.Is(err, errStillGoing):
			rep.Going = append(rep.Going, it.what+": "+err.Error())
		default:
			errs = append(errs, fmt.Errorf("%s: %w", it.what, err))
		}
	}
	return rep, errors.Join(errs...)
}

// gcAdd adds one object to gc's plan: what names it, remove removes it.
type gcAdd = func(what string, remove func(context.Context) error)

// gcPlan finds what gc removes, in the order it removes it: pods, then
// stray containers, processes, mounts, leases, snapshots, ingests, netns
// pins, files, cgroups, IPAM reservations and the bridge.
func (m *Manager) gcPlan(ctx context.Context, bridge string) ([]gcItem, *GCReport, error) {
	rep := &GCReport{}
	var plan []gcItem
	add := func(what string, f func(context.Context) error) { plan = append(plan, gcItem{what, f}) }

	recorded := m.gcPods(add)
	if err := m.gcContainers(ctx, add, recorded); err != nil {
		return nil, rep, err
	}
	m.gcProcesses(add)
	m.gcRunscState(ctx, add)
	gcMounts(add)
	// Leases, and what live ones hold.
	held, err := m.gcLeases(ctx, add, rep)
	if err != nil {
		return nil, rep, err
	}
	if err := m.gcSnapshots(ctx, add, held); err != nil {
		return nil, rep, err
	}
	if err := m.gcIngests(ctx, add, held); err != nil {
		return nil, rep, err
	}
	m.gcRemappedSnapshots(ctx, add) // hostUsers: false rootfs copies no pod holds
	gcNetNSPins(add)
	m.gcPodFiles(add)
	gcCgroups(add)
	ipam := filepath.Join(m.paths.cniDir(), "networks")
	gcIPAM(add, ipam)
	gcBridge(add, bridge, ipam)
	rep.Kept = append(rep.Kept, m.storedObjects()...)
	return plan, rep, nil
}

// gcPods plans the pods, torn down from their records, and returns the
// IDs of the recorded ones.
func (m *Manager) gcPods(add gcAdd) map[string]bool {
	recs, _ := m.Records()
	recorded := map[string]bool{}
	for _, r := range recs {
		r := r
		recorded[r.ID] = true
		add("pod "+r.Name()+" ("+r.ID+")", func(ctx context.Context) error { return m.teardown(ctx, r, 0) })
	}
	return recorded
}

// gcContainers plans the containers without a record (a crash before the
// record was written); those of recorded pods go with their pod.
func (m *Manager) gcContainers(ctx context.Context, add gcAdd, recorded map[string]bool) error {
	ctrs, err := m.client.Containers(ctx)
	if err != nil {
		return fmt.Errorf("listing containers: %w", err)
	}
	for _, c := range ctrs {
		c := c
		if labels, err := c.Labels(ctx); err == nil && recorded[labels[LabelSandboxID]] {
			continue // removed with its pod
		}
		add("container "+c.ID(), func(ctx context.Context) error { return removeContainer(ctx, c, 0, nil) })
	}
	return nil
}

// gcProcesses plans the processes: every shim and pause goes
// with the pods. A shim still there once its pod is gone is an orphan:
// shut down.
func (m *Manager) gcProcesses(add gcAdd) {
	for _, p := range listPodsimProcs() {
		p := p
		add("process "+p.String(), func(ctx context.Context) error {
			if p.waitGone(3 * time.Second) {
				return nil
			}
			if p.ShimID != "" {
				if _, err := m.client.LoadContainer(ctx, p.ShimID); err == nil {
					return fmt.Errorf("shim %d still serves container %s", p.PID, p.ShimID)
				}
				return stopOrphanShim(ctx, p)
			}
			if p.waitGone(5 * time.Second) {
				return nil
			}
			if p.Runsc {
				return stopStrayRunsc(p) // gc_runsc_linux.go
			}
			return fmt.Errorf("%w: process %d has not exited (its shim is gone; gc only stops shims)", errStillGoing, p.PID)
		})
	}
}

// gcMounts plans the mounts: container rootfs mounts go with their shim's
// task; pins and pod tmpfs with the pod. What stays is unmounted (lazily,
// as umount -l).
func gcMounts(add gcAdd) {
	for _, mp := range podsimMounts() {
		mp := mp
		add("mount "+mp, func(ctx context.Context) error {
			if gone, _ := runtime.WaitUntil(ctx, 2*time.Second, func() bool { return !isMountPoint(mp) }); gone {
				return nil
			}
			if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("unmounting %s: %w", mp, err)
			}
			return nil
		})
	}
}

// gcSnapshots plans the active snapshots that no kept lease holds.
func (m *Manager) gcSnapshots(ctx context.Context, add gcAdd, held map[string]bool) error {
	sn := m.client.SnapshotService(runtime.Snapshotter)
	if err := sn.Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if info.Kind == snapshots.KindCommitted || held["snapshots/"+runtime.Snapshotter+"/"+info.Name] {
			return nil // image layers are a cache; a live podsim's snapshot is its own
		}
		key := info.Name
		add("snapshot "+key, func(ctx context.Context) error {
			if err := sn.Remove(ctx, key); err != nil && !errdefs.IsNotFound(err) {
				return err
			}
			return nil
		})
		return nil
	}); err != nil {
		return fmt.Errorf("listing snapshots: %w", err)
	}
	return nil
}

// gcIngests plans the content ingests that no kept lease holds.
func (m *Manager) gcIngests(ctx context.Context, add gcAdd, held map[string]bool) error {
	cs := m.client.ContentStore()
	sts, err := cs.ListStatuses(ctx)
	if err != nil {
		return fmt.Errorf("listing content ingests: %w", err)
	}
	for _, st := range sts {
		if held["ingests/"+st.Ref] {
			continue
		}
		ref := st.Ref
		add("ingest "+ref, func(ctx context.Context) error { return abortIngest(ctx, cs, ref) })
	}
	return nil
}

// gcNetNSPins plans the netns pins.
func gcNetNSPins(add gcAdd) {
	ents, _ := os.ReadDir(namespaces.NetNSDir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "podsim-") {
			p := filepath.Join(namespaces.NetNSDir, e.Name())
			add("netns "+p, func(context.Context) error { return namespaces.RemoveNetNS(p) })
		}
	}
}

// gcPodFiles plans the pod state, run and log dirs.
func (m *Manager) gcPodFiles(add gcAdd) {
	for _, d := range []string{m.paths.podsDir(), filepath.Join(m.paths.Run, "pods")} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			id := e.Name()
			add("file "+filepath.Join(d, id), func(context.Context) error { return m.removePodDirs(id) })
		}
	}
	logs := filepath.Join(m.paths.Logs, "pods")
	ents, _ := os.ReadDir(logs)
	for _, e := range ents {
		p := filepath.Join(logs, e.Name())
		add("file "+p, func(context.Context) error { return os.RemoveAll(p) })
	}
}

// gcCgroups plans the pod cgroups (one line per controller directory, as
// the inventory lists them), then the idle /podsim parent.
func gcCgroups(add gcAdd) {
	for _, d := range cgroups.Dirs(cgroups.Parent) {
		sub, _ := os.ReadDir(d)
		for _, s := range sub {
			if s.IsDir() {
				path := cgroups.Parent + "/" + s.Name()
				add("cgroup "+filepath.Join(d, s.Name()), func(ctx context.Context) error {
					// A cgroup with a process left cannot go: wait for it.
					var err error
					if gone, _ := runtime.WaitUntil(ctx, 2*time.Second, func() bool { err = cgroups.Remove(path); return err == nil }); !gone {
						return fmt.Errorf("%w: %v", errStillGoing, err)
					}
					return nil
				})
			}
		}
	}
	if dirs := cgroups.Dirs(cgroups.Parent); len(dirs) > 0 {
		add("cgroup tree "+cgroups.Parent+IdleNote, func(context.Context) error { cgroups.RemoveParent(); return nil })
	}
}

// gcIPAM plans the IP reservations of host-local IPAM left by a crash
// (files named by IP) in ipam, its networks directory.
func gcIPAM(add gcAdd, ipam string) {
	nets, _ := os.ReadDir(ipam)
	for _, n := range nets {
		res, _ := os.ReadDir(filepath.Join(ipam, n.Name()))
		for _, r := range res {
			if net.ParseIP(r.Name()) != nil {
				p := filepath.Join(ipam, n.Name(), r.Name())
				add("ip "+r.Name()+" (host-local IPAM "+n.Name()+")", func(context.Context) error {
					if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
						return err
					}
					return nil
				})
			}
		}
	}
}

// gcBridge plans the bridge, once nothing is plugged into it, with IPAM's
// state (ipam).
func gcBridge(add gcAdd, bridge, ipam string) {
	if br := bridgeLine(bridge); br != "" {
		add(br, func(context.Context) error {
			if _, err := RemoveBridgeIfUnused(bridge); err != nil {
				return err
			}
			return os.RemoveAll(ipam)
		})
	}
}

// gcLeases plans the removal of leases in podsim's namespace whose owner is
// gone and returns the resources ("snapshots/<snapshotter>/<key>",
// "ingests/<ref>") that the kept leases hold.
func (m *Manager) gcLeases(ctx context.Context, add gcAdd, rep *GCReport) (map[string]bool, error) {
	ls := m.client.LeasesService()
	all, err := ls.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing leases: %w", err)
	}
	held := map[string]bool{}
	others := -1 // other podsim commands running, counted once when needed
	for _, l := range all {
		l := l
		o, ours := runtime.OwnerOf(l)
		var why string
		switch {
		case ours && !o.Alive():
			why = "owner " + o.String() + " is gone"
		case ours:
			rep.Kept = append(rep.Kept, "lease "+l.ID+" (owner "+o.String()+" runs: "+l.Labels[runtime.LabelLeasePurpose]+")")
		default:
			if others < 0 {
				others = len(otherPodsimCommands())
			}
			if others == 0 {
				why = "no owner label, and no other podsim command runs"
			} else {
				rep.Kept = append(rep.Kept, "lease "+l.ID+" (no owner label; another podsim command runs)")
			}
		}
		if why == "" {
			res, _ := ls.ListResources(ctx, l)
			for _, r := range res {
				held[r.Type+"/"+r.ID] = true
			}
			continue
		}
		add("lease "+l.ID+" ("+why+")", func(ctx context.Context) error {
			// Synchronous: containerd's garbage collector has run when it
			// returns, so what only this lease held is gone too.
			if err := ls.Delete(ctx, l, leases.SynchronousDelete); err != nil && !errdefs.IsNotFound(err) {
				return err
			}
			return nil
		})
	}
	return held, nil
}

func abortIngest(ctx context.Context, cs content.Store, ref string) error {
	if err := cs.Abort(ctx, ref); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	return nil
}

// otherPodsimCommands lists the PIDs of podsim commands other than this
// one (not podsim's containerd supervisor).
func otherPodsimCommands() []int {
	procs, _ := filepath.Glob("/proc/[0-9]*/comm")
	var out []int
	for _, p := range procs {
		var pid int
		if _, err := fmt.Sscan(filepath.Base(filepath.Dir(p)), &pid); err != nil || pid == os.Getpid() {
			continue
		}
		comm, _ := os.ReadFile(p)
		if strings.TrimSpace(string(comm)) != "podsim" {
			continue
		}
		cl, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline"))
		if s := string(cl); strings.Contains(s, "supervise-containerd") {
			continue
		}
		out = append(out, pid)
	}
	return out
}

// bridgeLine is the bridge's inventory line ("" when there is none).
func bridgeLine(bridge string) string {
	veths, ok := bridgeVeths(bridge)
	if !ok {
		return ""
	}
	if len(veths) == 0 {
		return "bridge " + bridge + IdleNote
	}
	return "bridge " + bridge
}

// storedObjects lists the API objects podsim stores for `create`/`apply`
// (kept by gc: they are the user's, not leftovers).
func (m *Manager) storedObjects() []string {
	var out []string
	for _, d := range m.store.Dirs() {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			out = append(out, "file "+filepath.Join(d, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

func isMountPoint(p string) bool {
	for _, mp := range mountPoints() {
		if mp == p {
			return true
		}
	}
	return false
}
