package images

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// A recipe says how to build one image from files on the host. Images are
// a single layer: the recipe lists what goes into it and the image config.
//
// To add an image, add a recipe to builtinRecipes (recipes.go). Most images
// only need the declarative fields; expand is for the parts that must be
// discovered at build time (e.g. busybox's list of applets).
type recipe struct {
	name    string   // normalized canonical ref
	aliases []string // other refs (normalized or not) that mean this image
	standIn bool     // not the upstream image, but behaves like it
	source  string   // one human line: what the image is built from
	from    string   // main host path, only for progress messages

	// version is part of the cache key. Bump it whenever the recipe
	// changes in a way the host files don't show (new dirs, different
	// config, ...) so existing images get rebuilt.
	version int

	files    []fileSpec
	dirs     []dirSpec
	symlinks []symlinkSpec
	contents []contentSpec
	// expand, when set, adds entries discovered at build time. It runs
	// after the declarative entries have been added.
	expand func(ctx context.Context, t *tree) error

	config imageConfig
}

// fileSpec copies a host file into the image. Host symlinks are followed:
// the image gets the file's content at Path.
type fileSpec struct {
	Host string      // path on the host
	Path string      // path inside the image ("" = same as Host)
	Mode fs.FileMode // permissions (0 = the host file's permissions)
	// ELF: also add the program's ELF interpreter and shared libraries,
	// found like the dynamic loader would (see ResolveELF).
	ELF bool
	// Hint tells the user how to get the file when it is missing, e.g.
	// "install busybox-static (apt-get install busybox-static)".
	Hint string
	// Helper marks one of podsim's own programs that `make build` puts
	// in bin/ (a stand-in such as es-standin). When it is missing the
	// error says which image needs it and to run 'make build'.
	Helper bool
}

type dirSpec struct {
	Path string
	Mode fs.FileMode // may include fs.ModeSticky, e.g. /tmp is 0777|fs.ModeSticky
}

type symlinkSpec struct {
	Path   string // the link
	Target string // what it points to, stored verbatim (relative or absolute)
}

// contentSpec is a small file whose content is given in the recipe, such as
// /etc/passwd.
type contentSpec struct {
	Path string
	Data string
	Mode fs.FileMode
}

// imageConfig is the part of the OCI image config a recipe controls.
type imageConfig struct {
	Entrypoint   []string
	Cmd          []string
	Env          []string
	WorkingDir   string
	User         string
	ExposedPorts []string // "80/tcp", "53/udp"
	// StopSignal is the signal that asks the program to stop, when it is
	// not SIGTERM (nginx's image uses SIGQUIT, its graceful stop).
	// omitempty keeps the cache keys of images without one unchanged.
	StopSignal string `json:",omitempty"`
}

func (r *recipe) entry() Entry {
	e := Entry{Name: r.name, StandIn: r.standIn, Source: r.source}
	for _, a := range r.aliases {
		// Aliases in the table are validated by newCatalog, so this
		// cannot fail; normalize so callers can compare strings.
		if n, err := Normalize(a); err == nil {
			e.Aliases = append(e.Aliases, n)
		}
	}
	return e
}

// tree gathers everything the layer will contain. It only stats host files
// (it doesn't read them), so it is cheap enough to run on every Ensure to
// compute the cache key.
func (r *recipe) tree(ctx context.Context) (*tree, error) {
	t := newTree()
	for _, d := range r.dirs {
		if err := t.AddDir(d.Path, d.Mode); err != nil {
			return nil, r.wrap(err)
		}
	}
	for _, f := range r.files {
		p := f.Path
		if p == "" {
			p = f.Host
		}
		if f.Helper {
			if _, err := os.Stat(f.Host); errors.Is(err, fs.ErrNotExist) {
				return nil, &missingHelperError{image: shortName(r.name), path: f.Host}
			}
		}
		var err error
		if f.ELF {
			err = t.AddELF(f.Host, p, f.Mode)
		} else {
			err = t.AddFile(f.Host, p, f.Mode)
		}
		if err != nil {
			if f.Hint != "" {
				err = fmt.Errorf("%w: %s", err, f.Hint)
			}
			return nil, r.wrap(err)
		}
	}
	for _, s := range r.symlinks {
		if err := t.AddSymlink(s.Path, s.Target); err != nil {
			return nil, r.wrap(err)
		}
	}
	for _, c := range r.contents {
		if err := t.AddData(c.Path, []byte(c.Data), c.Mode); err != nil {
			return nil, r.wrap(err)
		}
	}
	if r.expand != nil {
		if err := r.expand(ctx, t); err != nil {
			return nil, r.wrap(err)
		}
	}
	return t, nil
}

func (r *recipe) wrap(err error) error {
	return fmt.Errorf("image %s: %w", shortName(r.name), err)
}

// missingHelperError is returned when a stand-in program that `make build`
// puts in bin/ is not there. errors.Is(err, fs.ErrNotExist) holds.
type missingHelperError struct {
	image, path string
}

func (e *missingHelperError) Error() string {
	return fmt.Sprintf("image %s needs %s: run 'make build'", e.image, e.path)
}

func (e *missingHelperError) Unwrap() error { return fs.ErrNotExist }
