package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containerd/containerd/snapshots"
	"github.com/vishvananda/netlink"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/namespaces"
	"github.com/podsim/podsim/sandbox/runtime"
)

// IdleNote marks what the inventory lists but podsim keeps on purpose
// between pods (the bridge, the /podsim cgroup parent) when no pod uses it,
// as a node keeps its CNI bridge; gc removes it.
const IdleNote = " (idle: kept for the next pod; gc removes it)"

// AgentNote marks the node agent's process in the inventory: it runs on
// purpose between commands, like containerd; `podsim system stop` stops it.
const AgentNote = " (the node agent: 'podsim system stop' stops it)"

// Inventory lists every object podsim made that exists now, found by
// label and by name (not from podsim's records alone): pod records,
// containerd containers, tasks, leases, active snapshots and content
// ingests in podsim's namespace, netns pins, the bridge and its veths,
// mounts under podsim's paths, cgroups, pod files and logs, stored
// objects, and shim/pause/log-driver processes. Tests compare it before
// and after; `podsim gc --dry-run` lists the part of it gc removes.
func (m *Manager) Inventory(ctx context.Context, bridge string) ([]string, error) {
	var out []string
	add := func(kind, what string) { out = append(out, kind+" "+what) }

	recs, _ := m.Records()
	for _, r := range recs {
		add("pod", r.Name()+" ("+r.ID+")")
	}
	if err := m.inventoryContainerd(ctx, add); err != nil {
		return nil, err
	}
	ents, _ := os.ReadDir(namespaces.NetNSDir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "podsim-") {
			add("netns", filepath.Join(namespaces.NetNSDir, e.Name()))
		}
	}
	if line := bridgeLine(bridge); line != "" {
		out = append(out, line)
		veths, _ := bridgeVeths(bridge)
		for _, v := range veths {
			add("veth", v)
		}
	}
	m.inventoryPaths(add)
	m.inventoryUserNS(ctx, add) // ID ranges and rootfs copies of hostUsers: false pods
	for _, p := range listPodsimProcs() {
		add("process", p.String())
	}
	if pid, ok := runtime.AgentPID(runtime.Options{}); ok {
		add("process", fmt.Sprintf("%d podsim %s%s", pid, strings.Join(runtime.AgentArgs, " "), AgentNote))
	}
	sort.Strings(out)
	return out, nil
}

// inventoryContainerd lists the objects in podsim's containerd namespace:
// containers, tasks, leases, active snapshots and content ingests.
func (m *Manager) inventoryContainerd(ctx context.Context, add func(kind, what string)) error {
	ctrs, err := m.client.Containers(ctx)
	if err != nil {
		return fmt.Errorf("listing containers: %w", err)
	}
	for _, c := range ctrs {
		add("container", c.ID())
		if t, err := c.Task(ctx, nil); err == nil {
			add("task", fmt.Sprintf("%s pid %d", c.ID(), t.Pid()))
		}
	}
	ls, err := m.client.LeasesService().List(ctx)
	if err != nil {
		return fmt.Errorf("listing leases: %w", err)
	}
	for _, l := range ls {
		if o, ok := runtime.OwnerOf(l); ok {
			add("lease", l.ID+" ("+o.String()+", "+l.Labels[runtime.LabelLeasePurpose]+")")
		} else {
			add("lease", l.ID)
		}
	}
	sn := m.client.SnapshotService(runtime.Snapshotter)
	if err := sn.Walk(ctx, func(ctx context.Context, info snapshots.Info) error {
		if info.Kind != snapshots.KindCommitted { // committed ones are image layers: a cache
			add("snapshot", info.Name)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("listing snapshots: %w", err)
	}
	sts, err := m.client.ContentStore().ListStatuses(ctx)
	if err != nil {
		return fmt.Errorf("listing content ingests: %w", err)
	}
	for _, st := range sts {
		add("ingest", st.Ref)
	}
	return nil
}

// inventoryPaths lists mounts under podsim's paths, pod cgroups, pod
// files and logs, and stored objects.
func (m *Manager) inventoryPaths(add func(kind, what string)) {
	for _, mp := range podsimMounts() {
		add("mount", mp)
	}
	for _, d := range cgroups.PodDirs() {
		add("cgroup", d)
	}
	// (RunscRoot/podsim: runsc's state files of gVisor containers.)
	for _, d := range append([]string{m.paths.podsDir(), filepath.Join(m.paths.Run, "pods"), filepath.Join(m.paths.Logs, "pods"), filepath.Join(RunscRoot, runtime.Namespace)}, m.store.Dirs()...) {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			add("file", filepath.Join(d, e.Name()))
		}
	}
}

// bridgeVeths lists the links plugged into the bridge; ok is false when
// there is no such bridge.
func bridgeVeths(bridge string) (veths []string, ok bool) {
	br, err := netlink.LinkByName(bridge)
	if err != nil {
		return nil, false
	}
	links, _ := netlink.LinkList()
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			veths = append(veths, l.Attrs().Name)
		}
	}
	return veths, true
}

// podsimMounts lists mount points that belong to pods: pins, shm and
// volume tmpfs, container rootfs mounts of podsim's namespace.
func podsimMounts() []string {
	var out []string
	for _, mp := range mountPoints() {
		if strings.HasPrefix(mp, namespaces.NetNSDir+"/podsim-") || strings.Contains(mp, "/podsim/pods/") ||
			strings.Contains(mp, "/io.containerd.runtime.v2.task/podsim/") {
			out = append(out, mp)
		}
	}
	return out
}
