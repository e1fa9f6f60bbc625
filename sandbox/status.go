package sandbox

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	corev1 "k8s.io/api/core/v1"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsim/podsim/cgroups"
)

// ContainerState is one container as the kernel and containerd see it now.
type ContainerState struct {
	Name      string
	ID        string
	Role      string
	Image     string
	PID       uint32 // host PID of the container's process, 0 when not running
	Status    string // running, exited, created, missing
	ExitCode  uint32
	Started   time.Time
	Finished  time.Time
	Cgroup    string // the container's cgroup path
	OOMKilled bool   // the kernel's OOM killer killed a process of the container
	// From the pod record: restarts by the node agent, the previous
	// attempt's end, and Waiting ("CrashLoopBackOff") while it backs off.
	RestartCount    int
	LastTermination *Termination
	Waiting         string
	// Sidecar: an init container with restartPolicy Always (native sidecar).
	Sidecar bool
	// Message is the terminated state's message: the termination-message
	// file, or the log's tail under FallbackToLogsOnError (termination_linux.go).
	Message string
	// kubelet's Started and Ready of a running container, from the
	// prober's results (probe_status_linux.go): without probes, both are
	// true while it runs.
	HasStarted, Ready bool
}

// Reason is kubelet's terminated reason of an exited container.
func (c ContainerState) Reason() string {
	switch {
	case c.OOMKilled:
		return "OOMKilled"
	case c.ExitCode != 0:
		return "Error"
	}
	return "Completed"
}

// PodState is a pod record plus the live state of its containers.
type PodState struct {
	*Record
	Pause      ContainerState
	Init       []ContainerState
	Containers []ContainerState
	Ephemeral  []ContainerState // debug containers added with podsim debug
	// Conditions are kubelet's pod conditions (PodScheduled, Initialized,
	// ContainersReady, Ready) with their last transition times.
	Conditions []corev1.PodCondition
}

// Get returns the live state of one pod.
func (m *Manager) Get(ctx context.Context, namespace, name string) (*PodState, error) {
	r, err := m.find(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("%w: pod %q in namespace %q", ErrPodNotFound, name, namespace)
	}
	return m.state(ctx, r), nil
}

// List returns every pod (of one namespace, or all when namespace is "").
func (m *Manager) List(ctx context.Context, namespace string) ([]*PodState, error) {
	recs, err := m.Records()
	if err != nil {
		return nil, err
	}
	var out []*PodState
	for _, r := range recs {
		if r.Pod.Name == "" || (namespace != "" && r.Pod.Namespace != namespace) {
			continue
		}
		out = append(out, m.state(ctx, r))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pod.Namespace != out[j].Pod.Namespace {
			return out[i].Pod.Namespace < out[j].Pod.Namespace
		}
		return out[i].Pod.Name < out[j].Pod.Name
	})
	return out, nil
}

func (m *Manager) state(ctx context.Context, r *Record) *PodState {
	ps := &PodState{Record: r}
	ps.Pause = m.containerState(ctx, r.ID, "POD", RoleSandbox, PauseImage)
	ps.Pause.Cgroup = cgroups.ContainerPath(r.Cgroup, r.ID)
	attempt := func(c corev1.Container, role string) ContainerState {
		cs := m.containerState(ctx, r.containerID(c.Name), c.Name, role, c.Image)
		cr := r.container(c.Name)
		cs.RestartCount, cs.LastTermination = cr.RestartCount, cr.LastTermination
		if cs.Status == "exited" && time.Now().Before(cr.BackoffUntil) {
			cs.Waiting = "CrashLoopBackOff"
		}
		cs.Sidecar = IsSidecar(&c)
		return cs
	}
	for _, c := range r.Pod.Spec.InitContainers {
		ps.Init = append(ps.Init, attempt(c, RoleInit))
	}
	for _, c := range r.Pod.Spec.Containers {
		ps.Containers = append(ps.Containers, attempt(c, RoleApp))
	}
	for _, c := range r.Pod.Spec.EphemeralContainers {
		ps.Ephemeral = append(ps.Ephemeral, m.containerState(ctx, ContainerID(r.ID, c.Name), c.Name, RoleEphemeral, c.Image))
	}
	for _, l := range [][]ContainerState{ps.Init, ps.Containers, ps.Ephemeral} {
		for i := range l {
			l[i].Cgroup = cgroups.ContainerPath(r.Cgroup, l[i].ID)
			// Exit 137 is SIGKILL; the cgroup's oom_kill counter says whether
			// the kernel's OOM killer sent it (the cgroup stays until the task
			// is deleted, so it can still be read).
			if l[i].Status == "exited" && l[i].ExitCode == 137 && cgroups.OOMKills(l[i].Cgroup) > 0 {
				l[i].OOMKilled = true
			}
			if l[i].Status == "exited" {
				l[i].Message = m.terminationMessage(r, l[i])
			}
		}
	}
	m.applyProbeStatus(ps)
	return ps
}

