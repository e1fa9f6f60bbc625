// Package crilog writes container output in the CRI log format kubelet reads.
// It has no dependencies beyond the standard library so that the log driver
// binary (cmd/podsim-logger) stays small: one runs per container.
package crilog

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// LoggerFlag marks an invocation of the podsim binary as a container log
// driver. containerd's runc shim starts the binary named in a binary://
// log URI with the container's stdout on fd 3, stderr on fd 4 and a
// readiness pipe on fd 5, passing the URI's query as arguments. podsim has no
// agent, so this tiny process, owned by the shim, is what writes the logs.
const LoggerFlag = "--podsim-cri-logger"

// IsLoggerInvocation reports whether args (os.Args[1:]) ask for the logger.
func IsLoggerInvocation(args []string) bool {
	for _, a := range args {
		if a == LoggerFlag {
			return true
		}
	}
	return false
}

// RunCRILogger copies fds 3 and 4 to a log file in the CRI format kubelet
// reads: "<RFC3339Nano time> <stream> <F|P> <content>", one line per
// line of output (P marks a partial line split at 16 KiB).
func Run(args []string) int {
	var path string
	for i := 0; i < len(args)-1; i++ {
		if args[i] == "--log-path" {
			path = args[i+1]
		}
	}
	ready := os.NewFile(5, "ready")
	if path == "" {
		fmt.Fprintln(os.Stderr, "podsim logger: --log-path missing")
		return 2
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "podsim logger:", err)
		return 1
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		fmt.Fprintln(os.Stderr, "podsim logger:", err)
		return 1
	}
	defer f.Close()
	w := &Writer{W: f}
	var wg sync.WaitGroup
	for _, s := range []struct {
		fd   uintptr
		name string
	}{{3, "stdout"}, {4, "stderr"}} {
		r := os.NewFile(s.fd, s.name)
		if r == nil {
			continue
		}
		wg.Add(1)
		go func(r io.ReadCloser, stream string) {
			defer wg.Done()
			defer r.Close()
			w.copy(r, stream)
		}(r, s.name)
	}
	// Closing fd 5 tells the shim the logger is ready to receive output.
	if ready != nil {
		ready.Close()
	}
	wg.Wait()
	return 0
}

const maxLogLine = 16 * 1024

// Writer writes CRI log lines; safe for concurrent streams.
type Writer struct {
	mu sync.Mutex
	W  io.Writer
}

func (c *Writer) copy(r io.Reader, stream string) {
	br := bufio.NewReaderSize(r, maxLogLine)
	for {
		line, isPrefix, err := br.ReadLine()
		if len(line) > 0 || (err == nil && !isPrefix) {
			tag := "F"
			if isPrefix {
				tag = "P"
			}
			c.WriteLine(stream, tag, line)
		}
		if err != nil {
			return
		}
	}
}

// WriteLine writes one line of a stream ("stdout"/"stderr"), tag F (full) or P (partial).
func (c *Writer) WriteLine(stream, tag string, line []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := time.Now().UTC().Format(time.RFC3339Nano)
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
