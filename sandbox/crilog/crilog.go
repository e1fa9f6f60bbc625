// Package crilog writes container output in the CRI log format kubelet
// reads: "<RFC3339Nano time> <stream> <F|P> <content>", one line per line
// of output. containerd's CRI plugin does this inside containerd (its
// pkg/cri/io); in podsim the node agent does it, reading the FIFOs that
// containerd's runc shim writes each container's stdout and stderr to.
package crilog

import (
	"errors"
	"io"
	"sync"
	"time"
)

// MaxLine is the longest line written whole: a longer line is split into
// P (partial) lines of this size, as CRI's logger does (16 KiB).
const MaxLine = 16 * 1024

// Tags of a CRI log line: F ends a line, P is a piece of a longer one
// whose content continues on the next line of the same stream.
const (
	Full    = "F"
	Partial = "P"
)

// readChunk is what one read of a stream takes. The node agent runs one
// Copy per stream of every container, each blocked in a read most of the
// time with its chunk held: 4 KiB keeps that at 8 KiB per container, and
// no line buffer is held between lines; a burst fills the 64 KiB pipe and
// is read in more, cheap calls.
const readChunk = 4 << 10

// Writer writes CRI log lines; safe for concurrent streams.
type Writer struct {
	mu sync.Mutex
	W  io.Writer
	// Now is the clock (time.Now when nil); tests set it.
	Now func() time.Time
}

// Copy reads one stream ("stdout" or "stderr") from r and writes its lines
// until r ends. At io.EOF (the writer closed: the container exited) an
// unterminated last line is written as a full line, as CRI does. On any
// other read error (the reader was closed: the node agent stops while the
// container runs on) it is written as a partial line, so the content that
// the next reader gets continues it instead of starting a new line.
// Copy returns nil at EOF, else the read error.
func (c *Writer) Copy(r io.Reader, stream string) error {
	var buf []byte // an unfinished line, nil between lines
	chunk := make([]byte, readChunk)
	for {
		n, err := r.Read(chunk)
		buf = c.writeLines(stream, append(buf, chunk[:n]...))
		if err == nil {
			continue
		}
		if len(buf) > 0 {
			tag := Partial
			if errors.Is(err, io.EOF) {
				tag = Full
			}
			c.WriteLine(stream, tag, buf)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
}

// writeLines writes every complete line of buf (and MaxLine pieces of a
// longer one) and returns the rest, which waits for its end.
func (c *Writer) writeLines(stream string, buf []byte) []byte {
	for {
		i := indexNL(buf)
		switch {
		case i >= 0 && i <= MaxLine:
			c.WriteLine(stream, Full, buf[:i])
			buf = buf[i+1:]
		case len(buf) >= MaxLine:
			c.WriteLine(stream, Partial, buf[:MaxLine])
			buf = buf[MaxLine:]
		case len(buf) == 0:
			return nil // nothing held while the container is quiet
		default:
			// Keep only the unfinished rest, sized to it.
			return append([]byte(nil), buf...)
		}
	}
}

func indexNL(b []byte) int {
	for i, x := range b {
		if x == '\n' {
			return i
		}
	}
	return -1
}

// WriteLine writes one line of a stream ("stdout"/"stderr"), tag F (full) or P (partial).
func (c *Writer) WriteLine(stream, tag string, line []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	ts := now().UTC().Format(time.RFC3339Nano)
	buf := make([]byte, 0, len(ts)+len(stream)+len(line)+5)
	buf = append(buf, ts...)
	buf = append(buf, ' ')
	buf = append(buf, stream...)
	buf = append(buf, ' ')
	buf = append(buf, tag...)
	buf = append(buf, ' ')
	buf = append(buf, line...)
	buf = append(buf, '\n')
	c.W.Write(buf)
}
