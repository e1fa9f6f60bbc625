package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/containerd/containerd"

	"github.com/podsim/podsim/cgroups"
)

// DeletePod removes a pod: stop its containers (SIGTERM, grace period,
// SIGKILL), then tear down the sandbox in reverse order of creation.
func (m *Manager) DeletePod(ctx context.Context, namespace, name string, grace time.Duration) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	rec, err := m.find(ctx, namespace, name)
	if err != nil {
		return err
	}
	if rec == nil {
		return fmt.Errorf("%w: pod %q in namespace %q", ErrPodNotFound, name, namespace)
	}
	return m.teardown(ctx, rec, grace)
}

// teardown removes everything a pod record names, in reverse order of
// creation: kubelet's KillPod (StopContainer for each container, then
// StopPodSandbox) followed by RemovePodSandbox.
//
//	Step 1: stop the app containers together, each after its preStop
//	        hook, then the native sidecars in reverse order
//	        (stopPodContainersInOrder).
//	Step 2: stop the pause while the apps' tasks are deleted (stopPodSandbox).
//	Step 3: delete the pause's task, then every container and its snapshot.
//	Step 4: CNI DEL and the netns pin (teardownNetwork).
//	Step 5: the pod's files, its IP in Services' hosts, its logs, its cgroup.
//
// Every step tolerates objects already gone, so it is safe after a crash,
// after a half-finished create, and when run twice. If containerd refuses
// a step, the record is kept so a second delete, or gc, can finish the job.
func (m *Manager) teardown(ctx context.Context, r *Record, grace time.Duration) error {
	name := r.Pod.Name
	start := time.Now()
	// An interrupt (Ctrl-C) cuts the grace period short, but never the
	// cleanup itself: a half-torn-down pod is worse than a quick SIGKILL.
	interrupted := ctx.Done()
	ctx = context.WithoutCancel(ctx)
	kept := func(err error) error {
		return podErr(r.Pod.Namespace, name, "", fmt.Errorf("pod %s: %w (%w)", name, err, ErrPodKept))
	}
	// Kubelet's probe workers stop liveness and startup probes of a pod
	// being deleted (prober/worker.go): no container is restarted while it
	// is being stopped, and no probe's exec races the kill. The agent's
	// workers see this marker (readiness probes go on, as on a node).
	_ = os.WriteFile(m.paths.terminatingFile(r.ID), nil, 0o644)
	pc, err := m.podContainers(ctx, r)
	if err != nil {
		return kept(err)
	}
	// Step 1.
	if err := m.stopPodContainersInOrder(ctx, r, pc, grace, interrupted); err != nil {
		return kept(err)
	}
	m.emitEvent(Event{Pod: name, Step: "teardown", Concept: "stop containers: SIGTERM, grace period, SIGKILL", Detail: fmt.Sprintf("stopped %d container(s)", len(pc.apps))}, start)
	// Steps 2 and 3.
	t := time.Now()
	if err := stopPodSandbox(ctx, pc, interrupted); err != nil {
		return kept(err)
	}
	if err := removePodSandbox(ctx, pc); err != nil {
		return kept(err)
	}
	if r.RuntimeHandler == HandlerRunsc {
		releaseNullNetNS() // the last gVisor pod takes runsc's shared null netns with it
	}
	if pc.pause != nil {
		m.emitEvent(Event{Pod: name, Step: "teardown", Concept: "sandbox removed", Object: r.ID, Detail: fmt.Sprintf("removed %d container(s) and their snapshots, and the pause container: the pod's ipc, uts and pid namespaces end with their last process", len(pc.apps))}, t)
	}
	// Steps 4 and 5.
	errs := m.teardownNetwork(ctx, r)
	errs = append(errs, m.removePodResources(ctx, r)...)
	m.emitEvent(Event{Pod: name, Step: "teardown", Concept: "pod files and cgroup removed", Object: r.Cgroup, Detail: "removed /dev/shm tmpfs, volumes, hosts files, logs and the pod cgroup " + r.Cgroup}, start)
	return errors.Join(errs...)
}

// removePodSandbox is CRI's RemovePodSandbox for the containerd objects:
// the pause's task (its shim exits with it), then every container record
// and its snapshot.
func removePodSandbox(ctx context.Context, pc *podContainers) error {
	return errors.Join(parallel(pc.all(), func(c containerd.Container) error {
		if c == pc.pause {
			if err := deleteTask(ctx, c.ID(), pc.tasks[c.ID()]); err != nil {
				return err
			}
		}
		return deleteContainer(ctx, c)
	})...)
}

// removePodResources removes what the pod had outside containerd: its
// files and volumes, its IP from the Services' hosts entries, its logs and
// its cgroup.
func (m *Manager) removePodResources(ctx context.Context, r *Record) []error {
	var errs []error
	if err := m.removeRemappedSnapshots(ctx, r.UserNS); err != nil { // hostUsers: false rootfs copies
		errs = append(errs, err)
	}
	if err := m.removePodDirs(r.ID); err != nil {
		errs = append(errs, err)
	}
	if err := m.refreshHostsOf(ctx, r, true); err != nil { // its IP leaves the Services
		errs = append(errs, err)
	}
	if r.LogDir != "" && strings.HasPrefix(r.LogDir, m.paths.Logs+"/") {
		if err := os.RemoveAll(r.LogDir); err != nil {
			errs = append(errs, err)
		}
	}
	if r.Cgroup != "" {
		if err := cgroups.Remove(r.Cgroup); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
