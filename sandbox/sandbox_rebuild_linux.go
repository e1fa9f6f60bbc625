package sandbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/podsim/podsim/sandbox/runtime"
)

// A pod's network namespace lives as long as the pause container holds it
// (and the pin under /run/netns). When the pause dies, the pod has lost its
// sandbox: kubelet's computePodActions (pkg/kubelet/kuberuntime/
// kuberuntime_manager.go) sees podSandboxChanged, records SandboxChanged
// ("Pod sandbox changed, it will be killed and re-created."), kills every
// container (KillPod), makes a new sandbox (a new network namespace, a new
// IP from CNI) and starts every container in it again — init containers
// from the first — with restart counts going up. Volumes belong to the pod,
// not to the sandbox: an emptyDir keeps its contents.

// needsRebuild reports whether the agent must replace the pod's sandbox:
// its pause exited or is gone while the pod is kept (restartPolicy Always
// or OnFailure: kubelet makes no new sandbox for a Never pod whose
// containers already ran), or an earlier rebuild was cut short (the agent
// died during it). An "unknown" pause (containerd did not answer) is left
// alone: the next event tries again.
func needsRebuild(rec *Record, ps *PodState, a PodActions) bool {
	if rec.Rebuilding {
		return true
	}
	return a.CreateSandbox && RestartsContainers(&rec.Pod) &&
		(ps.Pause.Status == "exited" || ps.Pause.Status == "missing" || ps.Pause.Status == "created")
}

// rebuildSandbox replaces a dead sandbox, in kubelet's order:
//
//	Step 1: event SandboxChanged; mark the record Rebuilding (an agent that
//	        finds the mark after a crash starts the rebuild over: every step
//	        is idempotent).
//	Step 2: KillPod — stop every container (Killing events), then record a
//	        restart (count, last state) for each app container whose current
//	        attempt existed, so a rebuild started over does not count twice.
//	Step 3: remove the old sandbox: tasks, containers and the pause; CNI DEL
//	        (the veth goes, the IP is released); the netns pin is unmounted.
//	Step 4: a new sandbox: a new pinned netns (a new inode), CNI ADD (a new
//	        IP) and a new pause; the pod's hosts file and those of Services
//	        selecting it follow the new IP.
//	Step 5: every container again through syncPod, the loop createPod uses:
//	        init containers in order, then the app containers; then the
//	        hosts files again (Services resolve to running pods only).
//	Step 6: clear the mark.
func (m *Manager) rebuildSandbox(ctx context.Context, hl *heldLock, rec *Record) error {
	// Step 1.
	m.Eventf(rec.ID, EventNormal, "SandboxChanged", "", "Pod sandbox changed, it will be killed and re-created.")
	rec.Rebuilding, rec.InitError = true, ""
	if err := m.saveRecord(rec); err != nil {
		return err
	}
	ctx, release, err := runtime.WithLease(ctx, m.client, "sandbox of pod "+rec.Name())
	if err != nil {
		return err
	}
	defer release()
	// Steps 2 and 3.
	if err := m.killSandbox(ctx, hl, rec); err != nil {
		return fmt.Errorf("pod %s: removing the dead sandbox: %w", rec.Name(), err)
	}
	crashPoint("rebuild:teardown")
	// Step 4.
	run, err := m.newSandbox(ctx, hl, rec)
	if err != nil {
		return fmt.Errorf("pod %s: rebuilding its sandbox: %w", rec.Name(), err)
	}
	crashPoint("rebuild:sandbox")
	// Step 5.
	obs := ObservedPod{SandboxReady: true, Containers: map[string]ObservedContainer{}}
	for a := ComputePodActions(&rec.Pod, obs); !a.Done(); a = ComputePodActions(&rec.Pod, obs) {
		if err = m.syncPod(ctx, run, a, &obs); err != nil {
			break
		}
	}
	// The containers run: Services selecting the pod resolve to its new IP
	// (createPod's step 5).
	if herr := m.refreshHostsOf(ctx, rec, false); herr != nil && err == nil {
		err = fmt.Errorf("pod %s: updating hosts files: %w", rec.Name(), herr)
	}
	// Step 6: also after a failed init container (the pod stays Init:Error
	// as after createPod); any other error leaves the mark for a new try.
	if err == nil || errors.Is(err, ErrInitFailed) {
		if r, lerr := m.loadRecord(rec.ID); lerr == nil {
			r.Rebuilding = false
			_ = m.saveRecord(r)
		}
	}
	return err
}

// killSandbox is KillPod followed by the removal of the old sandbox (steps
// 2 and 3 of rebuildSandbox).
func (m *Manager) killSandbox(ctx context.Context, hl *heldLock, rec *Record) error {
	pc, err := m.podContainers(ctx, rec)
	if err != nil {
		return err
	}
	// Killing events, preStop hooks, sidecars last (as on delete); other
	// pods' syncs go on meanwhile (whileUnlocked).
	if err := m.whileUnlocked(ctx, hl, rec, func() error {
		return m.stopPodContainersInOrder(ctx, rec, pc, GracePeriod(&rec.Pod), nil)
	}); err != nil {
		return err
	}
	ps := m.state(ctx, rec) // each container's end, for its last state
	for _, c := range ps.Containers {
		if c.Status == "missing" {
			continue // a rebuild started over: this attempt never ran
		}
		cr := rec.containerRecord(c.Name)
		cr.RestartCount++
		cr.LastTermination, cr.BackoffUntil = termination(c), time.Time{}
	}
	if err := m.saveRecord(rec); err != nil {
		return err
	}
	if err := stopPodSandbox(ctx, pc, nil); err != nil {
		return err
	}
	if err := removePodSandbox(ctx, pc); err != nil {
		return err
	}
	if rec.RuntimeHandler == HandlerRunsc {
		removeStaleBundles(rec.ID) // gc_runsc_linux.go
	}
	return errors.Join(m.teardownNetwork(ctx, rec)...)
}

// newSandbox is RunPodSandbox again for a pod that exists: the cgroup,
// the pod's files and its volumes are kept (not made again: an emptyDir
// keeps its contents, the /dev/shm tmpfs is not mounted twice); the
// network namespace, CNI and the pause are new.
func (m *Manager) newSandbox(ctx context.Context, hl *heldLock, rec *Record) (*podRun, error) {
	imgs, err := m.pullImages(ctx, &rec.Pod)
	if err != nil {
		return nil, err
	}
	vols := map[string]string{}
	for i := range rec.Pod.Spec.Volumes {
		v := &rec.Pod.Spec.Volumes[i]
		vols[v.Name] = m.volumeDir(rec.ID, v)
	}
	run := &podRun{rec: rec, images: imgs, files: m.podFilesOf(rec.ID, &rec.Pod), vols: vols, lock: hl}
	if rec.Pod.Spec.HostNetwork {
		if err := m.useHostNetwork(rec); err != nil {
			return nil, err
		}
		err = m.startPauseOnly(ctx, run)
	} else {
		if err := m.pinPodNetNS(rec); err != nil {
			return nil, err
		}
		err = m.setupNetworkAndPause(ctx, run)
	}
	if err != nil {
		return nil, err
	}
	if err := m.refreshHostsOf(ctx, rec, false); err != nil {
		return nil, fmt.Errorf("step hosts file: %w", err)
	}
	return run, nil
}
