package sandbox

import (
	"context"
	"fmt"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/namespaces"
)

// Inspection is the teaching view of a pod: which kernel namespaces each
// container is in, read from /proc/<pid>/ns, compared with the pause
// container's and the host's.
type Inspection struct {
	State      *PodState
	NetNSID    namespaces.ID
	CgroupDirs []string
	Host       map[string]namespaces.ID
	Rows       []NSRow
}

// NSRow is one process (pause or a container's main process).
type NSRow struct {
	Name   string
	Role   string // RoleSandbox, RoleApp, RoleEphemeral
	PID    uint32
	NS     map[string]namespaces.ID
	Err    string
	Target string // an ephemeral container's --target, whose PID namespace it joined
	// UIDMap is /proc/<pid>/uid_map: how the kernel translates the
	// process's uids (the pod's range with hostUsers: false).
	UIDMap string
}

// Relation says how a row's namespace relates to the pod: "pause" for the
// pause container itself, "shared" (same inode as the pause's), "own" (a
// namespace of its own), "host" (the host's, i.e. not isolated), or
// "target" (an ephemeral container in its --target's PID namespace).
func (in *Inspection) Relation(row NSRow, typ string) string {
	id, ok := row.NS[typ]
	if !ok {
		return "-"
	}
	if h, ok := in.Host[typ]; ok && h == id {
		return "host"
	}
	if len(in.Rows) > 0 && in.Rows[0].Name == row.Name {
		return "pause"
	}
	if len(in.Rows) > 0 && in.Rows[0].NS[typ] == id {
		return "shared"
	}
	if row.Target != "" {
		for _, r := range in.Rows {
			if r.Name == row.Target && r.NS[typ] == id {
				return "target"
			}
		}
	}
	return "own"
}

// Label is Relation for people: "host (hostNetwork: true)" names the pod
// field that made a namespace the host's, "target c1" the container an
// ephemeral container joined.
func (in *Inspection) Label(row NSRow, typ string) string {
	rel := in.Relation(row, typ)
	switch rel {
	case "host":
		if why := HostReason(&in.State.Pod.Spec, typ); why != "" {
			return "host (" + why + ")"
		}
	case "target":
		return "target " + row.Target
	}
	return rel
}

// Inspect reads the namespaces of every process of a pod.
func (m *Manager) Inspect(ctx context.Context, namespace, name string) (*Inspection, error) {
	st, err := m.Get(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	in := &Inspection{State: st, CgroupDirs: cgroups.Dirs(st.Cgroup)}
	if in.Host, err = namespaces.Of(0); err != nil {
		return nil, fmt.Errorf("reading host namespaces: %w", err)
	}
	if st.NetNS != "" {
		in.NetNSID, _ = namespaces.Read(st.NetNS, "net")
	}
	add := func(c ContainerState, target string) {
		row := NSRow{Name: c.Name, Role: c.Role, PID: c.PID, Target: target}
		if c.PID == 0 {
			row.Err = c.Status
		} else if row.NS, err = namespaces.Of(int(c.PID)); err != nil {
			row.Err = err.Error()
		} else {
			row.UIDMap, _ = ReadIDMap(int(c.PID), "uid_map")
		}
		in.Rows = append(in.Rows, row)
	}
	add(st.Pause, "")
	for _, c := range st.Containers {
		add(c, "")
	}
	for i, c := range st.Ephemeral {
		add(c, st.Pod.Spec.EphemeralContainers[i].TargetContainerName)
	}
	return in, nil
}
