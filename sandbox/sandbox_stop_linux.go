package sandbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/containerd/containerd"

	"github.com/podsim/podsim/namespaces"
)

// podContainers are a pod's containerd containers, found by the sandbox-id
// label, with each task looked up once (nil: the container has none left).
type podContainers struct {
	pause containerd.Container
	apps  []containerd.Container // init and app containers
	tasks map[string]containerd.Task
	// oneSentry: a gVisor pod, whose app containers live in the pause's
	// Sentry (runtimeclass.go).
	oneSentry bool
}

func (m *Manager) podContainers(ctx context.Context, r *Record) (*podContainers, error) {
	ctrs, err := m.client.Containers(ctx, fmt.Sprintf("labels.%q==%s", LabelSandboxID, r.ID))
	if err != nil {
		return nil, fmt.Errorf("listing containers of pod %s: %w", r.Pod.Name, err)
	}
	pc := &podContainers{tasks: map[string]containerd.Task{}, oneSentry: r.RuntimeHandler == HandlerRunsc}
	for _, c := range ctrs {
		if c.ID() == r.ID {
			pc.pause = c
		} else {
			pc.apps = append(pc.apps, c)
		}
		if pc.tasks[c.ID()], err = loadTask(ctx, c); err != nil {
			return nil, err
		}
	}
	return pc, nil
}

// stopPodSandbox is CRI's StopPodSandbox once the containers are stopped:
// every app process is gone, so the pause can stop while the apps' tasks
// are deleted. The pause's task is deleted after them (RemovePodSandbox
// below): it is the last one of the pod's shim, which exits with it, and
// deleting it together with the others races the shim's shutdown
// ("ttrpc: closed").
//
// A gVisor pod's app containers run inside the pause's Sentry: runsc
// deletes one by asking the Sentry (and removes its files there), so their
// tasks are deleted before the pause stops, CRI's order (a container's
// task is gone before StopPodSandbox).
func stopPodSandbox(ctx context.Context, pc *podContainers, interrupted <-chan struct{}) error {
	if pc.oneSentry && pc.pause != nil {
		if err := errors.Join(parallel(pc.apps, func(c containerd.Container) error {
			return deleteTask(ctx, c.ID(), pc.tasks[c.ID()])
		})...); err != nil {
			return err
		}
		return stopContainerTask(ctx, pc.pause, pc.tasks[pc.pause.ID()], 2*time.Second, interrupted)
	}
	return errors.Join(parallel(pc.all(), func(c containerd.Container) error {
		if c == pc.pause {
			return stopContainerTask(ctx, c, pc.tasks[c.ID()], 2*time.Second, interrupted)
		}
		return deleteTask(ctx, c.ID(), pc.tasks[c.ID()])
	})...)
}

// teardownNetwork is the network half of StopPodSandbox: CNI DEL (which
// removes the veth and releases the IP) and the pin's unmount, which frees
// the namespace once no process is left in it.
func (m *Manager) teardownNetwork(ctx context.Context, r *Record) []error {
	if r.NetNS == "" {
		return nil
	}
	t := time.Now()
	var errs []error
	if err := m.net.Teardown(ctx, m.netPod(r)); err != nil {
		errs = append(errs, err)
	}
	if err := namespaces.RemoveNetNS(r.NetNS); err != nil {
		errs = append(errs, err)
	}
	// The bridge stays, as cni0 stays on a node: the next pod plugs into it
	// instead of paying for a new one. `podsim gc` removes it once no pod is left.
	m.emitEvent(Event{Pod: r.Pod.Name, Step: "teardown", Concept: "CNI DEL, network namespace unpinned", Object: r.NetNS, Detail: fmt.Sprintf("CNI DEL released %s and removed veth %s; unmounted the pin %s (the namespace is freed)", r.IP, r.HostIf, r.NetNS)}, t)
	return errs
}

// all is the app containers, then the pause.
func (pc *podContainers) all() []containerd.Container {
	if pc.pause == nil {
		return pc.apps
	}
	return append(append([]containerd.Container{}, pc.apps...), pc.pause)
}

// parallel runs f for every container at once and returns the errors.
func parallel(cs []containerd.Container, f func(containerd.Container) error) []error {
	errCh := make(chan error, len(cs))
	for _, c := range cs {
		go func(c containerd.Container) { errCh <- f(c) }(c)
	}
	var errs []error
	for range cs {
		if err := <-errCh; err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
