// Package sandbox owns the pod lifecycle: it turns a Kubernetes Pod into
// kernel objects in the order kubelet and containerd's CRI plugin use
// (RunPodSandbox, then CreateContainer/StartContainer for each container),
// keeps the pod's state on those objects, and tears everything down again.
//
// A pod here is:
//   - a pod cgroup, parent of one cgroup per container (package cgroups);
//   - a network namespace pinned under /run/netns and wired by CNI
//     (loopback + a bridge), created before any process exists;
//   - a pause container that lives in that network namespace and holds the
//     pod's IPC and UTS namespaces;
//   - app containers (runc, through containerd) that join the pause's
//     net/ipc/uts namespaces and get their own mount and PID namespaces.
package sandbox

import (
	"path/filepath"
	"time"

	"github.com/podsim/podsim/sandbox/runtime"
)

// Labels podsim puts on its containerd containers (see containerLabels).
// Every one is read: teardown finds a pod's containers by the sandbox ID,
// exec and logs map a container back to its pod-spec name.
const (
	LabelPrefix        = "podsim.io/"
	LabelSandboxID     = LabelPrefix + "sandbox-id"
	LabelContainerName = LabelPrefix + "container-name"
)

// Container roles, also the trace's step names for their start.
const (
	RoleSandbox = "sandbox"
	RoleInit    = "init"
	RoleApp     = "app"
	// RoleEphemeral is a debug container added to a running pod (podsim debug).
	RoleEphemeral = "ephemeral"

	// ShimGroupAnnotation makes the runc v2 shim serve every container of a
	// pod from one shim process, as CRI does with its sandbox-id annotation.
	ShimGroupAnnotation = "io.containerd.runc.v2.group"

	// CRI's annotations on every container's spec (containerd's
	// pkg/cri/annotations): what the container is to its pod. Runtimes
	// read them: runc's shim and gVisor's group a pod's containers in one
	// shim by the sandbox ID, and runsc makes the "sandbox" container (the
	// pause) a new gVisor sandbox (a Sentry) and runs each "container" in
	// the Sentry of the sandbox it names.
	CRIContainerType = "io.kubernetes.cri.container-type"
	CRISandboxID     = "io.kubernetes.cri.sandbox-id"
	CRISandboxName   = "io.kubernetes.cri.sandbox-name"
	CRISandboxNS     = "io.kubernetes.cri.sandbox-namespace"
	CRISandboxUID    = "io.kubernetes.cri.sandbox-uid"
	CRIContainerName = "io.kubernetes.cri.container-name"
	CRITypeSandbox   = "sandbox"
	CRITypeContainer = "container"
)

// PauseImage is the image of every pod's sandbox container.
const PauseImage = "podsim/pause:latest"

// Paths are the host directories podsim owns. Everything podsim writes
// outside containerd lives below them, so `gc` can find and remove it.
type Paths struct {
	State string // persistent state: /var/lib/podsim
	Run   string // volatile state, tmpfs mounts: /run/podsim
	Logs  string // container logs: /var/log/podsim
}

// DefaultPaths are the paths a root podsim uses.
func DefaultPaths() Paths {
	return Paths{State: runtime.DefaultStateDir, Run: runtime.DefaultRunDir, Logs: "/var/log/podsim"}
}

func (p Paths) podsDir() string         { return filepath.Join(p.State, "pods") }
func (p Paths) podDir(id string) string { return filepath.Join(p.podsDir(), id) }
func (p Paths) podRun(id string) string { return filepath.Join(p.Run, "pods", id) }
func (p Paths) lockFile() string        { return filepath.Join(p.Run, "pods.lock") }
func (p Paths) cniDir() string          { return filepath.Join(p.State, "cni") }
func (p Paths) podLogDir(ns, name, uid string) string {
	// Same layout as kubelet: /var/log/pods/<ns>_<name>_<uid>/<container>/0.log
	return filepath.Join(p.Logs, "pods", ns+"_"+name+"_"+uid)
}

// terminatingFile marks a pod whose teardown began (kubelet's pod with a
// deletionTimestamp): its liveness and startup probes stop.
func (p Paths) terminatingFile(id string) string { return filepath.Join(p.podRun(id), "terminating") }

// Event is one step of building or tearing down a pod: the kernel concept,
// the object it made or removed, and how long it took. The sandbox emits
// them as one typed stream and never prints; the CLI's -v/--trace output,
// --trace=json and the benchmark's phase breakdown all consume them.
type Event struct {
	Time     time.Time         `json:"time"`
	Pod      string            `json:"pod"`
	Step     string            `json:"step"`    // cgroup, netns, cni, volume, pause, init, app, mount, teardown
	Concept  string            `json:"concept"` // the kernel or Kubernetes concept, for people
	Object   string            `json:"object,omitempty"`
	Detail   string            `json:"detail"`
	Attrs    map[string]string `json:"attrs,omitempty"` // machine-readable facts: inodes, pids, paths, IPs
	Duration time.Duration     `json:"durationNs"`
}
