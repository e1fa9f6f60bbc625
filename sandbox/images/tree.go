package images

import (
	"archive/tar"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// layerTime is the modification time of every entry in every layer, and the
// "created" time of every image. Using a constant (rather than the host
// files' mtimes or time.Now) makes the layer bytes depend only on the file
// contents, so the same sources always give the same digests: rebuilding
// after e.g. `touch /bin/busybox` produces an identical image and containerd
// de-duplicates it. This is the SOURCE_DATE_EPOCH convention of reproducible
// builds (with SOURCE_DATE_EPOCH=0).
var layerTime = time.Unix(0, 0).UTC()

type nodeKind int

const (
	kindDir nodeKind = iota
	kindFile
	kindSymlink
	kindData
)

func (k nodeKind) String() string {
	return [...]string{"directory", "file", "symlink", "file"}[k]
}

// node is one entry of the layer.
type node struct {
	kind   nodeKind
	mode   fs.FileMode // permission bits plus setuid/setgid/sticky
	host   string      // kindFile: host path to copy (symlinks followed)
	target string      // kindSymlink: link target
	data   []byte      // kindData: file content

	// kindFile: what the host file looked like when it was added. It goes
	// into the cache key instead of the file's content: stat is cheap,
	// hashing a big library on every Ensure is not. Any real change to
	// the file changes its size, mtime or (for package upgrades, which
	// replace files) inode. writeTar checks the size again to catch files
	// that change in the middle of a build.
	size  int64
	mtime int64
	ctime int64
	ino   uint64
	dev   uint64
}

// tree is the content of a single-layer image: a map from image path
// (relative, clean, e.g. "bin/sh") to entry. Parent directories that are
// not added explicitly are created with mode 0755 when the layer is written.
type tree struct {
	nodes map[string]*node
}

func newTree() *tree { return &tree{nodes: map[string]*node{}} }

// cleanPath turns "/usr/bin/x" or "usr/bin/x/" into "usr/bin/x" and rejects
// paths that would escape the image root.
func cleanPath(p string) (string, error) {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", fmt.Errorf("invalid image path %q: must not contain ..", p)
		}
	}
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if c == "" {
		return "", fmt.Errorf("invalid image path %q", p)
	}
	return c, nil
}

func (t *tree) put(p string, n *node) error {
	p, err := cleanPath(p)
	if err != nil {
		return err
	}
	if old, ok := t.nodes[p]; ok {
		if sameNode(old, n) {
			return nil // adding the same thing twice (e.g. a shared library) is fine
		}
		return fmt.Errorf("image path /%s: already added as a %s, cannot also add a %s", p, old.kind, n.kind)
	}
	t.nodes[p] = n
	return nil
}

func sameNode(a, b *node) bool {
	if a.kind != b.kind || a.mode != b.mode {
		return false
	}
	switch a.kind {
	case kindFile:
		return a.dev == b.dev && a.ino == b.ino
	case kindSymlink:
		return a.target == b.target
	case kindData:
		return string(a.data) == string(b.data)
	}
	return true
}

// AddDir adds a directory. Mode may include fs.ModeSticky, fs.ModeSetuid
// and fs.ModeSetgid; 0 means 0755.
func (t *tree) AddDir(p string, mode fs.FileMode) error {
	if mode == 0 {
		mode = 0o755
	}
	return t.put(p, &node{kind: kindDir, mode: mode & (fs.ModePerm | fs.ModeSticky | fs.ModeSetuid | fs.ModeSetgid)})
}

// AddFile copies the regular file at host (following symlinks) to image
// path p. mode 0 keeps the host file's permissions.
func (t *tree) AddFile(host, p string, mode fs.FileMode) error {
	if host == "" {
		return fmt.Errorf("no host file given for /%s", strings.TrimPrefix(p, "/"))
	}
	fi, err := os.Stat(host)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s is missing", host)
		}
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", host)
	}
	if mode == 0 {
		mode = fi.Mode()
	}
	n := &node{
		kind:  kindFile,
		mode:  mode & (fs.ModePerm | fs.ModeSticky | fs.ModeSetuid | fs.ModeSetgid),
		host:  host,
		size:  fi.Size(),
		mtime: fi.ModTime().UnixNano(),
	}
	n.ino, n.dev, n.ctime = fileIdentity(fi)
	return t.put(p, n)
}

// unchanged reports whether every host file of the tree still stats as it
// did when it was added (size, mtime, ctime, inode, device): then gathering
// the tree again would give the same tree and the same cache key, except
// for a library that newly appears earlier on the loader's search path,
// which a process that remembers trees (Catalog.trees) does not notice.
func (t *tree) unchanged() bool {
	for _, n := range t.nodes {
		if n.kind != kindFile {
			continue
		}
		fi, err := os.Stat(n.host)
		if err != nil || fi.Size() != n.size || fi.ModTime().UnixNano() != n.mtime {
			return false
		}
		if ino, dev, ctime := fileIdentity(fi); ino != n.ino || dev != n.dev || ctime != n.ctime {
			return false
		}
	}
	return true
}

// AddSymlink adds a symbolic link at p pointing to target (stored as given).
func (t *tree) AddSymlink(p, target string) error {
	if target == "" {
		return fmt.Errorf("symlink %s: empty target", p)
	}
	return t.put(p, &node{kind: kindSymlink, mode: 0o777, target: target})
}

