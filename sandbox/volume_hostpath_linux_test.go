package sandbox

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func hostPathVol(p string, t corev1.HostPathType) *corev1.Volume {
	return &corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: p, Type: &t}}}
}

// TestCheckHostPathType runs kubelet's type checks against real files of a
// temporary directory (a directory, a file, a socket, /dev/null).
func TestCheckHostPathType(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		path    string
		typ     corev1.HostPathType
		wantErr string
	}{
		{dir, corev1.HostPathDirectory, ""},
		{dir, corev1.HostPathDirectoryOrCreate, ""},
		{missing, corev1.HostPathDirectoryOrCreate, ""},
		{missing, corev1.HostPathUnset, ""},
		{missing, corev1.HostPathFileOrCreate, ""},
		{filepath.Join(missing, "f"), corev1.HostPathFileOrCreate, "its directory " + missing + " does not exist"},
		{file, corev1.HostPathDirectory, "hostPath type check failed: " + file + " is not a directory, it's a File"},
		{file, corev1.HostPathDirectoryOrCreate, "is not a directory"},
		{dir, corev1.HostPathFileOrCreate, "is not a file, it's a Directory"},
		{file, corev1.HostPathFile, ""},
		{missing, corev1.HostPathFile, "hostPath " + missing + " doesn't exist"},
		{sock, corev1.HostPathSocket, ""},
		{file, corev1.HostPathSocket, "is not a socket file"},
		{"/dev/null", corev1.HostPathCharDev, ""},
		{"/dev/null", corev1.HostPathBlockDev, "is not a block device, it's a CharDevice"},
		{file, corev1.HostPathUnset, ""},
	} {
		err := checkHostPathType(hostPathVol(tc.path, tc.typ))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s as %q: %v", tc.path, tc.typ, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s as %q: err = %v, want %q", tc.path, tc.typ, err, tc.wantErr)
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("the check created %s: it must not change the host", missing)
	}
	// makeHostPath creates what the *OrCreate types ask for.
	if err := makeHostPath(hostPathVol(filepath.Join(missing, "a", "b"), corev1.HostPathDirectoryOrCreate)); err != nil {
		t.Fatal(err)
	}
	nf := filepath.Join(missing, "new")
	if err := makeHostPath(hostPathVol(nf, corev1.HostPathFileOrCreate)); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(nf); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("FileOrCreate made %v (%v), want a file", fi, err)
	}
}
