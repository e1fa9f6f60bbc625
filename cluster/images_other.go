//go:build !linux

package cluster

import (
	"context"
	"errors"

	"github.com/podsim/podsim/sandbox/images"
)

// ImportImages needs Linux (containerd, overlayfs snapshots).
func ImportImages(ctx context.Context, address string, cat *images.Catalog, refs []string, progress func(string)) ([]string, error) {
	return nil, errors.New("podsim's local cluster needs Linux")
}
