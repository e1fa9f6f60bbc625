package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
)

// execIn runs cmd in a container through the API server's pods/exec
// subresource, which the kubelet serves by proxying the CRI's streaming
// server (kubectl exec's path): WebSocket first, SPDY for older servers.
// code is the command's exit code; err is set when it could not run.
func (c *Cluster) execIn(ctx context.Context, ns, pod, container string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	req := c.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: cmd, Stdin: stdin != nil, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(c.cfg, "GET", req.URL().String())
	if err != nil {
		return -1, err
	}
	spdy, err := remotecommand.NewSPDYExecutor(c.cfg, "POST", req.URL())
	if err != nil {
		return -1, err
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return -1, err
	}
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: stdout, Stderr: stderr})
	var exitErr utilexec.ExitError
	if errors.As(err, &exitErr) && exitErr.Exited() {
		return exitErr.ExitStatus(), nil
	}
	if err != nil {
		return -1, fmt.Errorf("exec in %s/%s -c %s: %w", ns, pod, container, err)
	}
	return 0, nil
}

// syncBuffer is a bytes.Buffer safe for the two stream goroutines.
type syncBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.String()
}

func (b *Backend) Exec(ctx context.Context, pod, container string, cmd []string) (string, int, error) {
	out := newSyncBuffer()
	code, err := b.c.execIn(ctx, b.ns, pod, container, cmd, nil, out, out)
	return out.String(), code, err
}

func (b *Backend) ExecLine(pod, container string, cmd []string) string {
	return fmt.Sprintf("kubectl exec -n %s %s -c %s -- %s", b.ns, pod, container, shellJoin(cmd))
}

// Background runs cmd over an exec stream kept open until stop. Closing
// the stream does not end the process in the container (as with kubectl
// exec); it ends with the pod, which Finish deletes.
func (b *Backend) Background(ctx context.Context, pod, container string, cmd []string) (func(), error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	started := make(chan error, 1)
	go func() {
		defer close(done)
		_, err := b.c.execIn(ctx, b.ns, pod, container, cmd, nil, io.Discard, io.Discard)
		started <- err
	}()
	// An exec that fails at once (no such container) is an error here.
	select {
	case err := <-started:
		cancel()
		if err != nil {
			return nil, err
		}
		return func() {}, nil
	case <-time.After(300 * time.Millisecond):
	}
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}
	b.bg = append(b.bg, stop)
	return stop, nil
}

// Client runs a one-off pod like `kubectl run -i --rm --restart=Never`:
// it waits for the container to end and returns its log and exit code.
func (b *Backend) Client(ctx context.Context, name, image string, args []string) (string, int, string) {
	line := fmt.Sprintf("kubectl run -n %s -i --rm --restart=Never --image=%s %s -- %s", b.ns, image, name, shellJoin(args))
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: b.ns, Labels: map[string]string{"run": name}},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, NodeName: b.c.node,
			Containers: []corev1.Container{{Name: name, Image: image, Args: args, ImagePullPolicy: b.c.opts.PullPolicy}}},
	}
	pods := b.c.cs.CoreV1().Pods(b.ns)
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return "client pod failed: " + err.Error(), -1, line
	}
	grace := int64(0)
	defer func() {
		_ = pods.Delete(context.WithoutCancel(ctx), name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
		_ = poll(context.WithoutCancel(ctx), 30*time.Second, func() (bool, error) {
			_, err := pods.Get(ctx, name, metav1.GetOptions{})
			return err != nil, nil
		})
	}()
	var term *corev1.ContainerStateTerminated
	err := poll(ctx, b.c.opts.Timeout, func() (bool, error) {
		p, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, s := range p.Status.ContainerStatuses {
			term = s.State.Terminated
		}
		if _, err := podUp(p); err != nil {
			return false, err
		}
		return term != nil, nil
	})
	logs, _ := b.Logs(ctx, name, name)
	if err != nil {
		return logs + "client pod failed: " + err.Error(), -1, line
	}
	return logs, int(term.ExitCode), line
}

func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"|&;<>()$*?\\") {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		} else {
			out[i] = a
		}
	}
	return strings.Join(out, " ")
}