func (m *Manager) containerState(ctx context.Context, id, name, role, image string) ContainerState {
	cs := ContainerState{Name: name, ID: id, Role: role, Image: image, Status: "missing"}
	c, err := m.client.LoadContainer(ctx, id)
	if err != nil {
		return cs
	}
	cs.Status = "created"
	task, err := c.Task(ctx, nil)
	if err != nil {
		if !errdefs.IsNotFound(err) {
			cs.Status = "unknown"
		}
		return cs
	}
	st, err := task.Status(ctx)
	if err != nil {
		cs.Status = "unknown"
		return cs
	}
	if info, err := c.Info(ctx, containerd.WithoutRefreshedMetadata); err == nil {
		cs.Started = info.CreatedAt
	}
	switch st.Status {
	case containerd.Running, containerd.Paused, containerd.Pausing:
		cs.Status = "running"
		cs.PID = task.Pid()
	case containerd.Stopped:
		cs.Status = "exited"
		cs.ExitCode = st.ExitStatus
		cs.Finished = st.ExitTime
	case containerd.Created:
		cs.Status = "created"
	}
	return cs
}

// Restarts is the RESTARTS column: restarts of every app container.
func (p *PodState) Restarts() int {
	n := 0
	for _, c := range p.Containers {
		n += c.RestartCount
	}
	return n
}

// Ready counts ready app containers (running, and passing their
// readiness probe if they have one): the READY column.
func (p *PodState) Ready() (ready, total int) {
	for _, c := range p.Containers {
		if c.Ready {
			ready++
		}
	}
	return ready, len(p.Containers)
}

// StatusText is kubectl's STATUS column: Running, Completed, Error,
// Init:Error, Init:0/1, ContainerCreating, or Unknown when the pause
// container (and with it the pod's namespaces) is gone.
func (p *PodState) StatusText() string {
	if p.Record.Reason != "" { // kubectl shows status.reason: DeadlineExceeded
		return p.Record.Reason
	}
	if p.Pause.Status != "running" {
		if p.Pause.Status == "missing" && len(p.Containers) > 0 && p.Containers[0].Status == "missing" {
			return "Pending"
		}
		return "Unknown"
	}
	appsBegun := false
	for _, c := range p.Containers {
		appsBegun = appsBegun || c.Status != "missing"
	}
	for i, c := range p.Init {
		switch {
		case c.Sidecar && (c.Status == "running" || appsBegun):
			// A native sidecar runs beside the others; once the app
			// containers run, its exits and restarts do not make the pod Init:.
		case c.Waiting != "":
			return "Init:" + c.Waiting
		case c.Status == "exited" && c.ExitCode != 0 && !c.Sidecar:
			return "Init:Error"
		case c.Status != "exited":
			return fmt.Sprintf("Init:%d/%d", i, len(p.Init))
		}
	}
	running, failed, done := 0, 0, 0
	for _, c := range p.Containers {
		if c.Waiting != "" { // kubectl shows a waiting container's reason
			return c.Waiting
		}
	}
	for _, c := range p.Containers {
		if c.OOMKilled { // kubectl shows the terminated container's reason
			return "OOMKilled"
		}
		switch {
		case c.Status == "running":
			running++
		case c.Status == "exited" && c.ExitCode == 0:
			done++
		case c.Status == "exited":
			failed++
		}
	}
	switch {
	case failed > 0:
		return "Error"
	case running == len(p.Containers):
		return "Running"
	case done == len(p.Containers):
		return "Completed"
	case running > 0:
		return "NotReady"
	}
	return "ContainerCreating"
}

