package sandbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/containerd/containerd"
	corev1 "k8s.io/api/core/v1"
)

// minimumGracePeriod is kubelet's minimumGracePeriodInSeconds: what a
// container still gets between SIGTERM and SIGKILL when its preStop hook
// used up (almost) all of the grace period.
const minimumGracePeriod = 2 * time.Second

// killContainer is kubelet's killContainer (kuberuntime_container.go): a
// Killing event, the preStop hook if the container has one and runs, then
// StopContainer with what is left of the grace period (at least
// minimumGracePeriod): the grace period covers hook and SIGTERM wait
// together. A failing hook is a FailedPreStopHook event; the kill goes on.
// A grace of 0 (rollback, forced delete) skips the hook. c may be nil (an
// ephemeral container, or one not in the spec): then it is only stopped.
func (m *Manager) killContainer(ctx context.Context, rec *Record, c *corev1.Container, ctr containerd.Container, task containerd.Task, grace time.Duration, interrupted <-chan struct{}, why string) error {
	if task == nil {
		return nil
	}
	st, err := task.Status(ctx)
	if err != nil || st.Status != containerd.Running {
		return stopContainerTask(ctx, ctr, task, grace, interrupted)
	}
	if c != nil && grace > 0 {
		msg := "Stopping container " + c.Name
		if why != "" {
			msg += ": " + why
		}
		m.Eventf(rec.ID, EventNormal, "Killing", rec.ContainerFieldPath(c.Name), "%s", msg)
	}
	if c != nil && grace > 0 && c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		start := time.Now()
		hctx, cancel := context.WithTimeout(ctx, grace)
		if err := m.runHook(hctx, rec, c, ctr, task, c.Lifecycle.PreStop); err != nil {
			m.Eventf(rec.ID, EventWarning, "FailedPreStopHook", rec.ContainerFieldPath(c.Name), "PreStopHook failed: %v", err)
		}
		cancel()
		grace = max(grace-time.Since(start), minimumGracePeriod)
	}
	return stopContainerTask(ctx, ctr, task, grace, interrupted)
}

// stopPodContainersInOrder is kubelet's killContainersWithSyncResult with
// native sidecars (KEP-753's termination order): every app (and exited
// init, ephemeral) container is stopped at once, each with its preStop
// hook; then the sidecars one by one, last started first, each with what
// is left of the pod's grace period, so that a log shipper still sees the
// app's last lines. The pause keeps running meanwhile: with
// shareProcessNamespace it is PID 1 of the pod's PID namespace, and the
// kernel kills every process there when it exits, which would cut the
// containers' grace period short.
func (m *Manager) stopPodContainersInOrder(ctx context.Context, rec *Record, pc *podContainers, grace time.Duration, interrupted <-chan struct{}) error {
	start := time.Now()
	sidecars := map[string]containerd.Container{}
	var rest []containerd.Container
	for _, ctr := range pc.apps {
		name := containerName(ctx, ctr)
		if c := specContainer(&rec.Pod, name); c != nil && IsSidecar(c) { // only init containers may set restartPolicy
			sidecars[name] = ctr
			continue
		}
		rest = append(rest, ctr)
	}
	errs := parallel(rest, func(ctr containerd.Container) error {
		return m.killContainer(ctx, rec, specContainer(&rec.Pod, containerName(ctx, ctr)), ctr, pc.tasks[ctr.ID()], grace, interrupted, "")
	})
	for i := len(rec.Pod.Spec.InitContainers) - 1; i >= 0; i-- {
		c := &rec.Pod.Spec.InitContainers[i]
		ctr := sidecars[c.Name]
		if ctr == nil {
			continue
		}
		left := grace
		if grace > 0 {
			left = max(grace-time.Since(start), minimumGracePeriod)
		}
		if err := m.killContainer(ctx, rec, c, ctr, pc.tasks[ctr.ID()], left, interrupted, ""); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// containerName is the pod-spec name of a containerd container (its label).
func containerName(ctx context.Context, ctr containerd.Container) string {
	l, err := ctr.Labels(ctx)
	if err != nil {
		return ""
	}
	return l[LabelContainerName]
}

// killRunning stops the current attempts of the given containers of a
// running pod, in the given order, for the agent (sidecars of a completed
// pod, every container past activeDeadlineSeconds).
func (m *Manager) killRunning(ctx context.Context, rec *Record, cs []*corev1.Container, why string) error {
	var errs []error
	for _, c := range cs {
		ctr, err := m.client.LoadContainer(ctx, rec.containerID(c.Name))
		if err != nil {
			continue // never created: nothing to stop
		}
		task, err := loadTask(ctx, ctr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := m.killContainer(ctx, rec, c, ctr, task, GracePeriod(&rec.Pod), nil, why); err != nil {
			errs = append(errs, fmt.Errorf("pod %s: stopping container %s: %w", rec.Pod.Name, c.Name, err))
		}
	}
	return errors.Join(errs...)
}
