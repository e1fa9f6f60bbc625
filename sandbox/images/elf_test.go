package images

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const curl = "/usr/bin/curl"

func needCurl(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(curl); err != nil {
		t.Skip(curl + " not installed")
	}
}

func TestResolveELFCurl(t *testing.T) {
	needCurl(t)
	deps, err := ResolveELF(curl)
	if err != nil {
		t.Fatal(err)
	}
	if deps.Interpreter == "" {
		t.Fatalf("%s: no ELF interpreter found", curl)
	}
	if runtime.GOARCH == "amd64" && deps.Interpreter != "/lib64/ld-linux-x86-64.so.2" {
		t.Errorf("interpreter = %s, want /lib64/ld-linux-x86-64.so.2", deps.Interpreter)
	}
	got := map[string]string{}
	for _, l := range deps.Libraries {
		if _, dup := got[l.Name]; dup {
			t.Errorf("%s listed twice", l.Name)
		}
		got[l.Name] = l.Path
		if filepath.Base(l.Path) != l.Name {
			t.Errorf("%s found at %s: path should end in the name", l.Name, l.Path)
		}
	}
	for _, must := range []string{"libcurl.so.4", "libc.so.6"} {
		if _, ok := got[must]; !ok {
			t.Errorf("%s not among curl's libraries %v", must, got)
		}
	}

	// Cross-check with ldd (which asks the real loader), when present:
	// every library the loader maps must have been found, since ours are
	// the transitive DT_NEEDED closure.
	out, err := exec.Command("ldd", curl).Output()
	if err != nil {
		t.Logf("ldd unavailable (%v); skipping cross-check", err)
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[1] != "=>" {
			continue // vdso, the interpreter line, blanks
		}
		if _, ok := got[f[0]]; !ok {
			t.Errorf("ldd lists %s (%s) but ResolveELF did not find it", f[0], f[2])
		}
	}
	if len(got) < 2 {
		t.Errorf("suspiciously few libraries: %v", got)
	}
}

func TestResolveELFStatic(t *testing.T) {
	needBusybox(t)
	deps, err := ResolveELF("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	// Debian's busybox-static has no interpreter; the dynamic busybox
	// package would. Either way the resolver must not fail.
	t.Logf("busybox: interpreter %q, %d libraries", deps.Interpreter, len(deps.Libraries))
}

func TestResolveELFNotELF(t *testing.T) {
	p := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := ResolveELF(p); err == nil {
		t.Errorf("ResolveELF on a shell script: want error")
	}
}

// TestAddELFRunsInChroot is the real proof that AddELF collects enough: it
// writes a layer with only curl and what AddELF found, unpacks it into an
// empty directory and runs curl there with chroot, where no host library
// or ld.so.cache is visible. Needs root for chroot.
func TestAddELFRunsInChroot(t *testing.T) {
	needCurl(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root for chroot")
	}
	chroot, err := exec.LookPath("chroot")
	if err != nil {
		t.Skip("chroot command not found")
	}
	tr := newTree()
	if err := tr.AddELF(curl, curl, 0); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tr.writeTar(&buf); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	extract(t, &buf, root)
	out, err := exec.Command(chroot, root, curl, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("curl --version in a chroot with only AddELF's files: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "curl ") {
		t.Errorf("unexpected output: %s", out)
	}
}

// extract unpacks a layer made by writeTar (dirs, regular files, symlinks).
func extract(t *testing.T, r io.Reader, root string) {
	t.Helper()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, p); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_EXCL, os.FileMode(h.Mode).Perm())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
}
