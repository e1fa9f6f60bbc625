// Package podgraph draws a pod as the kernel built it: the pod cgroup, the
// namespaces the pause container holds for the whole pod (net, ipc, uts),
// each container with the namespaces of its own (mnt, pid), the volumes
// bind-mounted into the containers, and the eth0 / veth / bridge path out of
// the pod's network namespace.
//
// The model (Pod) is filled from `podsim inspect`'s data (FromInspection, on
// Linux) and rendered as Graphviz DOT (DOT) or as a self-contained SVG
// (SVG) that podsim lays out itself: nested boxes on a fixed grid, so the
// same pod always gives the same picture and no external renderer is needed.
package podgraph

import (
	"fmt"
	"sort"
	"strings"
)

// NS is one namespace, printed the way the kernel prints /proc/<pid>/ns/*
// links: "net:[4026532177]".
type NS struct {
	Type  string
	Inode uint64
}

func (n NS) String() string { return fmt.Sprintf("%s:[%d]", n.Type, n.Inode) }

// Mount is one volume mounted into a container.
type Mount struct {
	Volume   string
	Path     string // mountPath inside the container
	SubPath  string
	ReadOnly bool
}

// Mode is "ro" or "rw".
func (m Mount) Mode() string {
	if m.ReadOnly {
		return "ro"
	}
	return "rw"
}

// Container is the pause container or a container of the pod.
type Container struct {
	Name   string
	Role   string // sandbox, init, app, ephemeral
	Image  string
	Status string // running, exited (code), missing...
	PID    uint32 // host PID of its first process; 0 when not running
	Cgroup string // its cgroup, a child of the pod cgroup
	// Own are the namespaces it has alone (mnt, pid unless shared, cgroup).
	Own []NS
	// Joined are the types of the pod's namespaces it is in (net, ipc, uts,
	// and pid with shareProcessNamespace).
	Joined []string
	// Host are the types of namespaces it shares with the host (user, and
	// what hostNetwork, hostPID, hostIPC ask for).
	Host   []string
	Mounts []Mount
	// Target is an ephemeral container's --target: the container whose
	// PID namespace it joined (listed in Own, the same inode as the target's).
	Target string
}

// Volume is a pod volume: a directory on the host bind-mounted into the
// containers that name it.
type Volume struct {
	Name     string
	Kind     string // "emptyDir", "emptyDir (Memory, tmpfs)", "configMap NAME", "secret NAME"
	HostPath string // "" when unknown
}

// Pod is the picture's model.
type Pod struct {
	Namespace, Name, UID string
	Cgroup               string // pod cgroup path, e.g. /podsim/pod<uid>
	CgroupMode           string // v1, v2
	NetNSPin             string // /run/netns/podsim-...
	IP, MAC              string // of eth0
	Veth, Bridge         string // host end of the veth pair, the bridge it is on
	// Shared are the pod's namespaces, held by the pause container and
	// joined by every container: net, ipc, uts (and pid when the pod sets
	// shareProcessNamespace).
	Shared []NS
	Host   []NS // the host's namespaces (podsim's own), for reference
	// HostWhy names the pod field that made a namespace type the host's:
	// "net": "hostNetwork: true".
	HostWhy     map[string]string
	HostNetwork bool // no network namespace of its own: IP is the node's
	// UserMap is the pod's uid mapping with hostUsers: false ("0-65535 ->
	// host 2147483648-2147549183"), "" when the pod uses the host's IDs.
	UserMap    string
	Pause      Container
	Init       []Container
	Containers []Container
	Volumes    []Volume
}

// All returns the pause container, the init containers and the app
// containers, in that order.
func (p *Pod) All() []Container {
	out := []Container{p.Pause}
	out = append(out, p.Init...)
	return append(out, p.Containers...)
}

// HostText lists host namespace types with the pod field that asked for
// each: "net uts (hostNetwork: true) user".
func (p *Pod) HostText(types []string) string {
	var out []string
	for i, t := range types {
		why := p.HostWhy[t]
		if why != "" && (i+1 == len(types) || p.HostWhy[types[i+1]] != why) {
			t += " (" + why + ")"
		}
		out = append(out, t)
	}
	return strings.Join(out, " ")
}

// SharedType returns the pod namespace of a type, if the pod has one.
func (p *Pod) SharedType(typ string) (NS, bool) {
	for _, n := range p.Shared {
		if n.Type == typ {
			return n, true
		}
	}
	return NS{}, false
}

// Use is one container mounting a volume.
type Use struct {
	Container string
	Mount     Mount
}

// MountsOf lists which containers mount a volume, in container order.
func (p *Pod) MountsOf(volume string) []Use {
	var out []Use
	for _, c := range p.All() {
		for _, m := range c.Mounts {
			if m.Volume == volume {
				out = append(out, Use{c.Name, m})
			}
		}
	}
	return out
}

// nsOrder sorts namespace types the way /proc/<pid>/ns is usually read.
var nsOrder = map[string]int{"net": 0, "ipc": 1, "uts": 2, "pid": 3, "mnt": 4, "cgroup": 5, "user": 6, "time": 7}

func sortNS(l []NS) {
	sort.SliceStable(l, func(i, j int) bool { return rank(l[i].Type) < rank(l[j].Type) })
}

func sortTypes(l []string) {
	sort.SliceStable(l, func(i, j int) bool { return rank(l[i]) < rank(l[j]) })
}

func rank(t string) int {
	if r, ok := nsOrder[t]; ok {
		return r
	}
	return 100
}

// nsLabel names a namespace type for people.
func nsLabel(t string) string {
	switch t {
	case "net":
		return "network"
	case "ipc":
		return "IPC"
	case "uts":
		return "UTS (hostname)"
	case "pid":
		return "PID"
	case "mnt":
		return "mount"
	case "cgroup":
		return "cgroup"
	case "user":
		return "user"
	}
	return t
}
