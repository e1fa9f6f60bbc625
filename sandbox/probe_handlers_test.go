package sandbox

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func hostPort(t *testing.T, raw string) (string, int) {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(u.Port())
	return u.Hostname(), p
}

// TestHTTPProbe runs the httpGet handler against servers on loopback:
// kubelet's 200-399 rule, headers (Host among them), HTTPS without
// certificate checks, a redirect to another host not followed, timeouts.
func TestHTTPProbe(t *testing.T) {
	var gotHost, gotUA, gotX string
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Probe") != "" {
			gotHost, gotUA, gotX = r.Host, r.UserAgent(), r.Header.Get("X-Probe")
		}
		w.Write([]byte("fine"))
	})
	mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://elsewhere.invalid/", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) { time.Sleep(2 * time.Second) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tlsSrv := httptest.NewTLSServer(mux)
	defer tlsSrv.Close()
	host, port := hostPort(t, srv.URL)
	tlsHost, tlsPort := hostPort(t, tlsSrv.URL)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		g    corev1.HTTPGetAction
		host string
		port int
		want ProbeResult
		out  string
	}{
		{"200", corev1.HTTPGetAction{Path: "/ok", HTTPHeaders: []corev1.HTTPHeader{{Name: "Host", Value: "web.example"}, {Name: "X-Probe", Value: "1"}}}, host, port, ProbeSuccess, "fine"},
		{"503", corev1.HTTPGetAction{Path: "/bad"}, host, port, ProbeFailure, "statuscode: 503"},
		{"redirect away", corev1.HTTPGetAction{Path: "/away"}, host, port, ProbeSuccess, ""},
		{"https self-signed", corev1.HTTPGetAction{Path: "ok", Scheme: corev1.URISchemeHTTPS}, tlsHost, tlsPort, ProbeSuccess, "fine"},
		{"timeout", corev1.HTTPGetAction{Path: "/slow"}, host, port, ProbeFailure, "deadline exceeded"},
		{"refused", corev1.HTTPGetAction{Path: "/"}, "127.0.0.1", 1, ProbeFailure, "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, out, err := httpProbe(ctx, nil, &tc.g, tc.host, tc.port, 500*time.Millisecond)
			if err != nil || res != tc.want || !strings.Contains(out, tc.out) {
				t.Errorf("got %v %q %v, want %v with %q", res, out, err, tc.want, tc.out)
			}
		})
	}
	if gotHost != "web.example" || gotX != "1" || gotUA != probeUserAgent {
		t.Errorf("server saw Host %q, X-Probe %q, User-Agent %q", gotHost, gotX, gotUA)
	}
}

func TestTCPProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if res, out, _ := tcpProbe(context.Background(), "127.0.0.1", port, time.Second); res != ProbeSuccess {
		t.Errorf("listening port: %v %q", res, out)
	}
	l.Close()
	if res, _, _ := tcpProbe(context.Background(), "127.0.0.1", port, time.Second); res != ProbeFailure {
		t.Errorf("closed port: %v, want Failure", res)
	}
}

// TestGRPCProbe runs the grpc handler against grpc-go's own health server
// in the test process (no podsim image serves grpc.health.v1): SERVING is
// success, NOT_SERVING and an unknown service are failures, and so is a
// port where nothing listens.
func TestGRPCProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("ok", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("down", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(l)
	defer srv.Stop()
	port := l.Addr().(*net.TCPAddr).Port
	ctx := context.Background()
	for _, tc := range []struct {
		service string
		want    ProbeResult
		out     string
	}{
		{"", ProbeSuccess, "healthy"}, {"ok", ProbeSuccess, "healthy"},
		{"down", ProbeFailure, "NOT_SERVING"}, {"nope", ProbeFailure, "NotFound"},
	} {
		res, out, err := grpcProbe(ctx, "127.0.0.1", port, tc.service, 2*time.Second)
		if err != nil || res != tc.want || !strings.Contains(out, tc.out) {
			t.Errorf("service %q: %v %q %v, want %v with %q", tc.service, res, out, err, tc.want, tc.out)
		}
	}
	svc := "ok"
	p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: int32(port), Service: &svc}}}
	if res, _, ok, _ := networkProbe(ctx, nil, p, &corev1.Container{}, "127.0.0.1", 2*time.Second); !ok || res != ProbeSuccess {
		t.Errorf("networkProbe grpc: %v", res)
	}
	srv.Stop()
	if res, _, _ := grpcProbe(ctx, "127.0.0.1", port, "", 300*time.Millisecond); res != ProbeFailure {
		t.Errorf("stopped server: %v, want Failure", res)
	}
}

func TestNetworkProbeNamedPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := &corev1.Container{Name: "a", Ports: []corev1.ContainerPort{{Name: "svc", ContainerPort: int32(l.Addr().(*net.TCPAddr).Port)}}}
	p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("svc")}}}
	if res, out, ok, err := networkProbe(context.Background(), nil, p, c, "127.0.0.1", time.Second); !ok || err != nil || res != ProbeSuccess {
		t.Errorf("named port: %v %q %v %v", res, out, ok, err)
	}
	exec := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
	if _, _, ok, _ := networkProbe(context.Background(), nil, exec, c, "127.0.0.1", time.Second); ok {
		t.Error("exec is not a network probe")
	}
}
