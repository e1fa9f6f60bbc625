package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	corev1 "k8s.io/api/core/v1"
)

// ErrSyncSkipped means the agent left a pod alone: deleted meanwhile,
// still being built by a podsim command, or in a state it does not repair
// yet (a lost sandbox, a failed init container).
var ErrSyncSkipped = errors.New("pod not synced")

// errPodGone is the ErrSyncSkipped of a pod without a record (deleted):
// its pod worker ends.
var errPodGone = errors.New("pod deleted")

// SyncPod is one round of the node agent for a built pod, kubelet's
// podWorkers → SyncPod for a running pod:
//
//	Step 1: under the host pod lock, re-read the record (a pod deleted
//	        meanwhile is skipped, one still being built is tried again
//	        shortly) and observe its containers in containerd.
//	Step 2: ComputePodActions with the clock and the back-off policy; a
//	        pod past its activeDeadlineSeconds is failed and its
//	        containers stopped (failPod).
//	Step 3: a container still backing off: record CrashLoopBackOff and
//	        its deadline; the agent wakes the pod then (WakeAt is returned).
//	Step 4: containers to (re)start — the next init container or sidecar,
//	        failed init containers and exited sidecars, app containers:
//	        record each restart (count, last state, back-off) before
//	        acting, then createContainer + startContainer a new attempt in
//	        the same sandbox (same netns, IP, volumes). An init container
//	        is not waited for: its exit is the next event.
//	Step 5: the app containers are done for good: stop the sidecars, last
//	        first, each with its preStop hook.
//	Step 6: remove exited attempts that are not current (their logs stay:
//	        the previous one is what `logs --previous` reads).
func (m *Manager) SyncPod(ctx context.Context, id string, pol BackoffPolicy) (time.Time, error) {
	// Step 1.
	unlock, err := m.lock(ctx)
	if err != nil {
		return time.Time{}, err
	}
	hl := &heldLock{m: m, unlock: unlock} // a rebuild lets go while init containers run
	defer hl.release()
	rec, err := m.loadRecord(id)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: pod %s has no record (%w)", ErrSyncSkipped, id, errPodGone)
	}
	if !rec.Built {
		// An exit or start while createPod builds it: look again soon
		// (createPod lets the lock go while an init container runs).
		return time.Now().Add(buildingRetry), fmt.Errorf("%w: pod %s is being built", ErrSyncSkipped, rec.Name())
	}
	ps := m.state(ctx, rec)
	if why := m.sandboxInFlux(rec, ps); why != "" {
		// containerd is cleaning up after a shim that died: restarting
		// containers into that sandbox would race its cleanup. Its exits
		// come next; look again soon in any case.
		return time.Now().Add(sandboxSettleRetry), fmt.Errorf("%w: pod %s: %s", ErrSyncSkipped, rec.Name(), why)
	}
	now := time.Now()
	obs := observe(ps, now, pol)
	if !obs.Terminal && obs.anyRunning() && len(diskEmptyDirLimits(&rec.Pod)) > 0 {
		// The eviction manager's measure walks the volumes: without the
		// host lock, which every other podsim command waits for.
		if err := m.whileUnlocked(ctx, hl, rec, func() error {
			obs.EmptyDirOver = m.emptyDirOverLimit(rec)
			return nil
		}); err != nil {
			return time.Time{}, err
		}
	}
	// Step 2.
	a := ComputePodActions(&rec.Pod, obs)
	switch {
	case a.KillPod != "":
		return time.Time{}, m.failPod(ctx, hl, rec, a.KillPod, a.KillMessage)
	case rec.Reason == "" && needsRebuild(rec, ps, a):
		return time.Time{}, m.rebuildSandbox(ctx, hl, rec)
	case a.CreateSandbox:
		return time.Time{}, fmt.Errorf("%w: pod %s: its sandbox is gone and its policy restarts nothing", ErrSyncSkipped, rec.Name())
	case a.InitFailed != "":
		return time.Time{}, m.recordInitFailed(rec, a.InitFailed, obs)
	}
	// Step 3.
	changed := m.recordBackoffs(rec, ps, pol, obs, a)
	// Step 4.
	if a.NextInit >= 0 || len(a.RestartInit)+len(a.Start)+len(a.Restart) > 0 {
		m.recordRestarts(rec, ps, pol, obs, now, a)
		if err := m.saveRecord(rec); err != nil {
			return time.Time{}, err
		}
		crashPoint("restart") // the agent killed mid-restart (reliability test)
		changed = false
		inits := a.RestartInit
		if a.NextInit >= 0 {
			inits = append(append([]int{}, inits...), a.NextInit)
		}
		if err := m.startAttempts(ctx, hl, rec, inits, append(append([]int{}, a.Start...), a.Restart...)); err != nil {
			return a.WakeAt, err
		}
	}
	if changed {
		if err := m.saveRecord(rec); err != nil {
			return time.Time{}, err
		}
	}
	// Step 5.
	var errs []error
	if len(a.StopSidecars) > 0 {
		var cs []*corev1.Container
		for _, i := range a.StopSidecars {
			cs = append(cs, &rec.Pod.Spec.InitContainers[i])
		}
		if err := m.whileUnlocked(ctx, hl, rec, func() error {
			return m.killRunning(ctx, rec, cs, "the pod's app containers completed")
		}); errors.Is(err, errPodGone) {
			return time.Time{}, err
		} else if err != nil {
			errs = append(errs, err)
		}
	}
	// Step 6.
	errs = append(errs, m.removeOldAttempts(ctx, rec))
	return a.WakeAt, errors.Join(errs...)
}

