package sandbox

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/containerd"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	corev1 "k8s.io/api/core/v1"
)

// pulledImage is an image in containerd and the config its specs need.
type pulledImage struct {
	img containerd.Image
	cfg ImageConfig
	// pulled is how long this pull took when the image was not in
	// containerd before it (0: already present): kubelet's Pulling/Pulled events.
	pulled time.Duration
}

// pullImages is CRI's PullImage for the pause and every container's image:
// podsim builds them offline and imports them once. Images are a cache, not
// part of the pod: they are made before any pod object, so a failing build
// leaves nothing to roll back.
func (m *Manager) pullImages(ctx context.Context, pod *corev1.Pod) (map[string]pulledImage, error) {
	out := map[string]pulledImage{}
	p, err := m.ensureImage(ctx, PauseImage)
	if err != nil {
		return nil, err
	}
	out[PauseImage] = p
	for _, c := range allContainers(pod) {
		if _, ok := out[c.Image]; ok {
			continue
		}
		if out[c.Image], err = m.ensureImage(ctx, c.Image); err != nil {
			return nil, fmt.Errorf("pod %s, container %s: %w", pod.Name, c.Name, err)
		}
	}
	return out, nil
}

func (m *Manager) ensureImage(ctx context.Context, ref string) (pulledImage, error) {
	t, present := time.Now(), m.imagePresent(ctx, ref)
	img, err := m.images.Ensure(ctx, m.client, ref, m.progress)
	if err != nil {
		return pulledImage{}, err
	}
	spec, err := img.Spec(ctx)
	if err != nil {
		return pulledImage{}, fmt.Errorf("reading config of image %s: %w", ref, err)
	}
	p := pulledImage{img: img, cfg: imageConfig(spec)}
	if !present {
		p.pulled = max(time.Since(t), time.Nanosecond)
	}
	return p, nil
}

func imageConfig(s ocispec.Image) ImageConfig {
	return ImageConfig{Entrypoint: s.Config.Entrypoint, Cmd: s.Config.Cmd, Env: s.Config.Env,
		WorkingDir: s.Config.WorkingDir, User: s.Config.User}
}
