package objects

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/sandbox"
)

// errProgressDeadline is the Deployment's ProgressDeadlineExceeded: the
// rollout made no progress within progressDeadlineSeconds (default 600).
var errProgressDeadline = errors.New("rollout exceeded its progress deadline")

// errRolloutStuck: a new pod crash-loops (or its init container does), so
// the rollout cannot progress; apply says so at once rather than waiting
// out the deadline (the agent's controller keeps trying, as on a cluster).
var errRolloutStuck = errors.New("rollout cannot progress")

// stuckStatus is a pod status that no wait will turn into available.
func stuckStatus(s string) bool {
	switch s {
	case "CrashLoopBackOff", "Init:CrashLoopBackOff", "Init:Error", "Error", "OOMKilled":
		return true
	}
	return false
}

// availablePoll is how often a rollout that waits for new pods looks at
// them again (kubectl rollout status watches; podsim reads its records).
const availablePoll = 250 * time.Millisecond

// rollout reconciles the Deployment's pods with its spec, round after
// round (planRollout), and returns the names of the pods it created. With
// wait, a round that can do nothing waits for pods to become available
// until the progress deadline; without (the agent's controller), it
// returns then, and the next pod event brings it back.
func (m *Manager) rollout(ctx context.Context, d *appsv1.Deployment, wait bool) ([]string, error) {
	replicas := 1
	if d.Spec.Replicas != nil {
		replicas = int(*d.Spec.Replicas)
	}
	strategy, err := resolveStrategy(d, replicas)
	if err != nil {
		return nil, err
	}
	hash := TemplateHash(&d.Spec.Template)
	if d.Spec.Paused {
		// A paused Deployment scales the ReplicaSet it rolled out last and
		// starts no new one (the controller's sync without rollout).
		hash = d.Annotations[annotationRolledOut]
	}
	deadline := progressDeadline(d)
	var created []string
	for progress := time.Now(); ; {
		v, err := m.observe(ctx, d, hash, replicas)
		if err != nil {
			return created, err
		}
		if hash == "" { // paused before its first rollout: no pods at all
			return created, nil
		}
		if d.Spec.Paused {
			// A paused rollout leaves the older pods where they are.
			v.Replicas, v.Old = max(0, replicas-len(v.Old)), nil
		}
		step := planRollout(v, strategy)
		if step.Done {
			return created, m.markRolledOut(d, hash)
		}
		if step.Create == 0 && len(step.Delete) == 0 {
			if len(v.Old) == 0 {
				// Every pod of the template exists and nothing older is
				// left to replace: like `kubectl apply`, do not wait for
				// readiness (probes may take long; a crash loop for ever).
				return created, m.markRolledOut(d, hash)
			}
			if !wait {
				return created, nil
			}
			for _, p := range v.New {
				if p.Stuck != "" {
					return created, fmt.Errorf("%w: new pod %s is %s; the old pods keep serving and the node agent keeps trying (see 'podsim describe pod %s')", errRolloutStuck, p.Name, p.Stuck, p.Name)
				}
			}
			if time.Since(progress) > deadline {
				return created, fmt.Errorf("%w (%s): new pods not available: %s", errProgressDeadline, deadline, notAvailable(v.New))
			}
			select {
			case <-ctx.Done():
				return created, ctx.Err()
			case <-time.After(availablePoll):
			}
			continue
		}
		progress = time.Now()
		names, err := m.applyStep(ctx, d, hash, step)
		created = append(created, names...)
		if err != nil {
			return created, err
		}
	}
}

// applyStep creates and deletes the pods of one round.
func (m *Manager) applyStep(ctx context.Context, d *appsv1.Deployment, hash string, step rolloutStep) ([]string, error) {
	var created []string
	for range step.Create {
		rec, err := m.pods.CreatePod(ctx, podFromTemplate(d, hash))
		if rec != nil && errors.Is(err, sandbox.ErrInitFailed) {
			created = append(created, rec.Pod.Name)
		}
		if err != nil {
			return created, fmt.Errorf("creating a pod: %w", err)
		}
		created = append(created, rec.Pod.Name)
	}
	for _, name := range step.Delete {
		rec, err := m.pods.Get(ctx, d.Namespace, name)
		if errors.Is(err, sandbox.ErrPodNotFound) {
			continue
		}
		if err != nil {
			return created, err
		}
		err = m.pods.DeletePod(ctx, d.Namespace, name, sandbox.GracePeriod(&rec.Pod))
		if err != nil && !errors.Is(err, sandbox.ErrPodNotFound) {
			return created, err
		}
	}
	return created, nil
}

// observe sorts the Deployment's active pods into those of the template
// hash (New) and older ones (Old), each with its availability. It reads
// under the host-wide pod lock, so that a pod being deleted right now is
// seen either whole or gone, never half.
func (m *Manager) observe(ctx context.Context, d *appsv1.Deployment, hash string, replicas int) (rolloutView, error) {
	v := rolloutView{Replicas: replicas}
	minReady := time.Duration(d.Spec.MinReadySeconds) * time.Second
	err := m.pods.Locked(ctx, func() error {
		states, err := m.pods.List(ctx, d.Namespace)
		if err != nil {
			return err
		}
		now := time.Now()
		for _, ps := range states {
			if ps.Pod.Annotations[AnnotationDeployment] != d.Name || !podActive(ps) {
				continue
			}
			pv := podView{Name: ps.Pod.Name, Available: podAvailable(ps, minReady, now)}
			if st := ps.StatusText(); stuckStatus(st) {
				pv.Stuck = st
			}
			if ps.Pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == hash {
				v.New = append(v.New, pv)
			} else {
				v.Old = append(v.Old, pv)
			}
		}
		return nil
	})
	return v, err
}

// podActive is the ReplicaSet controller's FilterActivePods: a pod that
// succeeded or failed for good no longer counts toward replicas (it is
// kept for its logs, and a replacement is made). A Deployment's pods
// restart their containers (restartPolicy Always), so a container that
// exited is not the pod's end.
func podActive(ps *sandbox.PodState) bool {
	switch ps.Phase() {
	case corev1.PodSucceeded, corev1.PodFailed:
		return ps.Pod.Spec.RestartPolicy != "" && ps.Pod.Spec.RestartPolicy != corev1.RestartPolicyAlways
	}
	return true
}

// podAvailable is the controller's IsPodAvailable: ready, and every
// container running for at least minReadySeconds.
func podAvailable(ps *sandbox.PodState, minReady time.Duration, now time.Time) bool {
	ready, total := ps.Ready()
	if total == 0 || ready != total || ps.Phase() != corev1.PodRunning {
		return false
	}
	for _, c := range ps.Containers {
		if now.Sub(c.Started) < minReady {
			return false
		}
	}
	return true
}

func notAvailable(ps []podView) string {
	var names []string
	for _, p := range ps {
		if !p.Available {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return "none created yet"
	}
	return strings.Join(names, ", ") + " (see 'podsim describe pod' / 'podsim logs')"
}

func progressDeadline(d *appsv1.Deployment) time.Duration {
	if d.Spec.ProgressDeadlineSeconds != nil {
		return time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second
	}
	return 600 * time.Second
}

// markRolledOut records, on the stored Deployment, the template hash now
// rolled out (read when the Deployment is paused).
func (m *Manager) markRolledOut(d *appsv1.Deployment, hash string) error {
	if d.Spec.Paused || hash == "" || d.Annotations[annotationRolledOut] == hash {
		return nil
	}
	setAnnotation(&d.ObjectMeta, annotationRolledOut, hash)
	return m.saveDeployment(d)
}
