package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
)

// ErrSyncSkipped means the agent left a pod alone: deleted meanwhile,
// still being built by a podsim command, or in a state it does not repair
// yet (a lost sandbox, a failed init container).
var ErrSyncSkipped = errors.New("pod not synced")

// SyncPod is one round of the node agent for a built pod, kubelet's
// podWorkers → SyncPod for a running pod:
//
//	Step 1: under the host pod lock, re-read the record (a pod deleted
//	        meanwhile is skipped) and observe its containers in containerd.
//	Step 2: ComputePodActions with the clock and the back-off policy.
//	Step 3: a container still backing off: record CrashLoopBackOff and
//	        its deadline; the agent wakes the pod then (WakeAt is returned).
//	Step 4: a container to restart: record the restart (count, last state,
//	        back-off) before acting, then createContainer + startContainer a
//	        new attempt in the same sandbox (same netns, IP, volumes).
//	Step 5: remove exited attempts that are not current (their logs stay:
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
		return time.Time{}, fmt.Errorf("%w: pod %s has no record (deleted)", ErrSyncSkipped, id)
	}
	if !rec.Built {
		return time.Time{}, fmt.Errorf("%w: pod %s is being built", ErrSyncSkipped, rec.Name())
	}
	ps := m.state(ctx, rec)
	now := time.Now()
	obs := observe(ps, now, pol)
	// Step 2.
	a := ComputePodActions(&rec.Pod, obs)
	if needsRebuild(rec, ps, a) {
		return time.Time{}, m.rebuildSandbox(ctx, hl, rec)
	}
	if a.CreateSandbox || a.NextInit >= 0 || a.InitFailed != "" {
		return time.Time{}, fmt.Errorf("%w: pod %s: its sandbox or init containers need rebuilding (not done by the agent yet)", ErrSyncSkipped, rec.Name())
	}
	// Step 3.
	changed := false
	for _, i := range a.BackingOff {
		name := rec.Pod.Spec.Containers[i].Name
		cr := rec.containerRecord(name)
		if until := pol.until(obs.Containers[name]); !cr.BackoffUntil.Equal(until) {
			cr.BackoffUntil, cr.LastTermination, changed = until, termination(ps.Containers[i]), true
			m.backOffEvent(rec, name)
		}
	}
	// Step 4.
	if len(a.Start)+len(a.Restart) > 0 {
		for _, i := range a.Restart {
			name := rec.Pod.Spec.Containers[i].Name
			cr := rec.containerRecord(name)
			cr.Backoff, cr.LastRestart = pol.Next(obs.Containers[name]), now
			cr.BackoffUntil = time.Time{}
			cr.LastTermination = termination(ps.Containers[i])
			cr.RestartCount++
		}
		if err := m.saveRecord(rec); err != nil {
			return time.Time{}, err
		}
		crashPoint("restart") // the agent killed mid-restart (reliability test)
		changed = false
		if err := m.startAttempts(ctx, rec, append(append([]int{}, a.Start...), a.Restart...)); err != nil {
			return a.WakeAt, err
		}
	}
	if changed {
		if err := m.saveRecord(rec); err != nil {
			return time.Time{}, err
		}
	}
	// Step 5.
	return a.WakeAt, m.removeOldAttempts(ctx, rec)
}

// observe turns the pod's live state and its record into ComputePodActions' input.
func observe(ps *PodState, now time.Time, pol BackoffPolicy) ObservedPod {
	obs := ObservedPod{SandboxReady: ps.Pause.Status == "running", Containers: map[string]ObservedContainer{}, Now: now, Policy: pol}
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
	return &Termination{ExitCode: int(c.ExitCode), Reason: c.Reason(), StartedAt: c.Started, FinishedAt: c.Finished}
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

// startAttempts creates and starts the current attempt of the given app
// containers in the pod's running sandbox, with what createPod had: the
// pause's namespaces, the pod's files and volume directories (not made
// again: an emptyDir keeps its contents), the images.
func (m *Manager) startAttempts(ctx context.Context, rec *Record, idx []int) error {
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
	run := &podRun{rec: rec, images: imgs, files: m.podFilesOf(rec.ID, &rec.Pod), vols: vols, pause: task}
	for _, i := range idx {
		// A crash between the record and the start may have left this
		// attempt half made: start it afresh.
		if c, err := m.client.LoadContainer(ctx, rec.containerID(rec.Pod.Spec.Containers[i].Name)); err == nil {
			if err := removeContainer(ctx, c, 0, nil); err != nil {
				return err
			}
		}
	}
	return m.startAppContainers(ctx, run, idx)
}

// removeOldAttempts deletes the pod's app containers that are not the
// current attempt of their name (exited: a new one runs in their place)
// and the log files older than the previous attempt's.
func (m *Manager) removeOldAttempts(ctx context.Context, rec *Record) error {
	pc, err := m.podContainers(ctx, rec)
	if err != nil {
		return err
	}
	for _, c := range rec.Pod.Spec.Containers {
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