// AddData adds a file with the given content. mode 0 means 0644.
func (t *tree) AddData(p string, data []byte, mode fs.FileMode) error {
	if mode == 0 {
		mode = 0o644
	}
	return t.put(p, &node{kind: kindData, mode: mode & (fs.ModePerm | fs.ModeSticky | fs.ModeSetuid | fs.ModeSetgid), data: append([]byte(nil), data...)})
}

// AddELF adds the program at host as image path p together with everything
// the dynamic loader needs to start it: the ELF interpreter at its
// PT_INTERP path and every shared library (recursively) at the path it was
// found on the host, e.g. /lib/x86_64-linux-gnu/libc.so.6. Those directories
// are in glibc's built-in search list, so the loader finds the libraries in
// the image even though the image has no /etc/ld.so.cache. A static
// binary is added alone.
//
// Libraries found through a $ORIGIN-relative RUNPATH are placed at their
// host path too, so keep p == host for such programs.
func (t *tree) AddELF(host, p string, mode fs.FileMode) error {
	if host == "" {
		return fmt.Errorf("no host file given for /%s", strings.TrimPrefix(p, "/"))
	}
	deps, err := ResolveELF(host)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s is missing", host)
		}
		return err
	}
	if err := t.AddFile(host, p, mode); err != nil {
		return err
	}
	if deps.Interpreter != "" {
		if err := t.AddFile(deps.Interpreter, deps.Interpreter, 0); err != nil {
			return fmt.Errorf("ELF interpreter of %s: %w", host, err)
		}
	}
	for _, lib := range deps.Libraries {
		if err := t.AddFile(lib.Path, lib.Path, 0); err != nil {
			return fmt.Errorf("library %s of %s: %w", lib.Name, host, err)
		}
	}
	return nil
}

// Has reports whether p (an image path) was added explicitly.
func (t *tree) Has(p string) bool {
	c, err := cleanPath(p)
	if err != nil {
		return false
	}
	_, ok := t.nodes[c]
	return ok
}

// paths returns every path of the layer, including implicit parent
// directories, sorted. Sorting by byte order puts every directory before its
// contents (a parent is a prefix of its children), which is what tar
// extraction needs, and makes the output deterministic.
func (t *tree) paths() ([]string, map[string]*node, error) {
	all := make(map[string]*node, len(t.nodes))
	for p, n := range t.nodes {
		all[p] = n
	}
	for p := range t.nodes {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if n, ok := all[d]; ok {
				if n.kind != kindDir {
					return nil, nil, fmt.Errorf("image path /%s is a %s but /%s is inside it", d, n.kind, p)
				}
				continue
			}
			all[d] = &node{kind: kindDir, mode: 0o755}
		}
	}
	ps := make([]string, 0, len(all))
	for p := range all {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps, all, nil
}

// tarMode converts Go's fs.FileMode to the Unix mode bits tar stores.
func tarMode(m fs.FileMode) int64 {
	v := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return v
}

// writeTar writes the layer as an uncompressed tar stream. Everything that
// could vary between hosts or runs is fixed: order (sorted), times
// (layerTime), owner (root, numeric only, no user/group names).
func (t *tree) writeTar(w io.Writer) error {
	ps, all, err := t.paths()
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	for _, p := range ps {
		n := all[p]
		hdr := &tar.Header{
			Name:    p,
			Mode:    tarMode(n.mode),
			ModTime: layerTime,
		}
		switch n.kind {
		case kindDir:
			hdr.Typeflag = tar.TypeDir
			hdr.Name = p + "/"
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
		case kindSymlink:
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname = n.target
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
		case kindData:
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(n.data))
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if _, err := tw.Write(n.data); err != nil {
				return err
			}
		case kindFile:
			if err := copyHostFile(tw, hdr, n); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

func copyHostFile(tw *tar.Writer, hdr *tar.Header, n *node) error {
	f, err := os.Open(n.host)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != n.size {
		return fmt.Errorf("%s changed while the image was being built; try again", n.host)
	}
	hdr.Typeflag = tar.TypeReg
	hdr.Size = n.size
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, f, n.size); err != nil {
		return fmt.Errorf("copying %s: %w", n.host, err)
	}
	return nil
}

// fingerprint feeds a description of every entry into h. For host files it
// uses the stat data recorded by AddFile, not the content (see node).
func (t *tree) fingerprint(h hash.Hash) error {
	ps, all, err := t.paths()
	if err != nil {
		return err
	}
	for _, p := range ps {
		n := all[p]
		fmt.Fprintf(h, "%s\x00%d\x00%o\x00", p, n.kind, tarMode(n.mode))
		switch n.kind {
		case kindFile:
			fmt.Fprintf(h, "%s\x00%d\x00%d\x00%d\x00%d\x00%d\n", n.host, n.size, n.mtime, n.ctime, n.ino, n.dev)
		case kindSymlink:
			fmt.Fprintf(h, "%s\n", n.target)
		case kindData:
			fmt.Fprintf(h, "%x\n", sha256.Sum256(n.data))
		default:
			fmt.Fprintln(h)
		}
	}
	return nil
}

// size returns how many entries the layer has (including implicit
// directories) and how many bytes of host files and inline content it
// holds, for progress messages.
func (t *tree) size() (entries int, bytes int64) {
	ps, all, err := t.paths()
	if err != nil {
		return len(t.nodes), 0
	}
	for _, p := range ps {
		switch n := all[p]; n.kind {
		case kindFile:
			bytes += n.size
		case kindData:
			bytes += int64(len(n.data))
		}
	}
	return len(ps), bytes
}
