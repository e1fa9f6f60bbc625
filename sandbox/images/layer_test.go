package images

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tarEntry is one entry read back from a layer.
type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

func readTar(t *testing.T, b []byte) (map[string]tarEntry, []string) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	m := map[string]tarEntry{}
	var order []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		if _, dup := m[name]; dup {
			t.Errorf("duplicate tar entry %q", name)
		}
		m[name] = tarEntry{h, data}
		order = append(order, name)
	}
	return m, order
}

func needBusybox(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("/bin/busybox not installed (apt-get install busybox-static)")
	}
}

func busyboxLayer(t *testing.T) []byte {
	t.Helper()
	tr, err := busyboxRecipe().tree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tr.writeTar(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBusyboxLayer(t *testing.T) {
	needBusybox(t)
	layer := busyboxLayer(t)
	m, order := readTar(t, layer)

	bb, ok := m["bin/busybox"]
	if !ok || bb.hdr.Typeflag != tar.TypeReg || bb.hdr.Mode != 0o755 {
		t.Fatalf("bin/busybox entry = %+v, want a 0755 regular file", bb.hdr)
	}
	host, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bb.data, host) {
		t.Errorf("bin/busybox content differs from /bin/busybox")
	}

	links := map[string]string{
		"bin/sh":     "busybox",
		"bin/ls":     "busybox",
		"usr/bin/nc": "../../bin/busybox",
	}
	for link, target := range links {
		e, ok := m[link]
		if !ok {
			t.Errorf("layer has no %s", link)
			continue
		}
		if e.hdr.Typeflag != tar.TypeSymlink || e.hdr.Linkname != target {
			t.Errorf("%s: type %c -> %q, want symlink -> %q", link, e.hdr.Typeflag, e.hdr.Linkname, target)
		}
	}
	// Every symlink must resolve to bin/busybox inside the image.
	for name, e := range m {
		if e.hdr.Typeflag != tar.TypeSymlink {
			continue
		}
		if got := filepath.Join("/", filepath.Dir(name), e.hdr.Linkname); got != "/bin/busybox" {
			t.Errorf("%s -> %s resolves to %s, want /bin/busybox", name, e.hdr.Linkname, got)
		}
	}

	if tmp := m["tmp"]; tmp.hdr == nil || tmp.hdr.Typeflag != tar.TypeDir || tmp.hdr.Mode != 0o1777 {
		t.Errorf("tmp = %+v, want directory with mode 1777", tmp.hdr)
	}
	for _, d := range []string{"etc", "root", "var", "proc", "sys", "dev", "home", "usr", "usr/bin", "sbin"} {
		if e := m[d]; e.hdr == nil || e.hdr.Typeflag != tar.TypeDir {
			t.Errorf("%s: want a directory", d)
		}
	}
	if p := string(m["etc/passwd"].data); !strings.HasPrefix(p, "root:x:0:0:") || !strings.Contains(p, "\nnobody:") {
		t.Errorf("etc/passwd = %q", p)
	}
	if g := string(m["etc/group"].data); !strings.HasPrefix(g, "root:x:0:") {
		t.Errorf("etc/group = %q", g)
	}

	// Reproducibility: fixed times and owners, and parents before children.
	seen := map[string]bool{}
	for _, name := range order {
		h := m[name].hdr
		if !h.ModTime.Equal(layerTime) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: mtime %v uid %d gid %d uname %q gname %q, want fixed values", name, h.ModTime, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if dir := filepath.Dir(name); dir != "." && !seen[dir] {
			t.Errorf("%s comes before its directory %s", name, dir)
		}
		seen[name] = true
	}
	if again := busyboxLayer(t); !bytes.Equal(again, layer) {
		t.Errorf("building the busybox layer twice gave different bytes")
	}
}

