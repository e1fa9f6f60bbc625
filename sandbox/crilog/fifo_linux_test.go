package crilog

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const nonblock = unix.O_NONBLOCK

func mkfifo(p string) error { return unix.Mkfifo(p, 0o600) }

func TestCopyFromFIFOEndsAtWriterClose(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/stdout"
	if err := mkfifo(p); err != nil {
		t.Skip("mkfifo:", err)
	}
	r, err := os.OpenFile(p, os.O_RDONLY|nonblock, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	burst := bytes.Repeat([]byte("0123456789abcdef"), 100*1024/16) // 100 KiB, no newline
	go func() {
		w.Write([]byte("hello\n"))
		w.Write(burst)
		w.Write([]byte("\nbye"))
		w.Close()
	}()
	var out bytes.Buffer
	if err := fixedWriter(&out).Copy(r, "stdout"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	var got []byte
	for _, l := range lines[1 : len(lines)-1] {
		got = append(got, strings.SplitN(l, " ", 4)[3]...)
	}
	if lines[0] != ts+" stdout F hello" || lines[len(lines)-1] != ts+" stdout F bye" || !bytes.Equal(got, burst) {
		t.Fatalf("burst not rebuilt from %d lines (first %q, last %q, %d bytes)", len(lines), lines[0], lines[len(lines)-1], len(got))
	}
	if n := len(lines) - 2; n != (len(burst)+MaxLine-1)/MaxLine {
		t.Fatalf("burst in %d lines, want %d", n, (len(burst)+MaxLine-1)/MaxLine)
	}
}
