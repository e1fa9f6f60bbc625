package sandbox

import (
	"context"
	"fmt"
	"sync"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/oci"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/sandbox/runtime"
)

// Creating a container through containerd is two parts. Its containerd
// record and its snapshot (the image's layer chain read from the content
// store, an overlay upper/work directory prepared on top of it) depend on
// nothing but the pod's ID and the image. Its OCI spec needs the pause's
// PID (the /proc/<pid>/ns/* paths it joins) and the pod's IP (env from
// status.podIP), known only once the sandbox runs. So a new pod's first
// containers get their records and snapshots while the pause starts, with
// a placeholder spec (containerd requires one), and their real spec is
// written with one Update when CreateContainer runs, after the sandbox —
// kubelet's order as anything running in the pod can see it is unchanged:
// no task (no process, no namespace joined, no mount) exists before the
// sandbox is up. kubelet + CRI do all of it after RunPodSandbox; this
// takes the containerd round trips of the record and snapshot off the
// path to Running.

// preparedContainers are the containerd containers made ahead, by name.
type preparedContainers struct {
	mu   sync.Mutex
	byID map[string]preparedContainer
}

type preparedContainer struct {
	ctr containerd.Container
	err error
}

// take hands out the container prepared for attempt id, once.
func (p *preparedContainers) take(id string) (preparedContainer, bool) {
	if p == nil {
		return preparedContainer{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pc, ok := p.byID[id]
	delete(p.byID, id)
	return pc, ok
}

// firstContainers are the containers syncPod creates right after the
// sandbox: the first init container, or, without init containers, every
// app container (created together, startAppContainers).
func firstContainers(pod *corev1.Pod) []*corev1.Container {
	if len(pod.Spec.InitContainers) > 0 {
		return []*corev1.Container{&pod.Spec.InitContainers[0]}
	}
	out := make([]*corev1.Container, len(pod.Spec.Containers))
	for i := range pod.Spec.Containers {
		out[i] = &pod.Spec.Containers[i]
	}
	return out
}

// prepareContainers starts making the records and snapshots of the pod's
// first containers, concurrently; the returned wait must be called before
// the sandbox step returns (a rollback then finds every record it made:
// teardown and gc find containers by their labels). A pod with a user
// namespace is left out: its snapshots are chowned copies made apart
// (userns_linux.go).
func (m *Manager) prepareContainers(ctx context.Context, run *podRun) (wait func()) {
	if run.rec.UserNS != nil {
		return func() {}
	}
	cs := firstContainers(&run.rec.Pod)
	run.prepared = &preparedContainers{byID: make(map[string]preparedContainer, len(cs))}
	var wg sync.WaitGroup
	for _, c := range cs {
		id := run.rec.containerID(c.Name) // read here: the record changes meanwhile
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctr, err := m.newContainerRecord(ctx, run, c, id, containerd.WithNewSpec())
			run.prepared.mu.Lock()
			run.prepared.byID[id] = preparedContainer{ctr: ctr, err: err}
			run.prepared.mu.Unlock()
		}()
	}
	return wg.Wait
}

// newContainerRecord makes container id of the pod in containerd: its
// record (image, runtime, labels, spec) and its snapshot.
func (m *Manager) newContainerRecord(ctx context.Context, run *podRun, c *corev1.Container, id string, spec containerd.NewContainerOpts) (containerd.Container, error) {
	img := run.images[c.Image]
	return m.client.NewContainer(ctx, id,
		containerd.WithImage(img.img),
		containerd.WithSnapshotter(runtime.Snapshotter),
		containerd.WithNewSnapshot(id, img.img, userNSSnapshotOpts(run.rec.UserNS)...),
		m.runtimeFor(run.rec.RuntimeHandler),
		containerd.WithContainerLabels(containerLabels(run.rec.ID, c.Name)),
		spec,
	)
}

// containerWithSpec is CreateContainer's containerd part: the container
// prepared ahead with its spec now written (one Update of the record), or
// a new one.
func (m *Manager) containerWithSpec(ctx context.Context, run *podRun, c *corev1.Container, id string, opts []oci.SpecOpts) (containerd.Container, error) {
	p, ok := run.prepared.take(id)
	if !ok {
		return m.newContainerRecord(ctx, run, c, id, containerd.WithNewSpec(opts...))
	}
	if p.err != nil {
		return nil, p.err
	}
	info, err := p.ctr.Info(ctx, containerd.WithoutRefreshedMetadata)
	if err != nil {
		return nil, err
	}
	if err := containerd.WithNewSpec(opts...)(ctx, m.client, &info); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	if _, err := m.client.ContainerService().Update(ctx, info, "spec"); err != nil {
		return nil, fmt.Errorf("writing the spec: %w", err)
	}
	return p.ctr, nil
}
