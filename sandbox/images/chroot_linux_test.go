package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These root-only tests prove that the images' layers are complete: each
// layer is unpacked into a directory and its programs are run there with
// chroot, so they see nothing of the host's files. A missing library, a
// config file in the wrong place or a broken link fails here exactly as it
// would in a container. They need no containerd and no network namespace:
// servers listen on 127.0.0.1 with free ports.

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs the image's programs with chroot")
	}
	for _, tool := range []string{"unshare", "mount", "chroot"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found (util-linux/coreutils)", tool)
		}
	}
}

// unpackLayer builds r's layer and extracts it into a new directory, like
// containerd's unpack does into a snapshot.
func unpackLayer(t *testing.T, r *recipe) string {
	t.Helper()
	tr, err := r.tree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tr.writeTar(&buf); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	rd := tar.NewReader(&buf)
	for {
		h, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, h.Name) // names are clean and relative (see tree)
		mode := os.FileMode(h.Mode).Perm()
		switch h.Typeflag {
		case tar.TypeDir:
			if err = os.MkdirAll(p, 0o755); err == nil {
				if h.Mode&0o1000 != 0 {
					mode |= os.ModeSticky
				}
				err = os.Chmod(p, mode)
			}
		case tar.TypeSymlink:
			err = os.Symlink(h.Linkname, p)
		case tar.TypeReg:
			var f *os.File
			f, err = os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_NOFOLLOW, mode)
			if err == nil {
				_, err = io.Copy(f, rd)
				f.Close()
			}
			if err == nil {
				err = os.Chmod(p, mode)
			}
		default:
			t.Fatalf("unexpected tar entry %s type %c", h.Name, h.Typeflag)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// Like a container runtime (and podsim's pods), provide /etc/hosts:
	// images don't have one, and the exporter's --es.uri says localhost.
	if err := os.WriteFile(filepath.Join(root, "etc/hosts"), []byte("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// chrootCmd runs args in root like a container would see it: in a private
// mount namespace with the host's /dev bound and a /proc mounted (nginx
// logs to /dev/stdout, busybox's sysctl reads /proc/sys), in workdir, with
// exactly the environment env. Every image run here has busybox.
//
// The environment travels as arguments of `busybox env -i`, not through
// the shells on the way: sh drops variables whose names are not shell
// identifiers, such as Elasticsearch's discovery.type (a container runtime
// passes them to the program directly).
func chrootCmd(root string, env []string, workdir string, args ...string) *exec.Cmd {
	if workdir == "" {
		workdir = "/"
	}
	script := `mount --rbind /dev "$0/dev" && mount -t proc proc "$0/proc" && exec chroot "$0" /bin/busybox sh -c 'cd "$0" && exec /bin/busybox env -i "$@"' "$@"`
	argv := []string{"--mount", "--propagation", "private", "/bin/sh", "-c", script, root, workdir}
	argv = append(append(argv, env...), args...)
	cmd := exec.Command("unshare", argv...)
	// The shells exec, so the program keeps this PID; if the test binary
	// dies, the program goes too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// runIn runs args in root and returns the combined output.
func runIn(t *testing.T, root string, env []string, args ...string) string {
	t.Helper()
	out, err := chrootCmd(root, env, "", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s in the image: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// lockedBuffer collects a background program's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startIn starts a server program in root. It is stopped (SIGTERM, then
// SIGKILL after 10s) by PID when the test ends.
func startIn(t *testing.T, root string, env []string, workdir string, args ...string) *lockedBuffer {
	t.Helper()
	var out lockedBuffer
	cmd := chrootCmd(root, env, workdir, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", args[0], out.String())
		}
	})
	return &out
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitListening(t *testing.T, port int, out *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on 127.0.0.1:%d after 15s; output:\n%s", port, out.String())
}

// selfSignedCert writes a key and certificate like the article's
// elasticsearch-tls secret (tls.crt, tls.key) into dir.
func selfSignedCert(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "elasticsearch"},
		DNSNames:     []string{"elasticsearch", "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}

func TestIntegrationChrootNginxTLSProxy(t *testing.T) {
	needRoot(t)
	needHost(t, "/usr/sbin/nginx", "/etc/nginx/mime.types", "/usr/bin/curl", "/etc/ssl/certs/ca-certificates.crt")
	c := NewCatalog(fakeBinDir(t))
	ngx := recipeFor(t, c, "public.ecr.aws/nginx/nginx:1.23")
	root := unpackLayer(t, ngx)
	env := ngx.config.Env

	// The image's own configuration is valid as shipped.
	if out := runIn(t, root, env, "nginx", "-t"); !strings.Contains(out, "syntax is ok") || !strings.Contains(out, "test is successful") {
		t.Fatalf("nginx -t:\n%s", out)
	}
	if out := runIn(t, root, env, "nginx", "-V"); !strings.Contains(out, "--with-http_ssl_module") {
		t.Errorf("nginx -V has no ssl module:\n%s", out)
	}
	if out := runIn(t, root, env, "sh", "-c", "echo shell ok; id -un"); out != "shell ok\nroot\n" {
		t.Errorf("busybox shell: %q", out)
	}

	// The article's ambassador: TLS on one port, proxy_pass to the app on
	// another. The app here is a plain Go server standing for
	// Elasticsearch; the pod's ConfigMap replaces conf.d.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"tagline" : "You Know, for Search", "ua" : %q}`+"\n", r.UserAgent())
	}))
	defer app.Close()
	port := freePort(t)
	confd := filepath.Join(root, "etc/nginx/conf.d")
	os.Remove(filepath.Join(confd, "default.conf")) // don't bind the host's port 80
	os.WriteFile(filepath.Join(confd, "elasticsearch.conf"), []byte(fmt.Sprintf(`server {
    listen 127.0.0.1:%d ssl;
    server_name elasticsearch;
    ssl_certificate /certs/tls.crt;
    ssl_certificate_key /certs/tls.key;
    location / {
        proxy_pass %s;
    }
}
`, port, app.URL)), 0o644)
	selfSignedCert(t, filepath.Join(root, "certs"))
	logs := startIn(t, root, env, "", ngx.config.Cmd...)
	waitListening(t, port, logs)

	curl := recipeFor(t, c, "curlimages/curl")
	croot := unpackLayer(t, curl)
	url := fmt.Sprintf("https://127.0.0.1:%d/", port)
	// The article's form (command given) and the option-first form both
	// go through the image's entrypoint.
	for _, args := range [][]string{{"curl", "-sk", url}, {"-sk", url}} {
		out := runIn(t, croot, curl.config.Env, append(curl.config.Entrypoint, args...)...)
		if !strings.Contains(out, `"tagline" : "You Know, for Search"`) || !strings.Contains(out, `"ua" : "curl/`) {
			t.Errorf("curl %s through nginx: %q", strings.Join(args, " "), out)
		}
	}
	// Without -k the self-signed certificate is refused (the CA bundle is
	// used and does not contain it): exit 60.
	cmd := chrootCmd(croot, curl.config.Env, "", "curl", "-sS", url)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "certificate") {
		t.Errorf("curl without -k: %v %q, want a certificate error", err, out)
	}
	// Plain HTTP to the TLS port gets nginx's 400 page, as in the article.
	out := runIn(t, croot, curl.config.Env, "curl", "-s", fmt.Sprintf("http://127.0.0.1:%d/", port))
	if !strings.Contains(out, "400 The plain HTTP request was sent to HTTPS port") {
		t.Errorf("plain HTTP to the TLS port: %q", out)
	}
	// The access log goes to nginx's stdout (/var/log/nginx/access.log ->
	// /dev/stdout) in the official "main" format.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), `"GET / HTTP/1.1" 200`) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if l := logs.String(); !strings.Contains(l, `"GET / HTTP/1.1" 200`) || !strings.Contains(l, `"curl/`) {
		t.Errorf("nginx output has no access log line:\n%s", l)
	}
}

func TestIntegrationChrootCurl(t *testing.T) {
	needRoot(t)
	needHost(t, "/usr/bin/curl", "/etc/ssl/certs/ca-certificates.crt")
	r := recipeFor(t, NewCatalog(fakeBinDir(t)), "curlimages/curl")
	root := unpackLayer(t, r)
	out := runIn(t, root, r.config.Env, "curl", "--version")
	if !strings.HasPrefix(out, "curl ") || !strings.Contains(out, "OpenSSL") {
		t.Errorf("curl --version:\n%s", out)
	}
	// The default command (entrypoint + Cmd ["curl"]) runs curl.
	cmd := chrootCmd(root, r.config.Env, "", append(r.config.Entrypoint, r.config.Cmd...)...)
	if out, _ := cmd.CombinedOutput(); !strings.Contains(string(out), "curl --help") {
		t.Errorf("default command: %q", out)
	}
}

func TestIntegrationChrootRedis(t *testing.T) {
	needRoot(t)
	needHost(t, "/usr/bin/redis-server", "/usr/bin/redis-cli")
	r := recipeFor(t, NewCatalog(fakeBinDir(t)), "redis:7")
	root := unpackLayer(t, r)
	env := r.config.Env
	if out := runIn(t, root, env, "redis-server", "--version"); !strings.HasPrefix(out, "Redis server v=") {
		t.Errorf("redis-server --version: %q", out)
	}
	if out := runIn(t, root, env, "redis-cli", "--version"); !strings.HasPrefix(out, "redis-cli ") {
		t.Errorf("redis-cli --version: %q", out)
	}
	// Started as the image starts it, but on loopback: the entrypoint must
	// turn protected mode off like the official image.
	port := freePort(t)
	args := append(append([]string{}, r.config.Entrypoint...), "--port", fmt.Sprint(port), "--bind", "127.0.0.1")
	logs := startIn(t, root, env, r.config.WorkingDir, args...)
	waitListening(t, port, logs)
	if out := runIn(t, root, env, "redis-cli", "-p", fmt.Sprint(port), "ping"); out != "PONG\n" {
		t.Errorf("redis-cli ping: %q", out)
	}
	if out := runIn(t, root, env, "redis-cli", "-p", fmt.Sprint(port), "config", "get", "protected-mode"); out != "protected-mode\nno\n" {
		t.Errorf("protected-mode: %q, want no", out)
	}
	if out := runIn(t, root, env, "redis-cli", "-p", fmt.Sprint(port), "config", "get", "dir"); !strings.Contains(out, "/data") {
		t.Errorf("redis dir: %q, want /data", out)
	}
}

func TestIntegrationChrootAlpine(t *testing.T) {
	needRoot(t)
	needHost(t)
	r := recipeFor(t, NewCatalog(fakeBinDir(t)), "alpine:3.12")
	root := unpackLayer(t, r)
	out := runIn(t, root, r.config.Env, "/bin/sh", "-c", "echo hi > /tmp/f && cat /tmp/f && sysctl -n vm.max_map_count && tail -n 1 /etc/passwd")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || lines[0] != "hi" || lines[2] != "nobody:x:65534:65534:nobody:/:/sbin/nologin" {
		t.Errorf("alpine shell: %q", out)
	}
}

// buildStandIns compiles the stand-in programs into a new bin directory as
// `make build` does (static, CGO_ENABLED=0).
func buildStandIns(t *testing.T) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Skip("go command not found to build the stand-ins")
		}
	}
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "pause"), []byte("podsim test pause\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"es-standin", "es-exporter-standin", "vault-standin", "myapp-standin"} {
		cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(bin, name), "../../cmd/standins/"+name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", name, err, out)
		}
	}
	return bin
}

