package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
)

// execProbe is kubelet's exec handler through CRI's ExecSync: the command
// runs as a new process in all of the container's namespaces and cgroup
// (containerd's task exec, runc exec underneath), with the container's
// environment and user; exit 0 is success. Its combined stdout and stderr
// (at most 10 KiB) is the output. A command still running after timeout is
// killed and the probe fails, as kubelet does since timeouts of exec
// probes are honoured (1.20).
func execProbe(ctx context.Context, c containerd.Container, task containerd.Task, cmd []string, timeout time.Duration) (ProbeResult, string, error) {
	spec, err := c.Spec(ctx)
	if err != nil {
		return ProbeUnknown, "", fmt.Errorf("reading spec of %s: %w", c.ID(), err)
	}
	pspec := *spec.Process
	pspec.Args, pspec.Terminal = cmd, false
	out := &limitedBuffer{max: maxProbeOutput}
	lw := &lockedWriter{w: out}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	proc, err := task.Exec(ctx, "probe-"+hex.EncodeToString(b), &pspec, cio.NewCreator(cio.WithStreams(strings.NewReader(""), lw, lw)))
	if err != nil {
		return ProbeUnknown, "", fmt.Errorf("exec probe in %s: %w", c.ID(), err)
	}
	kctx := context.WithoutCancel(ctx)
	defer proc.Delete(kctx, containerd.WithProcessKill)
	exitCh, err := proc.Wait(kctx)
	if err != nil {
		return ProbeUnknown, "", err
	}
	if err := proc.Start(ctx); err != nil {
		// runc could not start it (no such file, not executable): the
		// probe ran and failed, as kubelet reports it.
		return ProbeFailure, err.Error(), nil
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case st := <-exitCh:
		code, _, err := st.Result()
		if pio := proc.IO(); pio != nil {
			pio.Wait()
		}
		if err != nil {
			return ProbeUnknown, "", err
		}
		if code != 0 {
			return ProbeFailure, out.String(), nil
		}
		return ProbeSuccess, out.String(), nil
	case <-timer.C:
	case <-ctx.Done():
	}
	_ = proc.Kill(kctx, syscall.SIGKILL)
	select {
	case <-exitCh:
	case <-time.After(5 * time.Second):
	}
	if ctx.Err() != nil {
		return ProbeUnknown, "", ctx.Err()
	}
	return ProbeFailure, fmt.Sprintf("command %q timed out", strings.Join(cmd, " ")), nil
}

// limitedBuffer keeps the first max bytes written to it and drops the rest.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}
