package images

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd"
	ctrimages "github.com/containerd/containerd/images"
	"github.com/containerd/containerd/mount"
	"github.com/containerd/containerd/namespaces"
	"github.com/opencontainers/image-spec/identity"
)

const testNamespace = "podsim-imgtest"

// startContainerd runs a private containerd for one test: its own config,
// root, state and socket in a temporary directory, CRI disabled. It never
// touches /run/containerd or a system containerd. Cleanup stops exactly the
// process started here and then removes the directory.
func startContainerd(t *testing.T) *containerd.Client {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: starts a private containerd")
	}
	bin := "/usr/bin/containerd"
	if _, err := os.Stat(bin); err != nil {
		p, lerr := exec.LookPath("containerd")
		if lerr != nil {
			t.Skip("containerd is not installed (apt-get install containerd)")
		}
		bin = p
	}

	// Registered first, so it runs last: after containerd has stopped.
	dir := t.TempDir()
	sock := filepath.Join(dir, "containerd.sock")
	config := fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
oom_score = 0
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %[3]q

[ttrpc]
  address = %[4]q

# The opt plugin would otherwise create /opt/containerd.
[plugins."io.containerd.internal.v1.opt"]
  path = %[5]q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc", filepath.Join(dir, "opt"))
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "containerd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // keep terminal signals for the test, not containerd
		Pdeathsig: syscall.SIGKILL, // if the test binary dies, containerd goes too
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		// Stop only the process this test started, by its PID.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			t.Logf("containerd (pid %d) did not stop on SIGTERM; killing it", cmd.Process.Pid)
			_ = cmd.Process.Kill()
			<-exited
		}
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("containerd log:\n%s", tail(b, 40))
			}
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err // let the cleanup see it too
			b, _ := os.ReadFile(logPath)
			t.Fatalf("containerd exited early: %v\n%s", err, tail(b, 40))
		default:
		}
		if _, err := os.Stat(sock); err == nil {
			client, err := containerd.New(sock, containerd.WithTimeout(5*time.Second))
			if err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, verr := client.Version(ctx)
				cancel()
				if verr == nil {
					t.Cleanup(func() { client.Close() })
					return client
				}
				client.Close()
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd socket %s not ready after 30s", sock)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// withRootfs mounts the image's unpacked snapshot read-only and runs f on
// it: proof that the snapshot containers start from has the right files.
func withRootfs(ctx context.Context, t *testing.T, client *containerd.Client, img containerd.Image, f func(root string)) {
	t.Helper()
	// The lease keeps the temporary view safe from garbage collection and
	// removes it when done.
	ctx, done, err := client.WithLease(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer done(context.Background())
	diffIDs, err := img.RootFS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sn := client.SnapshotService(Snapshotter)
	key := fmt.Sprintf("podsim-imgtest-view-%d", time.Now().UnixNano())
	mounts, err := sn.View(ctx, key, identity.ChainID(diffIDs).String())
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Remove(ctx, key)
	if err := mount.WithReadonlyTempMount(ctx, mounts, func(root string) error {
		f(root)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestIntegrationImportBusyboxAndPause(t *testing.T) {
	needBusybox(t)
	client := startContainerd(t)
	ctx := namespaces.WithNamespace(context.Background(), testNamespace)

	// A stand-in for bin/pause: the image build only copies the file.
	pauseBin := filepath.Join(t.TempDir(), "pause")
	if err := os.WriteFile(pauseBin, []byte("podsim test pause\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cat := NewCatalog(pauseBin)

	var lines []string
	progress := func(s string) {
		t.Log(s)
		lines = append(lines, s)
	}
	built := func() bool {
		for _, l := range lines {
			if strings.HasPrefix(l, "building ") {
				return true
			}
		}
		return false
	}

	// First use builds, imports and unpacks.
	bb, err := cat.Ensure(ctx, client, "busybox", progress)
	if err != nil {
		t.Fatal(err)
	}
	if !built() {
		t.Errorf("first Ensure(busybox) did not report building; progress: %q", lines)
	}
	if bb.Name() != BusyboxImage {
		t.Errorf("image name = %q, want %q", bb.Name(), BusyboxImage)
	}
	if bb.Labels()[LabelSource] == "" || bb.Labels()[LabelStandIn] != "true" {
		t.Errorf("labels = %v, want %s and %s=true", bb.Labels(), LabelSource, LabelStandIn)
	}
	spec, err := bb.Spec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(spec.Config.Cmd, []string{"sh"}) || len(spec.Config.Entrypoint) != 0 {
		t.Errorf("busybox Entrypoint %q Cmd %q, want none and [sh]", spec.Config.Entrypoint, spec.Config.Cmd)
	}
	if !slices.Contains(spec.Config.Env, defaultPath) {
		t.Errorf("busybox Env = %q, want %s", spec.Config.Env, defaultPath)
	}
	if ok, err := bb.IsUnpacked(ctx, Snapshotter); err != nil || !ok {
		t.Errorf("busybox IsUnpacked = %v, %v", ok, err)
	}
	withRootfs(ctx, t, client, bb, func(root string) {
		if l, err := os.Readlink(filepath.Join(root, "bin/sh")); err != nil || l != "busybox" {
			t.Errorf("rootfs bin/sh -> %q (%v), want busybox", l, err)
		}
		host, _ := os.ReadFile("/bin/busybox")
		if got, err := os.ReadFile(filepath.Join(root, "bin/busybox")); err != nil || !bytes.Equal(got, host) {
			t.Errorf("rootfs bin/busybox differs from the host's (%v)", err)
		}
		if fi, err := os.Stat(filepath.Join(root, "tmp")); err != nil || fi.Mode()&fs.ModeSticky == 0 || fi.Mode().Perm() != 0o777 {
			t.Errorf("rootfs /tmp: %v %v, want drwxrwxrwt", fi, err)
		}
	})

	pause, err := cat.Ensure(ctx, client, "podsim/pause", progress)
	if err != nil {
		t.Fatal(err)
	}
	pspec, err := pause.Spec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pspec.Config.Entrypoint, []string{"/pause"}) || pspec.Config.User != "65535:65535" {
		t.Errorf("pause Entrypoint %q User %q, want [/pause] and 65535:65535", pspec.Config.Entrypoint, pspec.Config.User)
	}
	if pause.Labels()[LabelStandIn] != "false" {
		t.Errorf("pause labels = %v", pause.Labels())
	}

	// Second use: nothing to do.
	lines = nil
	start := time.Now()
	bb2, err := cat.Ensure(ctx, client, "busybox:latest", progress)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 0 {
		t.Errorf("second Ensure(busybox) did work: %q", lines)
	}
	if bb2.Target().Digest != bb.Target().Digest {
		t.Errorf("second Ensure gave %s, first %s", bb2.Target().Digest, bb.Target().Digest)
	}
	t.Logf("cached Ensure took %v", time.Since(start))

	// An alias becomes a second name for the same image, without a build.
	alias, err := cat.Ensure(ctx, client, "busybox:1.36", progress)
	if err != nil {
		t.Fatal(err)
	}
	if alias.Name() != "docker.io/library/busybox:1.36" || alias.Target().Digest != bb.Target().Digest || built() {
		t.Errorf("alias: name %s digest %s (busybox %s), progress %q", alias.Name(), alias.Target().Digest, bb.Target().Digest, lines)
	}

	// Changing a source file rebuilds.
	if err := os.WriteFile(pauseBin, []byte("podsim test pause, version 2\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	lines = nil
	pause2, err := cat.Ensure(ctx, client, "podsim/pause:latest", progress)
	if err != nil {
		t.Fatal(err)
	}
	if !built() {
		t.Errorf("Ensure after the pause binary changed did not rebuild; progress: %q", lines)
	}
	if pause2.Target().Digest == pause.Target().Digest {
		t.Errorf("rebuilt pause image has the old digest %s", pause.Target().Digest)
	}

	// Two catalogs stand for two podsim processes building the same new
	// image at the same moment (each catalog only serialises its own
	// builds). Both must succeed with the same image.
	if err := os.WriteFile(pauseBin, []byte("podsim test pause, version 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	type result struct {
		img containerd.Image
		err error
	}
	results := make(chan result, 4)
	for i := 0; i < 4; i++ {
		c := NewCatalog(pauseBin)
		go func() {
			img, err := c.Ensure(ctx, client, "podsim/pause", nil)
			results <- result{img, err}
		}()
	}
	var digests []string
	for i := 0; i < 4; i++ {
		r := <-results
		if r.err != nil {
			t.Errorf("concurrent Ensure: %v", r.err)
			continue
		}
		digests = append(digests, r.img.Target().Digest.String())
	}
	if len(slices.Compact(slices.Clone(digests))) != 1 {
		t.Errorf("concurrent Ensure gave different images: %v", digests)
	}

	// A real program with its libraries: curl, from Debian's package.
	if _, err := os.Stat("/usr/bin/curl"); err == nil {
		curl, err := cat.Ensure(ctx, client, "curlimages/curl", progress)
		if err != nil {
			t.Fatal(err)
		}
		cspec, err := curl.Spec(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if curl.Name() != CurlImage || curl.Labels()[LabelStandIn] != "false" ||
			!slices.Equal(cspec.Config.Entrypoint, []string{"/entrypoint.sh"}) || !slices.Equal(cspec.Config.Cmd, []string{"curl"}) {
			t.Errorf("curl image %s labels %v Entrypoint %q Cmd %q", curl.Name(), curl.Labels(), cspec.Config.Entrypoint, cspec.Config.Cmd)
		}
		deps, err := ResolveELF("/usr/bin/curl")
		if err != nil {
			t.Fatal(err)
		}
		withRootfs(ctx, t, client, curl, func(root string) {
			for _, p := range append([]string{"/usr/bin/curl", "/etc/ssl/certs/ca-certificates.crt", "/entrypoint.sh", deps.Interpreter}, libPaths(deps)...) {
				if fi, err := os.Stat(filepath.Join(root, p)); err != nil || !fi.Mode().IsRegular() {
					t.Errorf("curl rootfs: %s: %v", p, err)
				}
			}
			if l, err := os.Readlink(filepath.Join(root, "bin/sh")); err != nil || l != "busybox" {
				t.Errorf("curl rootfs bin/sh -> %q (%v)", l, err)
			}
		})
	} else {
		t.Log("curl not installed: skipping the curl image")
	}

	if _, err := cat.Ensure(ctx, client, "postgres:16", nil); !errors.Is(err, ErrUnknownImage) {
		t.Errorf("Ensure(postgres:16) = %v, want ErrUnknownImage", err)
	}

	// Clean up: delete every image (synchronously, so containerd's
	// garbage collector also drops the blobs and snapshots).
	is := client.ImageService()
	imgs, err := is.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, img := range imgs {
		names = append(names, img.Name)
		if err := is.Delete(ctx, img.Name, ctrimages.SynchronousDelete()); err != nil {
			t.Errorf("deleting %s: %v", img.Name, err)
		}
	}
	slices.Sort(names)
	want := []string{CurlImage, "docker.io/library/busybox:1.36", BusyboxImage, PauseImage}
	if _, err := os.Stat("/usr/bin/curl"); err != nil {
		want = want[1:]
	}
	if !slices.Equal(names, want) {
		t.Errorf("images in containerd = %q, want %q", names, want)
	}
	if left, err := is.List(ctx); err != nil || len(left) != 0 {
		t.Errorf("after delete: %d images left (%v)", len(left), err)
	}
	if err := client.NamespaceService().Delete(ctx, testNamespace); err != nil {
		t.Logf("deleting namespace %s: %v (the whole private containerd is removed anyway)", testNamespace, err)
	}
}
