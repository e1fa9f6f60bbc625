package images

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeBinDir makes a bin/ with placeholder files for pause and every
// stand-in, enough to build the images' layers (their content is copied,
// not run).
func fakeBinDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range []string{"pause", "es-standin", "es-exporter-standin", "vault-standin", "myapp-standin"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("podsim test "+n+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// recipeFor returns the recipe of the catalog for ref.
func recipeFor(t *testing.T, c *Catalog, ref string) *recipe {
	t.Helper()
	r, err := c.lookup(ref)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// layerOf builds r's layer and reads it back.
func layerOf(t *testing.T, r *recipe) map[string]tarEntry {
	t.Helper()
	tr, err := r.tree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tr.writeTar(&buf); err != nil {
		t.Fatal(err)
	}
	m, _ := readTar(t, buf.Bytes())
	return m
}

// needHost skips the test when a host file an image is built from is
// missing (the package is not installed).
func needHost(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range append([]string{"/bin/busybox"}, paths...) {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s not installed (run 'make deps')", p)
		}
	}
}

type want struct {
	path string
	typ  byte   // tar.TypeReg, TypeDir or TypeSymlink
	link string // symlink target, or a substring of a regular file's content
	mode int64  // 0: don't check
}

func checkLayer(t *testing.T, m map[string]tarEntry, wants []want) {
	t.Helper()
	for _, w := range wants {
		e, ok := m[w.path]
		if !ok {
			t.Errorf("layer has no %s", w.path)
			continue
		}
		if e.hdr.Typeflag != w.typ {
			t.Errorf("%s: type %c, want %c", w.path, e.hdr.Typeflag, w.typ)
			continue
		}
		switch {
		case w.typ == tar.TypeSymlink && e.hdr.Linkname != w.link:
			t.Errorf("%s -> %s, want -> %s", w.path, e.hdr.Linkname, w.link)
		case w.typ == tar.TypeReg && !strings.Contains(string(e.data), w.link):
			t.Errorf("%s does not contain %q", w.path, w.link)
		}
		if w.mode != 0 && e.hdr.Mode != w.mode {
			t.Errorf("%s: mode %o, want %o", w.path, e.hdr.Mode, w.mode)
		}
	}
}

// shellTools are the busybox links every image with a shell has.
var shellTools = []want{
	{"bin/busybox", tar.TypeReg, "", 0o755},
	{"bin/sh", tar.TypeSymlink, "busybox", 0},
	{"bin/cat", tar.TypeSymlink, "busybox", 0},
	{"tmp", tar.TypeDir, "", 0o1777},
}

func TestNginxLayer(t *testing.T) {
	needHost(t, "/usr/sbin/nginx", "/etc/nginx/mime.types")
	r := recipeFor(t, NewCatalog(fakeBinDir(t)), "public.ecr.aws/nginx/nginx:1.23")
	if r.name != NginxImage || r.standIn {
		t.Errorf("public.ecr.aws/nginx/nginx:1.23 -> %s standIn=%v", r.name, r.standIn)
	}
	m := layerOf(t, r)
	checkLayer(t, m, append([]want{
		{"usr/sbin/nginx", tar.TypeReg, "", 0o755},
		{"etc/nginx/nginx.conf", tar.TypeReg, "include /etc/nginx/conf.d/*.conf;", 0o644},
		{"etc/nginx/mime.types", tar.TypeReg, "text/html", 0o644},
		{"etc/nginx/conf.d/default.conf", tar.TypeReg, "listen       80;", 0o644},
		{"usr/share/nginx/html/index.html", tar.TypeReg, "Welcome to nginx!", 0},
		{"var/log/nginx/access.log", tar.TypeSymlink, "/dev/stdout", 0},
		{"var/log/nginx/error.log", tar.TypeSymlink, "/dev/stderr", 0},
		{"var/lib/nginx", tar.TypeDir, "", 0o755},
		{"var/cache/nginx", tar.TypeDir, "", 0o755},
		{"var/run", tar.TypeSymlink, "/run", 0},
		{"run", tar.TypeDir, "", 0},
		{"etc/passwd", tar.TypeReg, "\nnginx:x:101:101:", 0},
		{"etc/group", tar.TypeReg, "\nwww-data:x:33:", 0},
		{"etc/nsswitch.conf", tar.TypeReg, "hosts:          files dns", 0},
	}, shellTools...))
	conf := string(m["etc/nginx/nginx.conf"].data)
	if strings.Contains(conf, "daemon") || !strings.Contains(conf, "user  nginx;") || !strings.Contains(conf, "access_log  /var/log/nginx/access.log  main;") {
		t.Errorf("nginx.conf:\n%s", conf)
	}
	// The loader and libc come with it (ELF: true).
	deps, err := ResolveELF("/usr/sbin/nginx")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append([]string{deps.Interpreter}, libPaths(deps)...) {
		if e, ok := m[strings.TrimPrefix(p, "/")]; !ok || e.hdr.Typeflag != tar.TypeReg {
			t.Errorf("layer lacks nginx's %s", p)
		}
	}
	if !slices.Equal(r.config.Cmd, []string{"nginx", "-g", "daemon off;"}) || r.config.StopSignal != "SIGQUIT" ||
		!slices.Equal(r.config.ExposedPorts, []string{"80/tcp"}) {
		t.Errorf("nginx config = %+v", r.config)
	}
}

func libPaths(d ELFDeps) []string {
	var ps []string
	for _, l := range d.Libraries {
		ps = append(ps, l.Path)
	}
	return ps
}

func TestCurlLayer(t *testing.T) {
	needHost(t, "/usr/bin/curl", "/etc/ssl/certs/ca-certificates.crt")
	r := recipeFor(t, NewCatalog(fakeBinDir(t)), "curlimages/curl")
	m := layerOf(t, r)
	checkLayer(t, m, append([]want{
		{"usr/bin/curl", tar.TypeReg, "", 0o755},
		{"etc/ssl/certs/ca-certificates.crt", tar.TypeReg, "BEGIN CERTIFICATE", 0o644},
		{"entrypoint.sh", tar.TypeReg, "set -- curl \"$@\"", 0o755},
		{"etc/passwd", tar.TypeReg, "curl_user:x:100:", 0},
		{"lib/x86_64-linux-gnu/libcurl.so.4", tar.TypeReg, "", 0},
	}, shellTools...))
	if !slices.Equal(r.config.Entrypoint, []string{"/entrypoint.sh"}) || !slices.Equal(r.config.Cmd, []string{"curl"}) {
		t.Errorf("curl Entrypoint %q Cmd %q", r.config.Entrypoint, r.config.Cmd)
	}
}

func TestRedisLayer(t *testing.T) {
	needHost(t, "/usr/bin/redis-server", "/usr/bin/redis-cli")
	r := recipeFor(t, NewCatalog(fakeBinDir(t)), "redis:7")
	m := layerOf(t, r)
	checkLayer(t, m, append([]want{
		{"usr/local/bin/redis-server", tar.TypeReg, "", 0o755},
		{"usr/local/bin/redis-cli", tar.TypeReg, "", 0o755},
		{"usr/local/bin/redis-sentinel", tar.TypeSymlink, "redis-server", 0},
		{"usr/local/bin/docker-entrypoint.sh", tar.TypeReg, "--protected-mode no", 0o755},
		{"data", tar.TypeDir, "", 0o755},
	}, shellTools...))
	if r.config.WorkingDir != "/data" || !slices.Equal(r.config.Cmd, []string{"redis-server"}) {
		t.Errorf("redis config = %+v", r.config)
	}
}

func TestAlpineLayer(t *testing.T) {
	needHost(t)
	r := recipeFor(t, NewCatalog(fakeBinDir(t)), "alpine:3.12")
	if r.name != AlpineImage || !r.standIn {
		t.Errorf("alpine:3.12 -> %s standIn=%v", r.name, r.standIn)
	}
	m := layerOf(t, r)
	checkLayer(t, m, append([]want{
		{"sbin/sysctl", tar.TypeSymlink, "../bin/busybox", 0},
		{"usr/bin/tail", tar.TypeSymlink, "../../bin/busybox", 0},
		{"etc/os-release", tar.TypeReg, "no apk", 0},
	}, shellTools...))
	if !slices.Equal(r.config.Cmd, []string{"/bin/sh"}) {
		t.Errorf("alpine Cmd %q", r.config.Cmd)
	}
}

func TestStandInLayers(t *testing.T) {
	needHost(t)
	bin := fakeBinDir(t)
	c := NewCatalog(bin)
	for _, tt := range []struct {
		ref   string
		prog  string // stand-in program
		path  string // where it is in the image
		extra []want
	}{
		{"elasticsearch:7.9.3", "es-standin", "usr/share/elasticsearch/bin/es-standin", []want{
			{"usr/share/elasticsearch/bin/elasticsearch", tar.TypeSymlink, "es-standin", 0},
			{"usr/local/bin/docker-entrypoint.sh", tar.TypeSymlink, "/usr/share/elasticsearch/bin/es-standin", 0},
			{"usr/share/elasticsearch/config/elasticsearch.yml", tar.TypeReg, "network.host: 0.0.0.0", 0},
			{"usr/share/elasticsearch/config/log4j2.properties", tar.TypeReg, "ESJsonLayout", 0},
		}},
		{"docker.elastic.co/elasticsearch/elasticsearch:7.9.3", "es-standin", "usr/share/elasticsearch/bin/es-standin", nil},
		{"justwatch/elasticsearch_exporter:1.1.0", "es-exporter-standin", "bin/elasticsearch_exporter", nil},
		{"vault", "vault-standin", "bin/vault", []want{
			{"usr/local/bin/docker-entrypoint.sh", tar.TypeReg, "set -- vault", 0o755},
		}},
		{"myapp", "myapp-standin", "usr/local/bin/myapp", nil},
	} {
		r := recipeFor(t, c, tt.ref)
		if !r.standIn {
			t.Errorf("%s: not marked as a stand-in", tt.ref)
		}
		m := layerOf(t, r)
		checkLayer(t, m, append(append([]want{{tt.path, tar.TypeReg, "podsim test " + tt.prog, 0o755}}, shellTools...), tt.extra...))
	}

	es := recipeFor(t, c, "elasticsearch:7.9.3").config
	if !slices.Equal(es.Entrypoint, []string{"/usr/local/bin/docker-entrypoint.sh"}) || !slices.Equal(es.Cmd, []string{"eswrapper"}) ||
		es.WorkingDir != "/usr/share/elasticsearch" || !slices.Contains(es.ExposedPorts, "9200/tcp") {
		t.Errorf("elasticsearch config = %+v", es)
	}
	if ex := recipeFor(t, c, "justwatch/elasticsearch_exporter:1.1.0").config; !slices.Equal(ex.Entrypoint, []string{"/bin/elasticsearch_exporter"}) ||
		!slices.Equal(ex.ExposedPorts, []string{"9114/tcp"}) {
		t.Errorf("exporter config = %+v", ex)
	}
	// elasticsearch is only 7.9.3: no :latest.
	if _, err := c.Lookup("elasticsearch"); !errors.Is(err, ErrUnknownImage) {
		t.Errorf("Lookup(elasticsearch) = %v, want unknown (only 7.9.3 is provided)", err)
	}
}

// TestMissingStandIn: a stand-in that `make build` did not build gives a
// clear error naming the image, the file and the fix.
func TestMissingStandIn(t *testing.T) {
	bin := fakeBinDir(t)
	if err := os.Remove(filepath.Join(bin, "es-standin")); err != nil {
		t.Fatal(err)
	}
	_, err := recipeFor(t, NewCatalog(bin), "elasticsearch:7.9.3").tree(context.Background())
	want := "image elasticsearch:7.9.3 needs " + filepath.Join(bin, "es-standin") + ": run 'make build'"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrUnknownImage) {
		t.Errorf("errors.Is: ErrNotExist %v, ErrUnknownImage %v; want true, false", errors.Is(err, fs.ErrNotExist), errors.Is(err, ErrUnknownImage))
	}
	// With the relative bin/ of the Makefile, the message reads as in
	// the docs. (The test runs in sandbox/images, which has no bin/.)
	_, err = elasticsearchRecipe("bin").tree(context.Background())
	if want := "image elasticsearch:7.9.3 needs bin/es-standin: run 'make build'"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

// TestNewCatalogPausePath: the old NewCatalog(pauseBinary) form still
// works: a file is the pause program and its directory holds the stand-ins.
func TestNewCatalogPausePath(t *testing.T) {
	bin := fakeBinDir(t)
	for _, arg := range []string{bin, filepath.Join(bin, "pause")} {
		c := NewCatalog(arg)
		p := recipeFor(t, c, "podsim/pause")
		if p.files[0].Host != filepath.Join(bin, "pause") {
			t.Errorf("NewCatalog(%s): pause from %s", arg, p.files[0].Host)
		}
		es := recipeFor(t, c, "elasticsearch:7.9.3")
		if es.files[0].Host != filepath.Join(bin, "es-standin") {
			t.Errorf("NewCatalog(%s): es-standin from %s", arg, es.files[0].Host)
		}
	}
}

// TestRecipeTable checks every built-in recipe: a source line that says
// what it is, a command to run, and stand-ins marked as such.
func TestRecipeTable(t *testing.T) {
	standIns := map[string]bool{
		AlpineImage: true, BusyboxImage: true, ElasticsearchImage: true, ESExporterImage: true,
		VaultImage: true, MyappImage: true,
		NginxImage: false, CurlImage: false, RedisImage: false, PauseImage: false,
	}
	c := NewCatalog(fakeBinDir(t))
	if len(c.recipes) != len(standIns) {
		t.Errorf("%d recipes, want %d", len(c.recipes), len(standIns))
	}
	for _, r := range c.recipes {
		si, ok := standIns[r.name]
		if !ok {
			t.Errorf("unexpected recipe %s", r.name)
			continue
		}
		if r.standIn != si {
			t.Errorf("%s: standIn = %v, want %v", r.name, r.standIn, si)
		}
		prefix := "real "
		if si {
			prefix = "stand-in: "
		}
		if r.name != PauseImage && !strings.HasPrefix(r.source, prefix) {
			t.Errorf("%s: source %q should start with %q", r.name, r.source, prefix)
		}
		if len(r.config.Entrypoint)+len(r.config.Cmd) == 0 {
			t.Errorf("%s: no Entrypoint or Cmd", r.name)
		}
		if r.version < 1 || r.from == "" {
			t.Errorf("%s: version %d from %q", r.name, r.version, r.from)
		}
	}
	names := make([]string, 0, len(c.recipes))
	for _, r := range c.recipes {
		names = append(names, shortName(r.name))
	}
	if !slices.IsSorted(names) {
		t.Errorf("recipes not sorted by short name: %q", names)
	}
}
