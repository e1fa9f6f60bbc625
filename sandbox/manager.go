package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/containerd/containerd"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/objects/store"
	"github.com/podsim/podsim/sandbox/images"
)

// ImageSource provides images: podsim's offline catalog implements it.
type ImageSource interface {
	Lookup(ref string) (images.Entry, error)
	Ensure(ctx context.Context, client *containerd.Client, ref string, progress func(string)) (containerd.Image, error)
}

// Options configure a Manager.
type Options struct {
	Client  *containerd.Client
	Images  ImageSource
	Network Network
	Paths   Paths
	// Trace receives every build/teardown step (may be nil).
	Trace func(Event)
	// Progress receives short human lines for long steps (may be nil).
	Progress func(string)
	// Warn receives warnings about fields podsim accepts but ignores.
	Warn func(string)
	// SelfExe is the podsim binary (podsim-runsc sits beside it).
	SelfExe string
	// NeedAgent is called when a pod was built whose containers the node
	// agent may have to restart (the CLI starts the agent; may be nil).
	NeedAgent func()
}

// Manager builds, inspects and removes pods.
type Manager struct {
	client    *containerd.Client
	images    ImageSource
	net       Network
	paths     Paths
	store     *store.Store // the objects pods read: ConfigMaps, Secrets, Services
	selfExe   string
	handoff   logHandoff // log FIFO read ends held for the agent (logfifo_linux.go)
	trace     func(Event)
	traceMu   sync.Mutex // events come from concurrent container starts
	progress  func(string)
	warn      func(string)
	needAgent func()
	node      nodeConfig // host facts every spec needs, read once
	// fluxSince: when the agent first found a pod's sandbox in flux
	// (sandboxInFlux), by sandbox ID.
	fluxMu    sync.Mutex
	fluxSince map[string]time.Time
}

// New returns a Manager.
func New(o Options) *Manager {
	m := &Manager{client: o.Client, images: o.Images, net: o.Network, paths: o.Paths, selfExe: o.SelfExe,
		store: store.New(o.Paths.State, o.Paths.Run),
		trace: o.Trace, progress: o.Progress, warn: o.Warn, needAgent: o.NeedAgent,
		node: readNodeConfig()}
	m.node.Security.SeccompRoot = o.Paths.SeccompRoot()
	if m.trace == nil {
		m.trace = func(Event) {}
	}
	if m.progress == nil {
		m.progress = func(string) {}
	}
	if m.warn == nil {
		m.warn = func(string) {}
	}
	return m
}

// EnsureAgent starts the node agent if it is not running (objects whose
// controller runs in the agent call it, e.g. a Deployment that lost a pod).
func (m *Manager) EnsureAgent() {
	if m.needAgent != nil {
		m.needAgent()
	}
}

// Client returns the containerd client (scenarios use it to read tasks).
func (m *Manager) Client() *containerd.Client { return m.client }

// Store is the object store below the Manager's paths: the pods read
// ConfigMaps and Secrets from it for their volumes and Services for their
// hosts files; package objects writes them.
func (m *Manager) Store() *store.Store { return m.store }

