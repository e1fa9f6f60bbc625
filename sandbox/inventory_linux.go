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

// Inventory lists every object podsim made that exists now, found by
// label and by name (not from podsim's records alone): pod records,
// containerd containers/tasks/snapshots in podsim's namespace, netns pins,
// the bridge and its veths, mounts under podsim's paths, cgroups, pod
// files and logs, stored objects, and shim/pause/log-driver processes.
// `podsim gc --dry-run` prints it; tests compare it before and after.
// IdleBridgeNote marks the bridge in the inventory when no pod is plugged
// into it: podsim keeps it between pods, as a node keeps its CNI bridge.
const IdleBridgeNote = " (idle: kept for the next pod; gc removes it)"

func (m *Manager) Inventory(ctx context.Context, bridge string) ([]string, error) {
	var out []string
	add := func(kind, what string) { out = append(out, kind+" "+what) }

	recs, _ := m.Records()
	for _, r := range recs {
		add("pod", r.Name()+" ("+r.ID+")")
	}
	ctrs, err := m.client.Containers(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	for _, c := range ctrs {
		add("container", c.ID())
		if t, err := c.Task(ctx, nil); err == nil {
			add("task", fmt.Sprintf("%s pid %d", c.ID(), t.Pid()))
		}
	}
	sn := m.client.SnapshotService(runtime.Snapshotter)
	_ = sn.Walk(ctx, func(ctx context.Context, info snapshots.Info) error {
		if !strings.HasPrefix(info.Name, "sha256:") { // image layers are a cache
			add("snapshot", info.Name)
		}
		return nil
	})
	ents, _ := os.ReadDir(namespaces.NetNSDir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "podsim-") {
			add("netns", filepath.Join(namespaces.NetNSDir, e.Name()))
		}
	}
	if br, err := netlink.LinkByName(bridge); err == nil {
		links, _ := netlink.LinkList()
		var veths []string
		for _, l := range links {
			if l.Attrs().MasterIndex == br.Attrs().Index {
				veths = append(veths, l.Attrs().Name)
			}
		}
		if len(veths) == 0 {
			// Kept between pods on purpose (see teardown); gc removes it.
			add("bridge", bridge+IdleBridgeNote)
		} else {
			add("bridge", bridge)
		}
		for _, v := range veths {
			add("veth", v)
		}
	}
	for _, mp := range podsimMounts() {
		add("mount", mp)
	}
	for _, d := range cgroups.PodDirs() {
		add("cgroup", d)
	}
	for _, d := range []string{m.paths.podsDir(), filepath.Join(m.paths.Run, "pods"), filepath.Join(m.paths.Logs, "pods"), m.paths.deploymentsDir(),
		filepath.Join(m.paths.State, "objects", "services"), filepath.Join(m.paths.State, "objects", "configmaps"), filepath.Join(m.paths.Run, "objects", "secrets")} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			add("file", filepath.Join(d, e.Name()))
		}
	}
	for _, p := range podsimProcesses() {
		add("process", p)
	}
	sort.Strings(out)
	return out, nil
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

// podsimProcesses lists shims of podsim's containerd namespace, pause
// processes and podsim log drivers, by their command lines.
func podsimProcesses() []string {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var out []string
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			continue
		}
		cl := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		if (strings.Contains(cl, "containerd-shim") && strings.Contains(cl, "-namespace podsim ")) ||
			cl == "/pause" || strings.Contains(cl, LoggerFlag) {
			out = append(out, filepath.Base(filepath.Dir(p))+" "+cl)
		}
	}
	return out
}