// buildingRetry is how soon the agent looks again at a pod that createPod
// is still building when one of its containers exited or started.
const buildingRetry = 500 * time.Millisecond

// sandboxSettleRetry is how soon the agent looks again at a pod whose
// sandbox containerd is still tearing down (sandboxInFlux).
const sandboxSettleRetry = 500 * time.Millisecond

// sandboxInFlux says why the pod's sandbox can be neither trusted nor
// replaced yet ("" when it can): containerd cannot say what its pause is
// (its shim does not answer), or the pod is a gVisor pod whose shim, which
// serves every container of the pod and the Sentry, has died while
// containerd still has the pause's task: containerd is running gVisor's
// cleanup (runsc delete) for each container, and restarting or rebuilding
// meanwhile races it (runsc's deletes then hang and leave the bundles).
// A cleanup that never ends is waited for sandboxSettleMax at most.
func (m *Manager) sandboxInFlux(rec *Record, ps *PodState) string {
	why := ""
	switch {
	case ps.Pause.Status == "unknown":
		why = "containerd cannot read its pause's state (its shim does not answer): waiting for containerd to clean it up"
	case rec.RuntimeHandler == HandlerRunsc && !allRunning(ps):
		// Only then: a dead shim shows as exits first, and a healthy pod's
		// syncs (probes, back-off timers) need no /proc scan.
		daemon, cleanup := gvisorShimState(rec.ID)
		switch {
		case cleanup:
			why = "its gVisor shim is gone and containerd is cleaning up its containers (gVisor's shim delete)"
		case !daemon && ps.Pause.Status != "missing" && ps.Pause.Status != "created":
			why = "its gVisor shim is gone: waiting for containerd to clean up the sandbox"
		}
	}
	m.fluxMu.Lock()
	defer m.fluxMu.Unlock()
	if why == "" {
		delete(m.fluxSince, rec.ID)
		return ""
	}
	if m.fluxSince == nil {
		m.fluxSince = map[string]time.Time{}
	}
	since, ok := m.fluxSince[rec.ID]
	if !ok {
		m.fluxSince[rec.ID] = time.Now()
	} else if time.Since(since) > sandboxSettleMax {
		return "" // act anyway: a rebuild reports what is in its way
	}
	return why
}

// allRunning says whether the pause and every app container run.
func allRunning(ps *PodState) bool {
	if ps.Pause.Status != "running" {
		return false
	}
	for _, c := range ps.Containers {
		if c.Status != "running" {
			return false
		}
	}
	return true
}

// sandboxSettleMax bounds the wait for containerd's cleanup of a sandbox.
const sandboxSettleMax = 30 * time.Second

