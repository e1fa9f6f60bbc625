package crilog

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func fixedWriter(out *bytes.Buffer) *Writer {
	return &Writer{W: out, Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC) }}
}

const ts = "2026-01-02T03:04:05.000000006Z"

func TestCopyWritesCRILines(t *testing.T) {
	long := strings.Repeat("x", MaxLine+10)
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"full lines", "a\nb\n", []string{"stdout F a", "stdout F b"}},
		{"empty line", "\n", []string{"stdout F "}},
		{"unterminated last line at EOF is full", "a\nrest", []string{"stdout F a", "stdout F rest"}},
		{"long line splits into P pieces", long + "\n", []string{"stdout P " + long[:MaxLine], "stdout F " + long[MaxLine:]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			// One byte per Read: lines are cut across reads.
			if err := fixedWriter(&out).Copy(&oneByteReader{r: strings.NewReader(tc.in)}, "stdout"); err != nil {
				t.Fatal(err)
			}
			var want string
			for _, l := range tc.want {
				want += ts + " " + l + "\n"
			}
			if out.String() != want {
				t.Fatalf("got\n%q\nwant\n%q", out.String(), want)
			}
		})
	}
}

type oneByteReader struct{ r io.Reader }

func (o *oneByteReader) Read(p []byte) (int, error) { return o.r.Read(p[:1]) }

// A reader closed mid-line (the agent stops) writes the piece as P, so the
// next reader's content continues that line.
func TestCopyStoppedMidLineWritesPartial(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	out := &syncBuffer{}
	done := make(chan error)
	go func() { done <- (&Writer{W: out, Now: fixedWriter(nil).Now}).Copy(r, "stderr") }()
	// One write below PIPE_BUF: Copy's one read gets both pieces.
	w.Write([]byte("one\ntw"))
	// Wait until Copy has written the full line, then stop it.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), "F one"); {
		if time.Now().After(deadline) {
			t.Fatal("Copy did not write the first line")
		}
		time.Sleep(time.Millisecond)
	}
	r.Close()
	if err := <-done; err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("Copy of a closed reader returned %v, want the close error", err)
	}
	want := ts + " stderr F one\n" + ts + " stderr P tw\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
