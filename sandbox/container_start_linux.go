package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/containerd/containerd"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/namespaces"
)

// startContainer is CRI's StartContainer: the exec of the user's process
// in the task runc created, then the trace of what the kernel made (the
// namespaces joined and the pod's own, the mounts).
func (m *Manager) startContainer(ctx context.Context, run *podRun, cc *createdContainer) error {
	rec, c, task := run.rec, cc.c, cc.task
	m.createdEvents(run, c)
	if err := task.Start(ctx); err != nil {
		m.Eventf(rec.ID, EventWarning, "Failed", rec.ContainerFieldPath(c.Name), "Error: %v", err)
		return fmt.Errorf("pod %s: step container %s: starting %v: %w", rec.Pod.Name, c.Name, ResolveArgs(run.images[c.Image].cfg, c.Command, c.Args), err)
	}
	m.Eventf(rec.ID, EventNormal, "Started", rec.ContainerFieldPath(c.Name), "Started container %s", c.Name)
	crashPoint("container:" + c.Name)
	if run.attachFor(c, cc.role) != nil {
		run.attach.task = task
	}
	m.emitContainerEvents(rec, cc)
	if run.unlockedHooks && hasPostStart(c) {
		// Before the next container starts (hooks_linux.go); other pods'
		// syncs go on meanwhile.
		return m.whileUnlocked(ctx, run.lock, rec, func() error { m.postStart(ctx, rec, cc); return nil })
	}
	m.postStart(ctx, rec, cc) // before the next container starts (hooks_linux.go)
	return nil
}

func hasPostStart(c *corev1.Container) bool {
	return c.Lifecycle != nil && c.Lifecycle.PostStart != nil
}

// emitContainerEvents reports a started container's mounts and namespaces.
func (m *Manager) emitContainerEvents(rec *Record, cc *createdContainer) {
	c, pid := cc.c, cc.task.Pid()
	cns, _ := namespaces.Of(int(pid))
	pns, _ := namespaces.Of(int(cc.pausePID))
	host, _ := namespaces.Of(0)
	var tns map[string]namespaces.ID
	if cc.targetPID != 0 {
		tns, _ = namespaces.Of(int(cc.targetPID))
	}
	joined, own, hosts := nsRoles(&rec.Pod, cns, pns, host, tns, cc.target)
	cgPath := cgroups.ContainerPath(rec.Cgroup, cc.id)
	for _, mt := range cc.volumes {
		mode := "rw"
		if mt.ReadOnly {
			mode = "ro"
		}
		from := mt.Source
		if mt.SubPathOf != "" {
			from = fmt.Sprintf("%s (subPath, pinned at %s)", mt.SubPathOf, mt.Source)
		}
		m.emitEvent(Event{Pod: rec.Pod.Name, Step: "mount", Concept: "volume: bind mount into the container's mount namespace", Object: c.Name + ":" + mt.Destination,
			Detail: fmt.Sprintf("%s: bind %s -> %s (%s)", c.Name, from, mt.Destination, mode),
			Attrs:  map[string]string{"container": c.Name, "source": mt.Source, "destination": mt.Destination, "mode": mode}}, cc.t0)
	}
	detail := fmt.Sprintf("%s pid %d joined pause's %s; own %s", c.Name, pid, strings.Join(joined, " "), strings.Join(own, " "))
	attrs := map[string]string{"container": c.Name, "pid": fmt.Sprint(pid), "joined": strings.Join(joined, " "),
		"own": strings.Join(own, " "), "cgroup": cgPath, "image": c.Image}
	if len(hosts) > 0 {
		detail += "; " + strings.Join(hosts, ", ")
		attrs["host"] = strings.Join(hosts, ", ")
	}
	m.emitEvent(Event{Pod: rec.Pod.Name, Step: cc.role, Concept: "container: joins the pod's namespaces, gets its own", Object: c.Name,
		Detail: detail + "; cgroup " + cgPath, Attrs: attrs}, cc.t0)
}

// runInitContainer creates and starts one init container and waits for its
// exit. An init container may wait for something another podsim command
// makes (a Service, a pod): the host-wide lock is let go meanwhile.
func (m *Manager) runInitContainer(ctx context.Context, run *podRun, c *corev1.Container) (uint32, error) {
	pod := &run.rec.Pod
	cc, err := m.createContainer(ctx, run, c, RoleInit, targetContainer{})
	if err != nil {
		return 0, err
	}
	if err := m.startContainer(ctx, run, cc); err != nil {
		return 0, err
	}
	run.lock.release()
	code, err := waitExit(ctx, cc.task)
	if lerr := run.lock.retake(context.WithoutCancel(ctx)); lerr != nil {
		return 0, lerr
	}
	if err != nil {
		return 0, fmt.Errorf("pod %s: waiting for init container %s: %w", pod.Name, c.Name, err)
	}
	if _, lerr := m.loadRecord(run.rec.ID); lerr != nil {
		return 0, fmt.Errorf("pod %s was deleted while its init container %s ran", pod.Name, c.Name)
	}
	return code, nil
}

// startInitContainer creates and starts an init container without waiting
// for it: a native sidecar (it keeps running) or, in the node agent, a
// regular one (its exit is the agent's next event).
func (m *Manager) startInitContainer(ctx context.Context, run *podRun, c *corev1.Container) error {
	cc, err := m.createContainer(ctx, run, c, RoleInit, targetContainer{})
	if err != nil {
		return err
	}
	return m.startContainer(ctx, run, cc)
}

// startAppContainers creates the app containers (snapshot, bundle, runc
// create with every namespace joined and mount made) concurrently, then
// starts them (the exec of the user's process) in the spec's order, as
// kubelet's sequential start does — a log sidecar listed after its app
// starts after it.
func (m *Manager) startAppContainers(ctx context.Context, run *podRun, idx []int) error {
	created := make([]*createdContainer, len(idx))
	errs := make([]error, len(idx))
	var wg sync.WaitGroup
	for n, i := range idx {
		wg.Add(1)
		go func(n int, c *corev1.Container) {
			defer wg.Done()
			created[n], errs[n] = m.createContainer(ctx, run, c, RoleApp, targetContainer{})
		}(n, &run.rec.Pod.Spec.Containers[i])
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, cc := range created {
		if err := m.startContainer(ctx, run, cc); err != nil {
			return err
		}
	}
	return nil
}

func waitExit(ctx context.Context, task containerd.Task) (uint32, error) {
	ch, err := task.Wait(ctx)
	if err != nil {
		return 0, err
	}
	select {
	case st := <-ch:
		code, _, err := st.Result()
		return code, err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