// recordBackoffs records CrashLoopBackOff (its end and the last state) of
// the init and app containers waiting out their back-off; true if changed.
func (m *Manager) recordBackoffs(rec *Record, ps *PodState, pol BackoffPolicy, obs ObservedPod, a PodActions) bool {
	changed := false
	set := func(c *corev1.Container, cs ContainerState) {
		cr := rec.containerRecord(c.Name)
		if until := pol.until(obs.Containers[c.Name]); !cr.BackoffUntil.Equal(until) {
			cr.BackoffUntil, cr.LastTermination, changed = until, termination(cs), true
			m.backOffEvent(rec, c.Name)
		}
	}
	for _, i := range a.BackingOffInit {
		set(&rec.Pod.Spec.InitContainers[i], ps.Init[i])
	}
	for _, i := range a.BackingOff {
		set(&rec.Pod.Spec.Containers[i], ps.Containers[i])
	}
	return changed
}

// recordRestarts records, before acting, each restart the round makes:
// count, back-off entry and the last state (kubelet's lastState).
func (m *Manager) recordRestarts(rec *Record, ps *PodState, pol BackoffPolicy, obs ObservedPod, now time.Time, a PodActions) {
	set := func(c *corev1.Container, cs ContainerState) {
		cr := rec.containerRecord(c.Name)
		cr.Backoff, cr.LastRestart = pol.Next(obs.Containers[c.Name]), now
		cr.BackoffUntil = time.Time{}
		cr.LastTermination = termination(cs)
		cr.RestartCount++
	}
	for _, i := range a.RestartInit {
		set(&rec.Pod.Spec.InitContainers[i], ps.Init[i])
	}
	for _, i := range a.Restart {
		set(&rec.Pod.Spec.Containers[i], ps.Containers[i])
	}
}

// recordInitFailed marks the pod Init:Error for good (restartPolicy Never).
func (m *Manager) recordInitFailed(rec *Record, name string, obs ObservedPod) error {
	if rec.InitError != "" {
		return nil
	}
	rec.InitError = fmt.Sprintf("init container %s exited with %d", name, obs.Containers[name].ExitCode)
	return m.saveRecord(rec)
}

// failPod is kubelet's handling of a pod that fails for good on the node:
// its status becomes Failed with the reason and message (recorded first,
// so nothing is started again, also by an agent that restarts), a Warning
// event, then every container is stopped (sidecars last); the sandbox
// stays until the pod is deleted. DeadlineExceeded (activeDeadlineSeconds)
// stops as on deletion, preStop hooks and grace period; Evicted is
// kubelet's eviction manager, whose grace period override of 0 kubelet
// raises to 1 s: preStop hooks and SIGTERM get that second, then SIGKILL.
func (m *Manager) failPod(ctx context.Context, hl *heldLock, rec *Record, reason, message string) error {
	grace := GracePeriod(&rec.Pod)
	if reason == ReasonEvicted {
		// The eviction manager asks for a grace period of 0; kubelet's
		// pod workers never give less than 1 s (calculateEffectiveGracePeriod).
		grace = time.Second
	}
	rec.Reason, rec.Message = reason, message
	if err := m.saveRecord(rec); err != nil {
		return err
	}
	// As on deletion: the pod's liveness and startup probes stop, so none
	// restarts a container that is being stopped for good.
	_ = os.WriteFile(m.paths.terminatingFile(rec.ID), nil, 0o644)
	m.Eventf(rec.ID, EventWarning, reason, "", "%s", rec.Message)
	pc, err := m.podContainers(ctx, rec)
	if err != nil {
		return err
	}
	pc.pause = nil
	return m.whileUnlocked(ctx, hl, rec, func() error {
		return m.stopPodContainersInOrder(ctx, rec, pc, grace, nil)
	})
}

// observe turns the pod's live state and its record into ComputePodActions' input.
func observe(ps *PodState, now time.Time, pol BackoffPolicy) ObservedPod {
	obs := ObservedPod{SandboxReady: ps.Pause.Status == "running", Containers: map[string]ObservedContainer{}, Now: now, Policy: pol,
		StartTime: ps.Record.Created, Terminal: ps.Record.Reason != ""}
	add := func(c ContainerState) {
		o := ObservedContainer{}
		switch c.Status {
		case "missing":
			o.Phase = ContainerAbsent
		case "exited":
			o.Phase, o.ExitCode, o.FinishedAt = ContainerExited, int(c.ExitCode), c.Finished
		default: // running, created, unknown: leave it be
			o.Phase = ContainerRunning
		}
		cr := ps.Record.container(c.Name)
		o.Backoff, o.LastRestart = cr.Backoff, cr.LastRestart
		o.Started, o.Ready = c.HasStarted, c.Ready // the prober's verdicts (probe_status.go)
		obs.Containers[c.Name] = o
	}
	for _, c := range ps.Init {
		add(c)
	}
	for _, c := range ps.Containers {
		add(c)
	}
	return obs
}

