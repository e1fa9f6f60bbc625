package sandbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
)

// The network probe handlers, kubelet's pkg/probe/{http,tcp,grpc}. kubelet
// runs them from the node, in the host's network namespace, against the
// pod's IP (a hostNetwork pod's IP is the node's); so does podsim's agent,
// over the connected route of podsim's bridge. Each returns the result, the
// output kubelet puts into the Unhealthy event, and an error only when the
// probe could not be run at all (kubelet's probe.Unknown).

// probeUserAgent is what kubelet sends ("kube-probe/<major>.<minor>").
const probeUserAgent = "kube-probe/1.30"

// maxProbeOutput bounds what is kept of a response body or command output,
// as kubelet's 10 KiB limit.
const maxProbeOutput = 10 * 1024

// httpProbe is kubelet's httpGet handler: a GET to scheme://host:port/path
// with the probe's headers; TLS certificates are not verified; a redirect
// to another host is not followed; a status of 200-399 is success.
// rt is the prober's transport (nil: a new one), shared by its workers as
// kubelet's prober shares one.
func httpProbe(ctx context.Context, rt http.RoundTripper, g *corev1.HTTPGetAction, host string, port int, timeout time.Duration) (ProbeResult, string, error) {
	scheme := strings.ToLower(string(g.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	if g.Host != "" {
		host = g.Host
	}
	path := g.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u, err := url.Parse(scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + path)
	if err != nil {
		return ProbeUnknown, "", fmt.Errorf("probe URL: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return ProbeUnknown, "", err
	}
	req.Header.Set("User-Agent", probeUserAgent)
	req.Header.Set("Accept", "*/*")
	for _, h := range g.HTTPHeaders {
		if strings.EqualFold(h.Name, "Host") {
			req.Host = h.Value
			continue
		}
		req.Header.Set(h.Name, h.Value)
	}
	if rt == nil {
		rt = newProbeTransport()
	}
	client := &http.Client{
		Transport: rt,
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if r.URL.Hostname() != via[0].URL.Hostname() || len(via) >= 10 {
				return http.ErrUseLastResponse // the 3xx itself is the answer
			}
			return nil
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return ProbeFailure, err.Error(), nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxProbeOutput))
	if resp.StatusCode >= http.StatusOK && resp.StatusCode < http.StatusBadRequest {
		return ProbeSuccess, string(body), nil
	}
	return ProbeFailure, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode), nil
}

// newProbeTransport is kubelet's probe transport: no certificate checks,
// no proxy, one connection per probe (closed after it), no compression.
func newProbeTransport() *http.Transport {
	return &http.Transport{
		TLSClientConfig:    &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // kubelet does not verify probe certificates
		DisableKeepAlives:  true,
		DisableCompression: true,
		Proxy:              nil,
	}
}

// tcpProbe is kubelet's tcpSocket handler: success when a TCP connection
// opens within the timeout (it is closed at once).
func tcpProbe(ctx context.Context, host string, port int, timeout time.Duration) (ProbeResult, string, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return ProbeFailure, err.Error(), nil
	}
	_ = conn.Close()
	return ProbeSuccess, "", nil
}

// grpcProbe is kubelet's grpc handler: grpc.health.v1.Health/Check for the
// probe's service over a plaintext connection; SERVING is success.
func grpcProbe(ctx context.Context, host string, port int, service string, timeout time.Duration) (ProbeResult, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	conn, err := grpc.DialContext(ctx, addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUserAgent(probeUserAgent), grpc.WithBlock())
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return ProbeFailure, fmt.Sprintf("timeout: failed to connect service %q within %v", addr, timeout), nil
		}
		return ProbeFailure, fmt.Sprintf("error: failed to connect service at %q: %v", addr, err), nil
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		st, _ := status.FromError(err)
		switch st.Code() {
		case codes.Unimplemented:
			return ProbeFailure, fmt.Sprintf("error: this server does not implement the grpc health protocol (grpc.health.v1.Health): %s", st.Message()), nil
		case codes.DeadlineExceeded:
			return ProbeFailure, fmt.Sprintf("timeout: health rpc did not complete within %v", timeout), nil
		}
		return ProbeFailure, fmt.Sprintf("error: health rpc probe failed: %v", err), nil
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return ProbeFailure, fmt.Sprintf("service unhealthy (responded with %q)", resp.GetStatus().String()), nil
	}
	return ProbeSuccess, "service is healthy", nil
}

// networkProbe runs a container's httpGet, tcpSocket or grpc probe against
// ip (the pod's); ok is false for an exec probe.
func networkProbe(ctx context.Context, rt http.RoundTripper, p *corev1.Probe, c *corev1.Container, ip string, timeout time.Duration) (res ProbeResult, out string, ok bool, err error) {
	h := p.ProbeHandler
	switch {
	case h.HTTPGet != nil:
		port, err := probePort(h.HTTPGet.Port, c)
		if err != nil {
			return ProbeUnknown, "", true, err
		}
		res, out, err = httpProbe(ctx, rt, h.HTTPGet, ip, port, timeout)
		return res, out, true, err
	case h.TCPSocket != nil:
		port, err := probePort(h.TCPSocket.Port, c)
		if err != nil {
			return ProbeUnknown, "", true, err
		}
		host := ip
		if h.TCPSocket.Host != "" {
			host = h.TCPSocket.Host
		}
		res, out, err = tcpProbe(ctx, host, port, timeout)
		return res, out, true, err
	case h.GRPC != nil:
		svc := ""
		if h.GRPC.Service != nil {
			svc = *h.GRPC.Service
		}
		res, out, err = grpcProbe(ctx, ip, int(h.GRPC.Port), svc, timeout)
		return res, out, true, err
	}
	return ProbeUnknown, "", false, nil
}
