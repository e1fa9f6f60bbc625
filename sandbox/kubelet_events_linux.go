package sandbox

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/sandbox/images"
)

// The events kubelet records about a pod, at the same steps and with the
// same reasons and messages (pkg/kubelet/events, and the recorder calls in
// pkg/kubelet/kuberuntime: kuberuntime_container.go startContainer and
// killContainer, kuberuntime_image.go EnsureImageExists,
// kuberuntime_manager.go for SandboxChanged and BackOff). Scheduled is the
// scheduler's (default-scheduler); podsim places every pod on its node.

// imagePresent reports whether containerd has the image already (then
// kubelet's Pulled says "already present on machine").
func (m *Manager) imagePresent(ctx context.Context, ref string) bool {
	name, err := images.Normalize(ref)
	if err != nil {
		return false
	}
	_, err = m.client.GetImage(ctx, name)
	return err == nil
}

// createdEvents records, just before a container starts, what kubelet's
// startContainer records in its steps 1 and 2: the image (Pulling and
// Pulled the first time this pod needed a pull of it, else "already
// present") and Created.
func (m *Manager) createdEvents(run *podRun, c *corev1.Container) {
	rec, fp := run.rec, run.rec.ContainerFieldPath(c.Name)
	img := run.images[c.Image]
	if img.pulled > 0 {
		m.Eventf(rec.ID, EventNormal, "Pulling", fp, "Pulling image %q", c.Image)
		size, _ := img.img.Size(context.Background())
		m.Eventf(rec.ID, EventNormal, "Pulled", fp, "Successfully pulled image %q in %v (%v including waiting). Image size: %d bytes.",
			c.Image, img.pulled.Round(time.Millisecond), img.pulled.Round(time.Millisecond), size)
		img.pulled = 0 // the next container of the pod finds it present
		run.images[c.Image] = img
	} else {
		m.Eventf(rec.ID, EventNormal, "Pulled", fp, "Container image %q already present on machine", c.Image)
	}
	m.Eventf(rec.ID, EventNormal, "Created", fp, "Created container: %s", c.Name)
}

// backOffEvent is kubelet's BackOff warning for a container that waits in
// CrashLoopBackOff; the pod is named as kubelet's format.Pod does
// (name_namespace(uid)).
func (m *Manager) backOffEvent(rec *Record, name string) {
	m.Eventf(rec.ID, EventWarning, "BackOff", rec.ContainerFieldPath(name), "Back-off restarting failed container %s in pod %s",
		name, fmt.Sprintf("%s_%s(%s)", rec.Pod.Name, rec.Pod.Namespace, rec.Pod.UID))
}
