package sandbox

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDiskUsage counts as kubelet's du does: allocated blocks (a sparse
// file's hole is free), a hard-linked file once.
func TestDiskUsage(t *testing.T) {
	dir := t.TempDir()
	empty, err := diskUsage(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i)
	}
	if err := os.WriteFile(filepath.Join(dir, "a"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "a"), filepath.Join(dir, "a-link")); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64 << 20); err != nil { // 64 MiB of hole
		t.Fatal(err)
	}
	f.Close()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "b"), data[:512<<10], 0o644); err != nil {
		t.Fatal(err)
	}
	used, err := diskUsage(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := used - empty
	// 1 MiB + 512 KiB of data, plus a few blocks of directory and
	// file-system rounding; never the link twice, never the hole.
	if got < 1536<<10 || got > 1536<<10+256<<10 {
		t.Errorf("diskUsage grew by %d bytes, want about %d (1.5 MiB)", got, 1536<<10)
	}
	if _, err := diskUsage(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("a missing directory: %v, want not-exist", err)
	}
}