// TestImageDigestReproducible builds the whole image (layer + config) twice
// and expects the same digests: that is what lets containerd de-duplicate
// rebuilds.
func TestImageDigestReproducible(t *testing.T) {
	needBusybox(t)
	r := busyboxRecipe()
	digest := func() string {
		tr, err := r.tree(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		img, cleanup, err := buildImage(r, tr)
		if err != nil {
			t.Fatal(err)
		}
		defer cleanup()
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(cf.Config.Cmd, " "); got != "sh" {
			t.Errorf("Cmd = %q, want sh", got)
		}
		if len(cf.RootFS.DiffIDs) != 1 || cf.OS != "linux" || cf.Architecture == "" {
			t.Errorf("config: os %q arch %q diffids %v", cf.OS, cf.Architecture, cf.RootFS.DiffIDs)
		}
		return d.String()
	}
	if a, b := digest(), digest(); a != b {
		t.Errorf("image digests differ: %s vs %s", a, b)
	}
}

func TestCacheKeyTracksSources(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "pause")
	if err := os.WriteFile(bin, []byte("first"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := pauseRecipe(bin)
	key := func() string {
		tr, err := r.tree(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		k, err := cacheKey(r, tr)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k1 := key()
	if k2 := key(); k1 != k2 {
		t.Fatalf("unchanged sources gave different keys %s, %s", k1, k2)
	}
	// Same size, different content and mtime.
	if err := os.WriteFile(bin, []byte("other"), 0o755); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(bin, future, future); err != nil {
		t.Fatal(err)
	}
	if k3 := key(); k3 == k1 {
		t.Errorf("changed source file kept the cache key %s", k1)
	}
	r.version++
	if k4 := key(); k4 == k1 {
		t.Errorf("changed recipe version kept the cache key")
	}
}

func TestMissingSourceHint(t *testing.T) {
	r := pauseRecipe("/nonexistent/podsim/pause")
	_, err := r.tree(context.Background())
	if err == nil {
		t.Fatal("want error for missing pause binary")
	}
	if !strings.Contains(err.Error(), "/nonexistent/podsim/pause is missing") || !strings.Contains(err.Error(), "make") {
		t.Errorf("error %q should name the file and say how to get it", err)
	}
	if errors.Is(err, ErrUnknownImage) {
		t.Errorf("missing source must not look like an unknown image")
	}
}

func TestTreeConflicts(t *testing.T) {
	tr := newTree()
	if err := tr.AddData("etc/x", []byte("a"), 0); err != nil {
		t.Fatal(err)
	}
	if err := tr.AddData("/etc/x", []byte("a"), 0); err != nil {
		t.Errorf("adding the same file twice: %v", err)
	}
	if err := tr.AddSymlink("etc/x", "y"); err == nil {
		t.Errorf("replacing a file by a symlink: want error")
	}
	if err := tr.AddData("../escape", []byte("a"), 0); err == nil {
		t.Errorf("path with ..: want error")
	}
	if err := tr.AddData("etc/x/under-a-file", []byte("a"), 0); err != nil {
		t.Fatal(err)
	}
	if err := tr.writeTar(io.Discard); err == nil {
		t.Errorf("file below a file: want error when writing")
	}
}

func TestRelLink(t *testing.T) {
	for _, tt := range []struct{ link, target, want string }{
		{"bin/sh", "bin/busybox", "busybox"},
		{"sbin/ip", "bin/busybox", "../bin/busybox"},
		{"usr/bin/nc", "bin/busybox", "../../bin/busybox"},
		{"linuxrc", "bin/busybox", "bin/busybox"},
	} {
		if got := relLink(tt.link, tt.target); got != tt.want {
			t.Errorf("relLink(%q, %q) = %q, want %q", tt.link, tt.target, got, tt.want)
		}
	}
}

// TestRememberedTreeFollowsSources: a Catalog gathers a recipe's tree once
// per process, and again as soon as a host file in it changes.
func TestRememberedTreeFollowsSources(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "pause")
	if err := os.WriteFile(bin, []byte("first"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := newCatalog([]*recipe{pauseRecipe(bin)})
	if err != nil {
		t.Fatal(err)
	}
	r := c.recipes[0]
	t1, k1, err := c.treeAndKey(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	t2, k2, err := c.treeAndKey(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if t1 != t2 || k1 != k2 {
		t.Fatal("an unchanged recipe was gathered again")
	}
	if err := os.WriteFile(bin, []byte("other"), 0o755); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(bin, future, future); err != nil {
		t.Fatal(err)
	}
	t3, k3, err := c.treeAndKey(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if t3 == t1 || k3 == k1 {
		t.Error("a changed host file kept the remembered tree and key")
	}
	if err := os.Remove(bin); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.treeAndKey(context.Background(), r); err == nil {
		t.Error("a removed host file still gave a tree")
	}
}
