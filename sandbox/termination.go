package sandbox

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
)

// The termination message, as kubelet's getTerminationMessage and
// readLastStringFromContainerLogs (kuberuntime_container.go) make it: what
// the container wrote to its terminationMessagePath (a host file of the
// pod's directory, mounted there; at most 4096 bytes), or, under
// terminationMessagePolicy FallbackToLogsOnError when that is empty and
// the container failed, the end of its log: the last 80 lines, at most
// 2048 bytes.
const (
	maxTerminationMessage = 4096
	fallbackLogLines      = 80
	fallbackLogBytes      = 2048
)

// terminationMessage is the message of an exited container of the pod.
func (m *Manager) terminationMessage(r *Record, cs ContainerState) string {
	b, _ := readTail(filepath.Join(m.paths.podDir(r.ID), "containers", cs.Name, "termination-log"), maxTerminationMessage)
	if len(b) > 0 {
		return string(b)
	}
	c := specContainer(&r.Pod, cs.Name)
	if c == nil || c.TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError || cs.ExitCode == 0 {
		return ""
	}
	// The agent may still be copying the container's last lines.
	m.waitLogDrained(context.TODO(), r.ID, ContainerAttemptID(r.ID, cs.Name, r.container(cs.Name).RestartCount), logDrainWait)
	log, _ := readTail(r.logPath(cs.Name, r.container(cs.Name).RestartCount), 64*1024)
	return fallbackMessage(log)
}

// fallbackMessage is the content of the last lines of a CRI-format log:
// at most fallbackLogLines lines, then at most fallbackLogBytes bytes.
func fallbackMessage(log []byte) string {
	lines := bytes.SplitAfter(log, []byte("\n"))
	if n := len(lines); n > 0 && len(lines[n-1]) == 0 {
		lines = lines[:n-1]
	}
	if len(lines) > 0 && !bytes.HasSuffix(log, []byte("\n")) && len(log) == 64*1024 {
		lines = lines[1:] // the first line was cut by readTail
	}
	if len(lines) > fallbackLogLines {
		lines = lines[len(lines)-fallbackLogLines:]
	}
	var out bytes.Buffer
	for _, l := range lines {
		writeCRILine(&out, l, false)
	}
	b := out.Bytes()
	if len(b) > fallbackLogBytes {
		b = b[len(b)-fallbackLogBytes:]
	}
	return string(b)
}

// readTail reads at most the last n bytes of a file.
func readTail(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > n {
		if _, err := f.Seek(st.Size()-n, io.SeekStart); err != nil {
			return nil, err
		}
	}
	return io.ReadAll(io.LimitReader(f, n))
}
