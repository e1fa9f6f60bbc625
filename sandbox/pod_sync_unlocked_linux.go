package sandbox

import (
	"context"
	"fmt"
)

// whileUnlocked runs f — a wait that can take a pod's whole grace period
// or a hook's run — without podsim's host-wide lock, then takes the lock
// again and re-reads the pod's record into rec. The node agent syncs each
// pod in its own worker (pod_workers.go); holding the host-wide lock
// through one pod's preStop hook or SIGTERM wait would make every other
// pod's restart wait for it, which kubelet's per-pod workers never do.
// What the lock guards (the bridge, IPAM, hosts files, records) is not
// touched by f. A pod deleted meanwhile (`podsim delete` took the lock
// and tore it down) ends the sync: nothing is made again for it.
func (m *Manager) whileUnlocked(ctx context.Context, hl *heldLock, rec *Record, f func() error) error {
	hl.release()
	err := f()
	if lerr := hl.retake(context.WithoutCancel(ctx)); lerr != nil {
		return lerr
	}
	fresh, lerr := m.loadRecord(rec.ID)
	if lerr != nil {
		return fmt.Errorf("%w: pod %s was deleted while its containers stopped (%w)", ErrSyncSkipped, rec.Name(), errPodGone)
	}
	*rec = *fresh // a label or annotation may have changed meanwhile
	return err
}
