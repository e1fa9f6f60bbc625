package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

func (p Paths) probeStatusFile(id string) string { return filepath.Join(p.podDir(id), "probes.json") }

// readProbeStatus reads what the node agent's prober keeps of pod id (an
// empty status when it has written nothing yet).
func (m *Manager) readProbeStatus(id string) (ProbeStatus, error) {
	var st ProbeStatus
	b, err := os.ReadFile(m.paths.probeStatusFile(id))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return ProbeStatus{}, fmt.Errorf("probe status of pod %s is corrupt: %w", id, err)
	}
	return st, nil
}

// writeProbeStatus replaces the prober's file of pod id at once (a
// rename: readers see the old or the new file, never half of one). A pod
// whose directory is gone (deleted) is left alone.
func (m *Manager) writeProbeStatus(id string, st ProbeStatus) error {
	if _, err := os.Stat(m.paths.podDir(id)); err != nil {
		return nil
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := m.paths.probeStatusFile(id) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, m.paths.probeStatusFile(id))
}

// applyProbeStatus fills each container's HasStarted and Ready from the
// prober's results and the pod's conditions (kubelet's status manager
// generating the API status). A condition that changed since the agent
// last wrote it (no agent runs for the pod, or it has not caught up) gets
// the time of the pod's last container change as its transition time.
func (m *Manager) applyProbeStatus(ps *PodState) {
	st, _ := m.readProbeStatus(ps.ID)
	for i := range ps.Containers {
		if i < len(ps.Pod.Spec.Containers) {
			c := &ps.Pod.Spec.Containers[i]
			ps.Containers[i].HasStarted, ps.Containers[i].Ready = containerVerdict(c, ps.Containers[i], st.Containers[c.Name])
		}
	}
	for i := range ps.Init {
		if i < len(ps.Pod.Spec.InitContainers) && isSidecar(&ps.Pod.Spec.InitContainers[i]) {
			c := &ps.Pod.Spec.InitContainers[i]
			ps.Init[i].HasStarted, ps.Init[i].Ready = containerVerdict(c, ps.Init[i], st.Containers[c.Name])
		}
	}
	ps.Conditions = podConditions(ps, st.Conditions, lastChange(ps))
}

// lastChange is the latest start or exit of the pod's containers (its
// creation when none has started).
func lastChange(ps *PodState) time.Time {
	t := ps.Created
	for _, l := range [][]ContainerState{ps.Init, ps.Containers} {
		for _, c := range l {
			for _, u := range []time.Time{c.Started, c.Finished} {
				if u.After(t) {
					t = u
				}
			}
		}
	}
	return t
}
