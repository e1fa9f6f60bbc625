package images

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// buildVersion is part of every cache key. Bump it when the way layers or
// configs are produced changes (tar details, config fields, ...), so all
// images podsim built before get rebuilt.
const buildVersion = 1

// cacheKey identifies the inputs of an image build: the recipe (version,
// source line, config) and the tree (every path, mode, link target, inline content, and
// each host file's identity: path, size, mtime, ctime, inode). If the key of
// an image in containerd matches, rebuilding would give the same image.
//
// The host files are identified by stat data rather than hashed: stat is
// cheap enough to do on every Ensure, reading all of nginx's libraries is
// not. A false "changed" (e.g. after `touch`) only costs a rebuild, which
// produces identical digests because the layer itself is reproducible.
func cacheKey(r *recipe, t *tree) (string, error) {
	h := sha256.New()
	cfg, err := json.Marshal(r.config)
	if err != nil {
		return "", err
	}
	// The source line is in the key too: it becomes the image's history
	// and LabelRecipe, so a new description relabels the image.
	fmt.Fprintf(h, "podsim-images build=%d\nrecipe=%s version=%d\nsource=%q\nconfig=%s\n", buildVersion, r.name, r.version, r.source, cfg)
	if err := t.fingerprint(h); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// buildImage turns a recipe's tree into a go-containerregistry image: one
// gzip layer plus an image config. The uncompressed layer is written once
// to a temporary file (so host files are read once, and a file changing
// halfway can't give different bytes to the digest and to the upload);
// cleanup removes it and must be called after the image has been written
// out.
func buildImage(r *recipe, t *tree) (img v1.Image, cleanup func(), err error) {
	f, err := os.CreateTemp("", "podsim-layer-*.tar")
	if err != nil {
		return nil, nil, err
	}
	cleanup = func() { os.Remove(f.Name()) }
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := t.writeTar(bw); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("writing layer: %w", err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return nil, nil, err
	}
	if err := f.Close(); err != nil {
		return nil, nil, err
	}

	// WithCompressedCaching keeps the gzip output in memory after the
	// first pass: the layer is compressed once to compute its digest and
	// would otherwise be compressed again to write it out.
	layer, err := tarball.LayerFromFile(f.Name(), tarball.WithCompressedCaching)
	if err != nil {
		return nil, nil, err
	}

	cfg := &v1.ConfigFile{
		// The binaries come from this host, so the image is for this
		// host's architecture. containerd's import and unpack pick the
		// manifest matching the client's platform, so this must be
		// right for the image to be usable at all.
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Created:      v1.Time{Time: layerTime},
		Config: v1.Config{
			Entrypoint: r.config.Entrypoint,
			Cmd:        r.config.Cmd,
			Env:        r.config.Env,
			WorkingDir: r.config.WorkingDir,
			User:       r.config.User,
			StopSignal: r.config.StopSignal,
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
	if len(r.config.ExposedPorts) > 0 {
		cfg.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range r.config.ExposedPorts {
			cfg.Config.ExposedPorts[p] = struct{}{}
		}
	}
	img, err = mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		return nil, nil, err
	}
	img, err = mutate.Append(img, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: layerTime},
			CreatedBy: "podsim: " + r.source,
			Comment:   "built offline by podsim",
		},
	})
	if err != nil {
		return nil, nil, err
	}
	return img, cleanup, nil
}
