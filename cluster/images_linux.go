package cluster

import (
	"context"
	"fmt"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"

	"github.com/podsim/podsim/sandbox/images"
)

// ImportImages builds (or reuses) each of refs from podsim's offline catalog
// and imports it, unpacked, into the CRI namespace of the containerd at
// address. With no refs it imports every image of the catalog under its
// name and every alias (busybox:1.36 ...), the pause image first. The CRI plugin learns about the images from containerd's
// events, so kubelet can use them with imagePullPolicy: Never.
func ImportImages(ctx context.Context, address string, cat *images.Catalog, refs []string, progress func(string)) ([]string, error) {
	if len(refs) == 0 {
		refs = []string{images.PauseImage}
		for _, e := range cat.Entries() {
			if e.Name != images.PauseImage {
				refs = append(refs, e.Name)
			}
			refs = append(refs, e.Aliases...)
		}
	}
	client, err := containerd.New(address, containerd.WithTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster's containerd at %s (is the cluster up? make cluster-up): %w", address, err)
	}
	defer client.Close()
	ctx = namespaces.WithNamespace(ctx, CRINamespace)
	var done []string
	for _, ref := range refs {
		img, err := cat.Ensure(ctx, client, ref, progress)
		if err != nil {
			return done, fmt.Errorf("importing %s into the cluster's containerd: %w", ref, err)
		}
		done = append(done, img.Name())
	}
	return done, nil
}
