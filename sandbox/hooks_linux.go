package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	corev1 "k8s.io/api/core/v1"
)

// Container lifecycle hooks, as kubelet's pkg/kubelet/lifecycle/handlers.go
// runs them (HandlerRunner.Run): exec runs a command in the container
// (a new process in all of its namespaces and cgroup, as `kubectl exec`),
// httpGet is an HTTP request from the node to the pod's IP (kubelet's own
// network namespace, not the pod's), sleep just waits. postStart runs right
// after StartContainer and before the next container starts
// (kuberuntime_container.go startContainer); preStop runs before SIGTERM,
// inside the grace period (killContainer).

// hookOutputMax bounds what a failing exec hook's output adds to its event.
const hookOutputMax = 1024

// runHook runs one handler for container c of the pod; the error says why
// it failed (a command's exit code and output, an HTTP error).
func (m *Manager) runHook(ctx context.Context, rec *Record, c *corev1.Container, ctr containerd.Container, task containerd.Task, h *corev1.LifecycleHandler) error {
	switch {
	case h.Exec != nil:
		return execHook(ctx, ctr, task, h.Exec.Command)
	case h.HTTPGet != nil:
		return httpHook(ctx, rec.IP, c, h.HTTPGet)
	case h.Sleep != nil:
		select {
		case <-time.After(time.Duration(h.Sleep.Seconds) * time.Second):
		case <-ctx.Done():
		}
		return nil
	}
	return fmt.Errorf("the hook has no exec, httpGet or sleep action")
}

// execHook runs cmd in the container's task with the container's process
// settings (user, env, cwd, capabilities), like an exec probe.
func execHook(ctx context.Context, ctr containerd.Container, task containerd.Task, cmd []string) error {
	spec, err := ctr.Spec(ctx)
	if err != nil {
		return fmt.Errorf("reading the container's spec: %w", err)
	}
	pspec := *spec.Process
	pspec.Args, pspec.Terminal = cmd, false
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	var out bytes.Buffer
	lw := &lockedWriter{w: &out}
	proc, err := task.Exec(ctx, "hook-"+hex.EncodeToString(b), &pspec, cio.NewCreator(cio.WithStreams(strings.NewReader(""), lw, lw)))
	if err != nil {
		return fmt.Errorf("exec %q: %w", strings.Join(cmd, " "), err)
	}
	defer proc.Delete(context.WithoutCancel(ctx))
	exitCh, err := proc.Wait(ctx)
	if err != nil {
		return err
	}
	if err := proc.Start(ctx); err != nil {
		return fmt.Errorf("exec %q: %w", strings.Join(cmd, " "), err)
	}
	select {
	case st := <-exitCh:
		code, _, err := st.Result()
		if pio := proc.IO(); pio != nil {
			pio.Wait()
		}
		if err != nil {
			return err
		}
		if code != 0 {
			o := out.String()
			if len(o) > hookOutputMax {
				o = o[len(o)-hookOutputMax:]
			}
			return fmt.Errorf("command %q exited with %d: %s", strings.Join(cmd, " "), code, strings.TrimSpace(o))
		}
		return nil
	case <-ctx.Done():
		kctx := context.WithoutCancel(ctx)
		_ = proc.Kill(kctx, syscall.SIGKILL)
		select {
		case <-exitCh:
		case <-time.After(5 * time.Second):
		}
		return fmt.Errorf("command %q did not finish in time: %w", strings.Join(cmd, " "), ctx.Err())
	}
}

// httpHook sends the GET kubelet sends: to the pod's IP (podsim refuses
// another host), the port by number or by the container's port name,
// https without verifying the certificate, the user's headers. As in
// kubelet, only a failed request fails the hook, not the status code.
func httpHook(ctx context.Context, podIP string, c *corev1.Container, g *corev1.HTTPGetAction) error {
	port, err := resolvePort(g.Port, c)
	if err != nil {
		return err
	}
	scheme := "http"
	if g.Scheme == corev1.URISchemeHTTPS {
		scheme = "https"
	}
	path := g.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(podIP, strconv.Itoa(port)), path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "kube-lifecycle/podsim")
	for _, h := range g.HTTPHeaders {
		if strings.EqualFold(h.Name, "Host") {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // kubelet does not verify hook targets either
		Proxy:           nil,                                   // never through a proxy: the pod's IP is local
	}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("http GET %s: %w", url, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return nil
}

// postStart runs a container's postStart hook right after its start, as
// kubelet's startContainer does: a failure is a FailedPostStartHook event,
// and the container is killed (with its preStop hook and grace period), so
// that its restartPolicy decides what happens next.
func (m *Manager) postStart(ctx context.Context, rec *Record, cc *createdContainer) {
	c := cc.c
	if c.Lifecycle == nil || c.Lifecycle.PostStart == nil {
		return
	}
	ctr, err := m.client.LoadContainer(ctx, cc.id)
	if err == nil {
		err = m.runHook(ctx, rec, c, ctr, cc.task, c.Lifecycle.PostStart)
	}
	if err == nil {
		return
	}
	msg := fmt.Sprintf("PostStartHook failed: %v", err)
	m.Eventf(rec.ID, EventWarning, "FailedPostStartHook", rec.ContainerFieldPath(c.Name), "%s", msg)
	if ctr == nil {
		return
	}
	if kerr := m.killContainer(ctx, rec, c, ctr, cc.task, GracePeriod(&rec.Pod), nil, "FailedPostStartHook"); kerr != nil {
		m.warn(fmt.Sprintf("pod %s: killing container %s after its postStart hook failed: %v", rec.Pod.Name, c.Name, kerr))
	}
}
