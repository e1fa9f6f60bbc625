package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	ctrimages "github.com/containerd/containerd/images"
	"github.com/containerd/containerd/namespaces"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/podsim/podsim/sandbox/runtime"
)

// Labels podsim puts on the containerd images it builds. They show up in
// `ctr -n <namespace> images ls`.
const (
	// LabelSource holds the cache key of the build (see cacheKey). Ensure
	// rebuilds when it doesn't match the current sources.
	LabelSource = "podsim.image.source"
	// LabelStandIn is "true" for stand-in images (not the upstream image).
	LabelStandIn = "podsim.image.standin"
	// LabelRecipe is the human description of what the image is built from.
	LabelRecipe = "podsim.image.recipe"
)

// Snapshotter is the containerd snapshotter images are unpacked for: the
// one podsim's containers use (runtime.Snapshotter).
const Snapshotter = runtime.Snapshotter

// Ensure makes sure the image for ref exists in containerd, in the namespace
// already on ctx, and is unpacked for the overlayfs snapshotter. It builds and
// imports the image when it is missing or when the host files it is built
// from have changed, and returns the containerd image named by the
// normalized ref (an alias such as busybox:1.36 becomes a second name for
// the same image, like `docker tag`). progress, if not nil, receives short
// human-readable lines about slow steps.
//
// What happens, and why:
//
//  1. The recipe's file tree is gathered (stat only) and hashed into a cache
//     key. An image in containerd whose LabelSource equals that key is
//     up to date and used as is: the common case costs a few stats and
//     two small containerd calls.
//  2. Otherwise the layer and config are built with go-containerregistry,
//     written as a `docker save` style archive and streamed into
//     containerd's Import, which stores the blobs in its content store
//     (by digest, so importing the same image twice, even from two
//     processes at once, is harmless) and creates the image record.
//  3. The image is unpacked: containerd applies the layer into an overlayfs
//     snapshot, the read-only base that container root filesystems are
//     created from.
func (c *Catalog) Ensure(ctx context.Context, client *containerd.Client, ref string, progress func(string)) (containerd.Image, error) {
	if progress == nil {
		progress = func(string) {}
	}
	if _, ok := namespaces.Namespace(ctx); !ok {
		return nil, errors.New("images: no containerd namespace on the context (use namespaces.WithNamespace)")
	}
	r, err := c.lookup(ref)
	if err != nil {
		return nil, err
	}
	want, err := Normalize(ref)
	if err != nil {
		return nil, err
	}
	short := shortName(r.name)

	// Import and unpack run under a lease podsim owns (see runtime.WithLease),
	// so a podsim killed mid-build leaves one `podsim gc` can find.
	ctx, release, err := runtime.WithLease(ctx, client, "image "+short)
	if err != nil {
		return nil, err
	}
	defer release()

	// Serialise builds of one image within this process.
	lk := c.lockFor(r.name)
	lk.Lock()
	defer lk.Unlock()

	t, key, err := c.treeAndKey(ctx, r)
	if err != nil {
		return nil, err
	}
	labels := map[string]string{
		LabelSource:  key,
		LabelStandIn: strconv.FormatBool(r.standIn),
		LabelRecipe:  r.source,
	}

	is := client.ImageService()
	var img ctrimages.Image
	fresh := false
	if existing, err := is.Get(ctx, r.name); err == nil && existing.Labels[LabelSource] == key {
		img = existing
	} else if err != nil && !errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("looking up image %s: %w", r.name, err)
	} else {
		if img, err = c.build(ctx, client, r, t, labels, progress); err != nil {
			return nil, err
		}
		fresh = true
	}

	if err := unpack(ctx, client, img, short, progress); err != nil {
		if fresh {
			return nil, err
		}
		// The record was there but its content is not usable (e.g.
		// someone removed blobs by hand). Build it again.
		progress(fmt.Sprintf("image %s is damaged (%v); rebuilding", short, err))
		if img, err = c.build(ctx, client, r, t, labels, progress); err != nil {
			return nil, err
		}
		if err := unpack(ctx, client, img, short, progress); err != nil {
			return nil, err
		}
	}

	if want != r.name {
		if img, err = tag(ctx, is, want, img.Target, labels); err != nil {
			return nil, fmt.Errorf("tagging %s as %s: %w", r.name, want, err)
		}
	}
	return containerd.NewImage(client, img), nil
}

// treeAndKey returns r's file tree and cache key, gathered again only when
// this process has none yet or a host file in it changed. The caller holds
// r's building lock.
func (c *Catalog) treeAndKey(ctx context.Context, r *recipe) (*tree, string, error) {
	c.mu.Lock()
	m := c.trees[r.name]
	c.mu.Unlock()
	if m != nil && m.t.unchanged() {
		return m.t, m.key, nil
	}
	t, err := r.tree(ctx)
	if err != nil {
		return nil, "", err
	}
	key, err := cacheKey(r, t)
	if err != nil {
		return nil, "", r.wrap(err)
	}
	c.mu.Lock()
	c.trees[r.name] = &memoTree{t: t, key: key}
	c.mu.Unlock()
	return t, key, nil
}

