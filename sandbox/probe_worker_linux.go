package sandbox

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/containerd/containerd"
	corev1 "k8s.io/api/core/v1"
)

// probeWorker is kubelet's prober worker (worker.go) for one probe of one
// container attempt: it sleeps until initialDelaySeconds after the
// container started, then runs the probe every periodSeconds, holding
// liveness and readiness back until the startup probe succeeded. Between
// runs it is a goroutine parked on a timer: no CPU.
type probeWorker struct {
	p          *prober
	podID, cid string
	name       string
	t          ProbeType
	pod        *corev1.Pod
	spec       *corev1.Container
	probe      *corev1.Probe
	ip         string
	fieldPath  string
	tm         probeTimings
	startedAt  time.Time
	c          containerd.Container
	task       containerd.Task
	run        probeRun
	cancel     context.CancelFunc
	hasStartup bool
}

func newProbeWorker(p *prober, rec *Record, spec *corev1.Container, t ProbeType, cid string, c containerd.Container, task containerd.Task, started time.Time) *probeWorker {
	pr := probeOf(spec, t)
	return &probeWorker{p: p, podID: rec.ID, cid: cid, name: spec.Name, t: t, pod: &rec.Pod, spec: spec, probe: pr,
		ip: rec.IP, fieldPath: rec.ContainerFieldPath(spec.Name), tm: timingsOf(pr), startedAt: started,
		c: c, task: task, run: probeRun{Last: initialResult(t)}, hasStartup: spec.StartupProbe != nil,
		cancel: func() {}}
}

// loop runs the probe on its timer until the worker is stopped (its
// container exited, the agent ends) or it has nothing left to do (the
// startup probe succeeded; a liveness or startup failure was acted on).
func (w *probeWorker) loop(ctx context.Context) {
	defer w.cancel()
	timer := time.NewTimer(max(time.Until(w.startedAt.Add(w.tm.InitialDelay)), 0))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if !w.doProbe(ctx) {
			return
		}
		timer.Reset(w.tm.Period)
	}
}

// doProbe is one round, kubelet's worker.doProbe; false ends the worker.
func (w *probeWorker) doProbe(ctx context.Context) bool {
	if w.t != ReadinessProbe && w.p.m.terminating(w.podID) {
		// kubelet's worker: "Pod deletion requested", liveness and
		// startup probing stop; readiness goes on until the container exits.
		return false
	}
	started := w.p.started(w.podID, w.name, w.cid, w.hasStartup)
	if !probeGates(w.t, started) {
		return w.t != StartupProbe // a started container needs no startup probe any more
	}
	res, out, err := w.runHandler(ctx)
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		w.p.m.Eventf(w.podID, EventWarning, "Unhealthy", w.fieldPath, "%s probe errored: %v", w.t, err)
		return true
	}
	if res == ProbeFailure {
		w.p.m.Eventf(w.podID, EventWarning, "Unhealthy", w.fieldPath, "%s probe failed: %s", w.t, strings.TrimSpace(out))
	}
	next, set := w.run.next(w.t, w.tm, res)
	w.run = next
	if !set {
		return true
	}
	w.p.setResult(w, res)
	if res == ProbeFailure && w.t != ReadinessProbe {
		w.kill(ctx)
		return false // on hold: the next attempt gets new workers
	}
	return true
}

// runHandler runs the probe's handler with its timeout.
func (w *probeWorker) runHandler(ctx context.Context) (ProbeResult, string, error) {
	if w.probe.Exec != nil {
		return execProbe(ctx, w.c, w.task, w.probe.Exec.Command, w.tm.Timeout)
	}
	res, out, _, err := networkProbe(ctx, w.p.transport, w.probe, w.spec, w.ip, w.tm.Timeout)
	return res, out, err
}

// kill stops a container that failed its liveness or startup probe, as
// kubelet's killContainer: a Killing event, SIGTERM, the grace period
// (the probe's terminationGracePeriodSeconds or the pod's), SIGKILL. The
// exit that follows reaches the agent like any other: SyncPod records the
// last state and restarts the container if the restartPolicy says so.
func (w *probeWorker) kill(ctx context.Context) {
	w.p.m.Eventf(w.podID, EventNormal, "Killing", w.fieldPath, "%s", killMessage(w.pod, w.name, w.t))
	if err := stopTask(ctx, w.task, killGrace(w.pod, w.probe), nil); err != nil {
		w.p.logf("pod %s: killing container %s after its failed %s probe: %v", w.pod.Name, w.name, strings.ToLower(string(w.t)), err)
		return
	}
	w.p.logf("pod %s: killed container %s: %s", w.pod.Name, w.name, killMessage(w.pod, w.name, w.t))
}

// terminating reports whether pod id's teardown began (its marker exists).
func (m *Manager) terminating(id string) bool {
	_, err := os.Stat(m.paths.terminatingFile(id))
	return err == nil
}