// TestIntegrationChrootStandIns runs the stand-in images' programs through
// their image configs: the Elasticsearch stand-in as the article's
// sidecar pod starts it, the exporter scraping it, the vault init command,
// and myapp without its secret.
func TestIntegrationChrootStandIns(t *testing.T) {
	needRoot(t)
	needHost(t)
	c := NewCatalog(buildStandIns(t))

	es := recipeFor(t, c, "elasticsearch:7.9.3")
	esRoot := unpackLayer(t, es)
	if out := runIn(t, esRoot, es.config.Env, append(es.config.Entrypoint, "--version")...); !strings.HasPrefix(out, "Version: 7.9.3,") {
		t.Errorf("elasticsearch --version: %q", out)
	}
	// Like the official entrypoint, another command runs instead.
	if out := runIn(t, esRoot, es.config.Env, append(es.config.Entrypoint, "sh", "-c", "echo from $PWD")...); out != "from /\n" {
		t.Errorf("docker-entrypoint.sh sh -c ...: %q", out)
	}
	esPort := freePort(t)
	esEnv := append(append([]string{}, es.config.Env...), "discovery.type=single-node", "network.host=127.0.0.1",
		fmt.Sprintf("http.port=%d", esPort), "path.logs=/var/log/elasticsearch")
	esLogs := startIn(t, esRoot, esEnv, es.config.WorkingDir, append(es.config.Entrypoint, es.config.Cmd...)...)
	waitListening(t, esPort, esLogs)
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", esPort))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"number" : "7.9.3"`) || !strings.Contains(string(body), `"tagline" : "You Know, for Search"`) {
		t.Errorf("GET /: %s", body)
	}
	if !strings.Contains(esLogs.String(), "read logging configuration [/usr/share/elasticsearch/config/log4j2.properties]") {
		t.Errorf("es-standin did not find the image's log4j2.properties:\n%s", esLogs.String())
	}
	if b, err := os.ReadFile(filepath.Join(esRoot, "var/log/elasticsearch/docker-cluster_server.json")); err != nil || !strings.Contains(string(b), `"message": "started"`) {
		t.Errorf("log file: %v\n%s", err, b)
	}

	ex := recipeFor(t, c, "justwatch/elasticsearch_exporter:1.1.0")
	exRoot := unpackLayer(t, ex)
	exPort := freePort(t)
	exLogs := startIn(t, exRoot, ex.config.Env, "", append(ex.config.Entrypoint,
		fmt.Sprintf("--es.uri=http://localhost:%d", esPort), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", exPort))...)
	waitListening(t, exPort, exLogs)
	resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", exPort))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(body), "# HELP elasticsearch_breakers_estimated_size_bytes Estimated size in bytes of breaker\n") ||
		!strings.Contains(string(body), "elasticsearch_node_stats_up 1") {
		t.Errorf("exporter metrics:\n%.2000s", body)
	}

	v := recipeFor(t, c, "vault")
	vRoot := unpackLayer(t, v)
	out := runIn(t, vRoot, v.config.Env, "/bin/sh", "-c", "mkdir -p /secrets && vault read secret/my-secret > /secrets/my-secret && cat /secrets/my-secret")
	if !strings.Contains(out, "value               s3cr3t-") {
		t.Errorf("vault read in the image: %q", out)
	}
	// A path without a secret makes the init command fail, as with Vault.
	cmd := chrootCmd(vRoot, v.config.Env, "", "/bin/sh", "-c", "vault read secret/does-not-exist > /tmp/s")
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "No value found at secret/does-not-exist") {
		t.Errorf("vault read of an unknown path: %v %q, want a failure", err, b)
	}

	m := recipeFor(t, c, "myapp")
	mRoot := unpackLayer(t, m)
	cmd = chrootCmd(mRoot, append(append([]string{}, m.config.Env...), "SECRET_WAIT=100ms", "LISTEN_ADDR="), "", m.config.Entrypoint...)
	b, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(b), "no secret") {
		t.Errorf("myapp without secret: %v %q, want exit 1", err, b)
	}
}
