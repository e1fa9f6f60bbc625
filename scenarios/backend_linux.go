package scenarios

import (
	"context"
	"io"

	corev1 "k8s.io/api/core/v1"
)

// Backend is where a scenario's pods run and how its checks reach them. A
// scenario's checks are written once against T, which talks to a Backend:
//
//   - Local: podsim's own pods (sandbox.Manager); exec through the runc shim,
//     the kernel read directly from this host's /proc and /sys/fs/cgroup;
//   - a Kubernetes cluster (package cluster): the manifests applied with
//     client-go, exec through the API server (kubelet's streaming server),
//     the kernel read through a privileged pod on the node, the way
//     `kubectl debug node/NAME` works.
//
// A check a backend cannot do is recorded as SKIP with the backend's reason
// (T.Needs), never as PASS.
type Backend interface {
	// Name says where the pods run, for the output ("podsim", "cluster ctx").
	Name() string
	// Namespace is the Kubernetes namespace the scenario's objects are in.
	Namespace() string
	// Apply creates or updates a manifest's objects (any kinds), remembers
	// them for Finish and waits until their pods run (or ran to completion).
	Apply(ctx context.Context, manifest string, out io.Writer) error
	// ApplySecret creates or updates a Secret made in code.
	ApplySecret(ctx context.Context, s *corev1.Secret) error
	// Track registers an object made outside Apply, to delete at the end.
	Track(kind, name string)
	// Exec runs cmd in a container and returns its combined output and
	// exit code; err is set when the command could not run at all.
	Exec(ctx context.Context, pod, container string, cmd []string) (string, int, error)
	// ExecLine is how a person types that exec with this backend's CLI.
	ExecLine(pod, container string, cmd []string) string
	// Background starts a long-running command in a container; stop ends it.
	Background(ctx context.Context, pod, container string, cmd []string) (stop func(), err error)
	// Procs returns the pod (as the API shows it) and the host PIDs of its
	// sandbox ("POD") and containers, on the node the pod runs on.
	Procs(ctx context.Context, pod string) (*Procs, error)
	// Logs returns a container's log.
	Logs(ctx context.Context, pod, container string) (string, error)
	// PreviousLogs returns the log of a container's previous run (logs
	// --previous).
	PreviousLogs(ctx context.Context, pod, container string) (string, error)
	// Events returns the events about a pod, as `kubectl get events`
	// shows them (kubelet's Unhealthy, Killing, SandboxChanged ...).
	Events(ctx context.Context, pod string) ([]corev1.Event, error)
	// Label sets labels on a pod, overwriting those it has (`kubectl label
	// --overwrite pod NAME k=v`).
	Label(ctx context.Context, pod string, labels map[string]string) error
	// VolumeDir is the host directory behind a pod's volume (the node's
	// pods/<uid>/volumes/kubernetes.io~<plugin>/<name>), as a path the
	// pod's Node reads.
	VolumeDir(ctx context.Context, pod, volume string) (string, error)
	// PodOf returns the pod a Deployment currently runs.
	PodOf(ctx context.Context, deployment string) (string, error)
	// Client runs a one-off pod like `kubectl run -i --rm` and returns its
	// output, exit code and the command line.
	Client(ctx context.Context, name, image string, args []string) (string, int, string)
	// Node gives read access to the kernel of the node pod runs on, or an
	// error saying why there is none (the check is then skipped).
	Node(ctx context.Context, pod string) (Node, error)
	// Has reports whether the backend can do what capability c names; when
	// not, the reason is printed with the skipped check.
	Has(c Capability) (bool, string)
	// Finish deletes every object the scenario made (also after a failure
	// or Ctrl-C; ctx may be cancelled).
	Finish(ctx context.Context) error
}

// Node is the kernel of the node a pod runs on: its /proc (host PIDs) and
// cgroup files. Paths are host paths (/proc/42/ns/net, /sys/fs/cgroup/...).
type Node interface {
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// Readlink reads a symlink such as /proc/42/ns/net ("net:[4026532301]").
	Readlink(ctx context.Context, path string) (string, error)
	// Inode is the inode number of the file at path (stat, following links).
	Inode(ctx context.Context, path string) (uint64, error)
	// WriteFile writes a node-wide setting (a /proc/sys file the scenario
	// changed through a privileged container and puts back).
	WriteFile(ctx context.Context, path string, data []byte) error
	// Dial connects to addr from the node's network namespace and returns
	// what the server sent before closing.
	Dial(ctx context.Context, addr string) string
	// HostPID is a process that stands for "the host" in comparisons:
	// podsim itself locally, the node's init (PID 1) on a cluster.
	HostPID() int
	// HostWho names that process for the output.
	HostWho() string
	// CgroupRoot is where the node's cgroup hierarchies are mounted as seen
	// by the reader (/sys/fs/cgroup locally).
	CgroupRoot() string
	// Kill sends SIGKILL to host process pid.
	Kill(ctx context.Context, pid int) error
	// Hold keeps the file at path (a namespace: /proc/42/ns/net) open until
	// release, so the kernel keeps it (and its inode number) alive.
	Hold(ctx context.Context, path string) (release func(), err error)
	// Owner is "uid:gid" of the file at path (lstat).
	Owner(ctx context.Context, path string) (string, error)
	// Processes lists the node's processes: PID, command line and cgroup.
	Processes(ctx context.Context) ([]Process, error)
}

// Process is one of a node's processes.
type Process struct {
	PID     int
	Cmdline string // arguments joined by spaces
	// Cgroup is its cgroup path: the memory hierarchy's on cgroup v1, the
	// unified one on v2 (cgroups.OfProcess).
	Cgroup string
}

// Capability is something a check needs that not every backend has.
type Capability string

const (
	// CapServices: Service names resolve (cluster DNS) and Service IPs are
	// routed to pods (kube-proxy or an equivalent).
	CapServices Capability = "services"
	// CapPodsimRecord: podsim's own record of a pod (the CNI result, the
	// netns pin under /run/netns, the emptyDir's host path, the container
	// runtime's state); a cluster's API does not expose these.
	CapPodsimRecord Capability = "podsim-record"
	// CapDebug: ephemeral debug containers (podsim debug / kubectl debug).
	CapDebug Capability = "debug"
	// CapUserNamespaces: the node's runtime gives hostUsers: false pods a
	// user namespace of their own.
	CapUserNamespaces Capability = "user-namespaces"
	// CapRuntimeClass: runtimeClassName gvisor runs pods under gVisor's
	// runsc.
	CapRuntimeClass Capability = "runtime-class-gvisor"
)
