package sandbox

import (
	"context"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestProbeWorkerStopsOnTermination is kubelet's worker on a pod being
// deleted: once teardown's marker exists, liveness and startup workers end
// without probing (no restart while the pod is stopped, no exec racing the
// kill), and readiness goes on probing.
func TestProbeWorkerStopsOnTermination(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	m := &Manager{paths: Paths{Run: dir, State: dir}}
	p := newProber(context.Background(), m, t.Logf)
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(port))}}}
	spec := &corev1.Container{Name: "app", LivenessProbe: probe, ReadinessProbe: probe, StartupProbe: probe}
	rec := &Record{ID: "p1", IP: "127.0.0.1"}
	// Liveness and readiness as after the startup probe succeeded; the
	// startup worker as before it did.
	worker := func(pt ProbeType) *probeWorker {
		w := newProbeWorker(p, rec, spec, pt, "p1-app", nil, nil, time.Now())
		w.hasStartup = pt == StartupProbe
		return w
	}
	// waitConns waits for n connections in all: a probe's dial returns
	// before the listener's goroutine has counted it.
	waitConns := func(n int32) int32 {
		for i := 0; i < 200 && conns.Load() < n; i++ {
			time.Sleep(5 * time.Millisecond)
		}
		return conns.Load()
	}
	ctx := context.Background()
	if !worker(LivenessProbe).doProbe(ctx) || waitConns(1) != 1 {
		t.Fatalf("before teardown: the liveness worker must probe and go on (connections %d)", conns.Load())
	}
	if !worker(StartupProbe).doProbe(ctx) || waitConns(2) != 2 {
		t.Fatalf("before teardown: the startup worker must probe (connections %d)", conns.Load())
	}
	if err := os.MkdirAll(m.paths.podRun(rec.ID), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(m.paths.terminatingFile(rec.ID), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if worker(LivenessProbe).doProbe(ctx) {
		t.Error("terminating: the liveness worker must end")
	}
	if worker(StartupProbe).doProbe(ctx) {
		t.Error("terminating: the startup worker must end")
	}
	if n := waitConns(3); n != 2 {
		t.Errorf("terminating: liveness/startup probed anyway (%d connections, want 2)", n)
	}
	if !worker(ReadinessProbe).doProbe(ctx) || waitConns(3) != 3 {
		t.Errorf("terminating: readiness must go on probing (connections %d, want 3)", conns.Load())
	}
}