// Record is what podsim remembers about a pod outside containerd: the
// manifest and the names of the kernel objects it made, so teardown can
// find them even after a crash. It lives in <state>/pods/<id>/pod.json.
type Record struct {
	ID        string     `json:"id"`
	Pod       corev1.Pod `json:"pod"`
	NetNS     string     `json:"netns,omitempty"`
	Cgroup    string     `json:"cgroup,omitempty"`
	IP        string     `json:"ip,omitempty"`
	MAC       string     `json:"mac,omitempty"`
	HostIf    string     `json:"hostInterface,omitempty"`
	Bridge    string     `json:"bridge,omitempty"`
	LogDir    string     `json:"logDir,omitempty"`
	Created   time.Time  `json:"created"`
	InitError string     `json:"initError,omitempty"`
	// RuntimeHandler is the handler the pod's RuntimeClass resolved to
	// when it was admitted (runtimeclass.go); "" is runc.
	RuntimeHandler string `json:"runtimeHandler,omitempty"`
	// Built is set once createPod finished: from then on the node agent
	// keeps the pod (restarts its containers); before, createPod does.
	Built bool `json:"built,omitempty"`
	// Rebuilding is set while the node agent replaces a dead sandbox
	// (sandbox_rebuild_linux.go): an agent that finds it set after a crash
	// starts the rebuild over.
	Rebuilding bool `json:"rebuilding,omitempty"`
	// Containers keeps what outlives one attempt of each app container,
	// by name: kubelet's restart count, last state and back-off.
	Containers map[string]*ContainerRecord `json:"containers,omitempty"`
	// UserNS is the pod's host ID range with hostUsers: false (userns.go).
	UserNS *UserNamespace `json:"userNamespace,omitempty"`
	// Reason is set when the node agent failed the pod for good, with
	// Message: DeadlineExceeded (activeDeadlineSeconds passed). Its
	// containers are stopped and never started again.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// ContainerRecord is what the pod keeps of an app container across its
// restarts. The agent writes it before it acts, so it survives the agent.
type ContainerRecord struct {
	RestartCount    int          `json:"restartCount"`
	LastTermination *Termination `json:"lastState,omitempty"`
	// Backoff and LastRestart are kubelet's back-off entry (see
	// BackoffPolicy); BackoffUntil is set while the container waits in
	// CrashLoopBackOff.
	Backoff      time.Duration `json:"backoffNs,omitempty"`
	LastRestart  time.Time     `json:"lastRestart,omitempty"`
	BackoffUntil time.Time     `json:"backoffUntil,omitempty"`
}

// Termination is a finished attempt: status.containerStatuses[].lastState.terminated.
type Termination struct {
	ExitCode   int       `json:"exitCode"`
	Reason     string    `json:"reason"` // Completed, Error, OOMKilled
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	Message    string    `json:"message,omitempty"` // the termination message
}

// container returns the restart record of a container (a zero one if none).
func (r *Record) container(name string) ContainerRecord {
	if c := r.Containers[name]; c != nil {
		return *c
	}
	return ContainerRecord{}
}

// containerID is the containerd ID of the current attempt of a container.
func (r *Record) containerID(name string) string {
	return ContainerAttemptID(r.ID, name, r.container(name).RestartCount)
}

// isOldAttempt reports whether id is an attempt of one of the pod's app
// or init containers (<sandbox>-<name>, or <sandbox>-<name>.<n> after
// restarts) other than the current one. Ephemeral containers never
// restart, so they are never old attempts: they stay until the pod goes.
func (r *Record) isOldAttempt(id string) bool {
	for _, c := range append(append([]corev1.Container{}, r.Pod.Spec.InitContainers...), r.Pod.Spec.Containers...) {
		base := ContainerID(r.ID, c.Name)
		if (id == base || strings.HasPrefix(id, base+".")) && id != r.containerID(c.Name) {
			return true
		}
	}
	return false
}

// logPath is kubelet's log file of attempt n: <logdir>/<container>/<n>.log.
func (r *Record) logPath(name string, n int) string {
	return filepath.Join(r.LogDir, name, fmt.Sprintf("%d.log", n))
}

// Name is namespace/name.
func (r *Record) Name() string { return r.Pod.Namespace + "/" + r.Pod.Name }

func (m *Manager) saveRecord(r *Record) error {
	dir := m.paths.podDir(r.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating pod state dir: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "pod.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("writing pod record: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, "pod.json"))
}

func (m *Manager) loadRecord(id string) (*Record, error) {
	b, err := os.ReadFile(filepath.Join(m.paths.podDir(id), "pod.json"))
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("pod record %s is corrupt (remove it with 'podsim gc'): %w", id, err)
	}
	return &r, nil
}

// ContainerName resolves a container name of the pod ("" = the first app
// container), with an error listing the valid names.
func (r *Record) ContainerName(name string) (string, error) {
	var names []string
	for _, c := range r.Pod.Spec.InitContainers {
		names = append(names, c.Name)
		if c.Name == name {
			return name, nil
		}
	}
	for _, c := range r.Pod.Spec.Containers {
		names = append(names, c.Name)
		if c.Name == name {
			return name, nil
		}
	}
	for _, c := range r.Pod.Spec.EphemeralContainers {
		names = append(names, c.Name)
		if c.Name == name {
			return name, nil
		}
	}
	if name == "" && len(r.Pod.Spec.Containers) > 0 {
		return r.Pod.Spec.Containers[0].Name, nil
	}
	return "", fmt.Errorf("%w: container %q is not valid for pod %s: choose one of [%s]", ErrNoContainer, name, r.Pod.Name, strings.Join(names, " "))
}

// Records lists every pod record on disk, including half-built ones.
func (m *Manager) Records() ([]*Record, error) {
	ents, err := os.ReadDir(m.paths.podsDir())
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []*Record
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		r, err := m.loadRecord(e.Name())
		if err != nil {
			// A directory without a readable record: keep its ID so gc can remove it.
			out = append(out, &Record{ID: e.Name()})
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// find returns the record of a pod by namespace/name, or nil.
func (m *Manager) find(ctx context.Context, namespace, name string) (*Record, error) {
	recs, err := m.Records()
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Pod.Name == name && r.Pod.Namespace == namespace {
			return r, nil
		}
	}
	return nil, nil
}

// emitEvent sends a fully described event; Time and Duration come from start.
// Consumers are called one event at a time.
func (m *Manager) emitEvent(ev Event, start time.Time) {
	m.emitEventFor(ev, start, time.Since(start))
}

// emitEventFor sends an event for a step that took d from start (steps
// that overlap others report when they are all done).
func (m *Manager) emitEventFor(ev Event, start time.Time, d time.Duration) {
	ev.Time, ev.Duration = start, d
	m.traceMu.Lock()
	defer m.traceMu.Unlock()
	m.trace(ev)
}