// Phase is the Kubernetes pod phase.
func (p *PodState) Phase() corev1.PodPhase {
	switch p.StatusText() {
	case "Running", "NotReady", "CrashLoopBackOff": // it will be restarted
		return corev1.PodRunning
	case "OOMKilled", "Error":
		for _, c := range p.Containers {
			if c.Status == "running" {
				return corev1.PodRunning // a sibling still runs: the pod is not finished
			}
		}
		return corev1.PodFailed
	case "Completed":
		return corev1.PodSucceeded
	case "Init:Error":
		if p.Pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
			return corev1.PodFailed
		}
		return corev1.PodPending // the agent restarts it
	case ReasonDeadlineExceeded, ReasonEvicted:
		return corev1.PodFailed
	case "Unknown":
		return corev1.PodUnknown
	}
	return corev1.PodPending
}

// podHostIP is the status.hostIP podsim reports: a hostNetwork pod's IP is
// the node's, else the node is reached on 127.0.0.1 (the bridge has no
// route to the outside).
func podHostIP(pod *corev1.Pod, podIP string) string {
	if pod.Spec.HostNetwork {
		return podIP // one address: the node's
	}
	return "127.0.0.1"
}

// KubePod renders the pod as a Kubernetes v1 Pod with status, so that
// `-o json|yaml` output works with scripts written for kubectl.
func (p *PodState) KubePod() *corev1.Pod {
	pod := p.Pod.DeepCopy()
	pod.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	pod.Status = corev1.PodStatus{
		Phase:   p.Phase(),
		PodIP:   p.IP,
		HostIP:  podHostIP(&p.Pod, p.IP),
		Reason:  p.Record.Reason,
		Message: p.Record.Message,
	}
	if p.IP != "" {
		pod.Status.PodIPs = []corev1.PodIP{{IP: p.IP}}
	}
	if !p.Created.IsZero() {
		t := metav1.NewTime(p.Created)
		pod.Status.StartTime = &t
	}
	conv := func(c ContainerState) corev1.ContainerStatus {
		s := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image, ContainerID: "containerd://" + c.ID,
			RestartCount: int32(c.RestartCount)}
		if lt := c.LastTermination; lt != nil {
			s.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: int32(lt.ExitCode), Reason: lt.Reason,
				StartedAt: metav1.NewTime(lt.StartedAt), FinishedAt: metav1.NewTime(lt.FinishedAt), Message: lt.Message}
		}
		if c.Waiting != "" {
			s.Started = ptrBool(false)
			s.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.Waiting,
				Message: fmt.Sprintf("back-off restarting failed container %s", c.Name)}
			return s
		}
		switch c.Status {
		case "running":
			s.Ready = c.Ready
			s.Started = ptrBool(c.HasStarted)
			s.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.Started)}
		case "exited":
			reason := c.Reason()
			s.Started = ptrBool(false)
			s.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: int32(c.ExitCode), Reason: reason,
				StartedAt: metav1.NewTime(c.Started), FinishedAt: metav1.NewTime(c.Finished), ContainerID: "containerd://" + c.ID, Message: c.Message}
		default:
			s.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
			s.ContainerID = ""
		}
		return s
	}
	for _, c := range p.Init {
		pod.Status.InitContainerStatuses = append(pod.Status.InitContainerStatuses, conv(c))
	}
	for _, c := range p.Containers {
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, conv(c))
	}
	for _, c := range p.Ephemeral {
		pod.Status.EphemeralContainerStatuses = append(pod.Status.EphemeralContainerStatuses, conv(c))
	}
	pod.Status.Conditions = p.Conditions
	return pod
}

func ptrBool(b bool) *bool { return &b }