// build builds the image for r and imports it into containerd under r.name
// with the given labels.
func (c *Catalog) build(ctx context.Context, client *containerd.Client, r *recipe, t *tree, labels map[string]string, progress func(string)) (ctrimages.Image, error) {
	short := shortName(r.name)
	progress(fmt.Sprintf("building image %s from %s", short, r.from))
	img, cleanup, err := buildImage(r, t)
	if err != nil {
		return ctrimages.Image{}, r.wrap(err)
	}
	defer cleanup()

	tagRef, err := name.NewTag(r.name, name.StrictValidation)
	if err != nil {
		return ctrimages.Image{}, r.wrap(err)
	}
	entries, size := t.size()
	progress(fmt.Sprintf("importing image %s into containerd (%d entries, %.1f MB)", short, entries, float64(size)/1e6))

	// Stream the archive straight into containerd rather than through a
	// temporary file: tarball.Write produces it in a goroutine while
	// Import reads it.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := tarball.Write(tagRef, img, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	imported, err := client.Import(ctx, pr)
	pr.CloseWithError(errors.New("import finished")) // unblocks the writer if Import stopped early
	werr := <-done
	if err != nil {
		if werr != nil && !errors.Is(werr, io.ErrClosedPipe) {
			err = fmt.Errorf("%w (writing archive: %v)", err, werr)
		}
		return ctrimages.Image{}, fmt.Errorf("importing image %s: %w", short, err)
	}
	if werr != nil {
		return ctrimages.Image{}, fmt.Errorf("writing image %s: %w", short, werr)
	}

	var rec *ctrimages.Image
	for i := range imported {
		if imported[i].Name == r.name {
			rec = &imported[i]
		}
	}
	if rec == nil {
		return ctrimages.Image{}, fmt.Errorf("importing image %s: containerd did not create %s", short, r.name)
	}

	// containerd's Import can't set labels, so set them now. Only the
	// podsim label keys are touched; other labels stay. Between the import
	// and this update another podsim may see the new image with an old
	// label and rebuild it: that is wasted work, not a wrong result.
	updated, err := client.ImageService().Update(ctx, ctrimages.Image{Name: r.name, Labels: labels}, labelPaths(labels)...)
	if err != nil {
		return ctrimages.Image{}, fmt.Errorf("labelling image %s: %w", short, err)
	}
	return updated, nil
}

// unpack makes sure img has an overlayfs snapshot. Unpacking is the
// expensive part of using an image the first time; afterwards IsUnpacked is a
// single snapshot lookup.
func unpack(ctx context.Context, client *containerd.Client, img ctrimages.Image, short string, progress func(string)) error {
	ci := containerd.NewImage(client, img)
	ok, err := ci.IsUnpacked(ctx, Snapshotter)
	if err == nil && ok {
		return nil
	}
	progress(fmt.Sprintf("unpacking image %s for %s", short, Snapshotter))
	if err := ci.Unpack(ctx, Snapshotter); err != nil {
		return fmt.Errorf("unpacking image %s: %w", short, err)
	}
	return nil
}

// tag points the image name want at target, creating or updating it, like
// `docker tag`. Another podsim may create the same name at the same moment,
// so "not found" on update and "already exists" on create both lead to a
// second try.
func tag(ctx context.Context, is ctrimages.Store, want string, target ocispec.Descriptor, labels map[string]string) (ctrimages.Image, error) {
	if cur, err := is.Get(ctx, want); err == nil &&
		cur.Target.Digest == target.Digest && cur.Labels[LabelSource] == labels[LabelSource] {
		return cur, nil
	}
	img := ctrimages.Image{Name: want, Target: target, Labels: labels}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var out ctrimages.Image
		out, err = is.Update(ctx, img, append([]string{"target"}, labelPaths(labels)...)...)
		if err == nil {
			return out, nil
		}
		if !errdefs.IsNotFound(err) {
			return ctrimages.Image{}, err
		}
		out, err = is.Create(ctx, img)
		if err == nil {
			return out, nil
		}
		if !errdefs.IsAlreadyExists(err) {
			return ctrimages.Image{}, err
		}
	}
	return ctrimages.Image{}, err
}

// labelPaths returns the update field paths that set exactly these labels
// and leave any other labels on the image alone.
func labelPaths(labels map[string]string) []string {
	paths := make([]string, 0, len(labels))
	for k := range labels {
		paths = append(paths, "labels."+k)
	}
	sort.Strings(paths)
	return paths
}