func termination(c ContainerState) *Termination {
	return &Termination{ExitCode: int(c.ExitCode), Reason: c.Reason(), StartedAt: c.Started, FinishedAt: c.Finished, Message: c.Message}
}

// containerRecord returns the record's entry for a container, made if missing.
func (r *Record) containerRecord(name string) *ContainerRecord {
	if r.Containers == nil {
		r.Containers = map[string]*ContainerRecord{}
	}
	if r.Containers[name] == nil {
		r.Containers[name] = &ContainerRecord{}
	}
	return r.Containers[name]
}

// startAttempts creates and starts the current attempt of the given init
// containers (not waited for) and app containers in the pod's running
// sandbox, with what createPod had: the pause's namespaces, the pod's
// files and volume directories (not made again: an emptyDir keeps its
// contents), the images.
func (m *Manager) startAttempts(ctx context.Context, hl *heldLock, rec *Record, inits, apps []int) error {
	pause, err := m.client.LoadContainer(ctx, rec.ID)
	if err != nil {
		return fmt.Errorf("pod %s: loading its pause container: %w", rec.Pod.Name, err)
	}
	task, err := pause.Task(ctx, nil)
	if err != nil {
		return fmt.Errorf("pod %s: loading its pause task: %w", rec.Pod.Name, err)
	}
	imgs, err := m.pullImages(ctx, &rec.Pod)
	if err != nil {
		return err
	}
	vols := map[string]string{}
	for i := range rec.Pod.Spec.Volumes {
		v := &rec.Pod.Spec.Volumes[i]
		vols[v.Name] = m.volumeDir(rec.ID, v)
	}
	run := &podRun{rec: rec, images: imgs, files: m.podFilesOf(rec.ID, &rec.Pod), vols: vols, pause: task, lock: hl, unlockedHooks: true}
	var names []string
	for _, i := range inits {
		names = append(names, rec.Pod.Spec.InitContainers[i].Name)
	}
	for _, i := range apps {
		names = append(names, rec.Pod.Spec.Containers[i].Name)
	}
	for _, n := range names {
		// A crash between the record and the start may have left this
		// attempt half made: start it afresh.
		if c, err := m.client.LoadContainer(ctx, rec.containerID(n)); err == nil {
			if err := removeContainer(ctx, c, 0, nil); err != nil {
				return err
			}
		}
	}
	for _, i := range inits {
		if err := m.startInitContainer(ctx, run, &rec.Pod.Spec.InitContainers[i]); err != nil {
			return err
		}
	}
	if len(apps) == 0 {
		return nil
	}
	return m.startAppContainers(ctx, run, apps)
}

// removeOldAttempts deletes the pod's app containers that are not the
// current attempt of their name (exited: a new one runs in their place)
// and the log files older than the previous attempt's.
func (m *Manager) removeOldAttempts(ctx context.Context, rec *Record) error {
	pc, err := m.podContainers(ctx, rec)
	if err != nil {
		return err
	}
	for _, c := range allContainers(&rec.Pod) {
		if n := rec.container(c.Name).RestartCount; n >= 2 {
			if err := os.Remove(rec.logPath(c.Name, n-2)); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
	}
	var errs []error
	for _, c := range pc.apps {
		if !rec.isOldAttempt(c.ID()) {
			continue // the current attempt, an init or an ephemeral container
		}
		if err := deleteTask(ctx, c.ID(), pc.tasks[c.ID()]); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := deleteContainer(ctx, c); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, err)
		}
		os.RemoveAll(m.paths.ioDir(rec.ID, c.ID())) // its log FIFOs
	}
	return errors.Join(errs...)
}

// podOf maps a containerd container to its pod's sandbox ID by label.
func podOf(ctx context.Context, client *containerd.Client, containerID string) (string, bool) {
	c, err := client.LoadContainer(ctx, containerID)
	if err != nil {
		return "", false
	}
	l, err := c.Labels(ctx)
	if err != nil || l[LabelSandboxID] == "" {
		return "", false
	}
	return l[LabelSandboxID], true
}
