// Package images provides the container images podsim can run without a
// registry.
//
// A real Kubernetes node pulls images from a registry. podsim runs on
// machines with no registry access, so instead it *builds* small but real OCI
// images from programs that are already installed on the host (for example
// Debian's busybox-static) and imports them into containerd. From then on
// containerd treats them exactly like pulled images: they have a manifest, a
// config and a gzip-compressed layer, they are unpacked into snapshots, and
// containers are created from them in the usual way.
//
// Some images hold the real program from a Debian package (nginx, curl,
// Redis: recipes_debian.go); others are stand-ins (recipes_standins.go):
// BusyBox for busybox and alpine, and podsim's own small Go programs from
// cmd/standins for Elasticsearch, its Prometheus exporter, the Vault CLI and
// the article's myapp. Entry.StandIn and Entry.Source say which is which.
//
// Each image is described by a recipe (see recipes.go): which host files go
// where in the image, which directories, symlinks and small text files to
// add, and the image config (Entrypoint, Cmd, Env, ...). Ensure builds the
// image on first use and re-uses it afterwards, rebuilding only when the
// host files it was built from change.
package images

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/distribution/reference"
)

// ErrUnknownImage is wrapped by the errors Lookup and Ensure return for
// references podsim cannot provide offline.
var ErrUnknownImage = errors.New("unknown image")

// Entry describes one image podsim can provide.
type Entry struct {
	Name    string   // canonical normalized ref, e.g. "docker.io/library/busybox:latest"
	Aliases []string // other refs users may type, normalized too (e.g. "docker.io/library/busybox:1.36")
	StandIn bool     // true when the image is not the upstream image but a local stand-in
	Source  string   // one line: what it is built from, e.g. "Debian busybox-static (/bin/busybox)"
}

// Catalog is the set of images podsim can build.
type Catalog struct {
	recipes []*recipe          // in display order
	byRef   map[string]*recipe // normalized name or alias -> recipe

	// building serialises Ensure calls for the same image inside one
	// process, so two goroutines asking for busybox at once build it once.
	// Separate podsim processes are not coordinated here: containerd's
	// import is idempotent (content is addressed by digest), so the worst
	// case is that both build the same bytes.
	mu       sync.Mutex
	building map[string]*sync.Mutex

	// trees remembers each recipe's file tree and cache key for the life
	// of the process (guarded by the recipe's building lock): gathering a
	// tree runs helpers (busybox --list-full) and parses ELF files, a few
	// milliseconds per image on every pod. A remembered tree is used again
	// only while every host file in it stats the same (see tree.unchanged).
	trees map[string]*memoTree
}

type memoTree struct {
	t   *tree
	key string
}

// NewCatalog returns the catalog of built-in images. binDir is the
// directory of podsim's helper programs, which `make build` puts in bin/
// next to bin/podsim: the static pause program (bin/pause) and the
// stand-ins (bin/es-standin, bin/es-exporter-standin, bin/vault-standin,
// bin/myapp-standin). They are only read when an image that needs them is
// built; a missing one then gives "image elasticsearch:7.9.3 needs
// bin/es-standin: run 'make build'".
//
// For callers of the old NewCatalog(pauseBinary): when binDir names a
// regular file, it is taken as the pause program and its directory as
// binDir.
func NewCatalog(binDir string) *Catalog {
	pause := filepath.Join(binDir, "pause")
	if fi, err := os.Stat(binDir); err == nil && fi.Mode().IsRegular() {
		pause, binDir = binDir, filepath.Dir(binDir)
	}
	c, err := newCatalog(builtinRecipes(binDir, pause))
	if err != nil {
		// The built-in table is fixed at compile time; a bad entry is a
		// programming error that the unit tests catch.
		panic(err)
	}
	return c
}

func newCatalog(recipes []*recipe) (*Catalog, error) {
	c := &Catalog{byRef: map[string]*recipe{}, building: map[string]*sync.Mutex{}, trees: map[string]*memoTree{}}
	for _, r := range recipes {
		name, err := Normalize(r.name)
		if err != nil {
			return nil, fmt.Errorf("recipe %q: %w", r.name, err)
		}
		if name != r.name {
			return nil, fmt.Errorf("recipe name %q is not normalized (want %q)", r.name, name)
		}
		for _, ref := range append([]string{r.name}, r.aliases...) {
			n, err := Normalize(ref)
			if err != nil {
				return nil, fmt.Errorf("recipe %q alias %q: %w", r.name, ref, err)
			}
			if other, dup := c.byRef[n]; dup {
				return nil, fmt.Errorf("ref %q claimed by both %q and %q", n, other.name, r.name)
			}
			c.byRef[n] = r
		}
		c.recipes = append(c.recipes, r)
	}
	return c, nil
}

// Entries lists the images podsim can provide, in a stable order.
func (c *Catalog) Entries() []Entry {
	out := make([]Entry, 0, len(c.recipes))
	for _, r := range c.recipes {
		out = append(out, r.entry())
	}
	return out
}

// Normalize turns a user reference into the canonical form like Docker does:
// "busybox", "busybox:latest", "docker.io/library/busybox:latest" and
// "library/busybox" are one image, "docker.io/library/busybox:latest".
//
// The rules (from github.com/distribution/reference, the same code Docker and
// containerd's CRI plugin use): a first path component without a dot, colon
// or "localhost" is not a registry host, so the registry defaults to
// docker.io; single-component names on docker.io live under "library/"; a
// missing tag means ":latest". A digest ("@sha256:...") is kept as is.
func Normalize(ref string) (string, error) {
	s := strings.TrimSpace(ref)
	if s == "" {
		return "", errors.New("empty image reference")
	}
	named, err := reference.ParseDockerRef(s)
	if err != nil {
		return "", fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	return named.String(), nil
}

// shortName is how podsim shows an image to people: Docker's "familiar"
// form without the default registry, "library/" and ":latest".
func shortName(normalized string) string {
	named, err := reference.ParseNormalizedNamed(normalized)
	if err != nil {
		return normalized
	}
	return strings.TrimSuffix(reference.FamiliarString(named), ":latest")
}

// Lookup returns the entry for a (non-normalized) ref. For refs podsim cannot
// build the error wraps ErrUnknownImage and tells the user what is available.
func (c *Catalog) Lookup(ref string) (Entry, error) {
	r, err := c.lookup(ref)
	if err != nil {
		return Entry{}, err
	}
	return r.entry(), nil
}

func (c *Catalog) lookup(ref string) (*recipe, error) {
	n, err := Normalize(ref)
	if err != nil {
		return nil, err
	}
	r, ok := c.byRef[n]
	if !ok {
		names := make([]string, 0, len(c.recipes))
		for _, r := range c.recipes {
			names = append(names, shortName(r.name))
		}
		return nil, &unknownImageError{ref: ref, available: names}
	}
	return r, nil
}

// unknownImageError carries its own message (rather than fmt.Errorf("%w"))
// so the text reads naturally while errors.Is(err, ErrUnknownImage) holds.
type unknownImageError struct {
	ref       string
	available []string
}

func (e *unknownImageError) Error() string {
	return fmt.Sprintf("image %q is not available offline; podsim can provide: %s (see 'podsim images')",
		e.ref, strings.Join(e.available, ", "))
}

func (e *unknownImageError) Unwrap() error { return ErrUnknownImage }

// lockFor returns the per-image build mutex.
func (c *Catalog) lockFor(name string) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.building[name]
	if !ok {
		m = &sync.Mutex{}
		c.building[name] = m
	}
	return m
}
