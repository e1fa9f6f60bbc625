package objects

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The Deployment controller's rollout, reduced to one pure decision per
// round (pkg/controller/deployment: rolling.go reconcileNewReplicaSet and
// reconcileOldReplicaSets, recreate.go). podsim keeps no ReplicaSet
// objects: the pods of one pod-template-hash are that ReplicaSet, so the
// counts below are pods, not ReplicaSet replicas.

// rolloutStrategy is a Deployment's strategy with its bounds resolved to
// pod counts.
type rolloutStrategy struct {
	Recreate       bool
	MaxSurge       int // pods above replicas a rolling update may run
	MaxUnavailable int // pods below replicas that may be unavailable
}

// resolveStrategy turns spec.strategy into counts as the controller's
// ResolveFenceposts does: maxSurge rounds up, maxUnavailable rounds down,
// both default to 25%, and when both come out 0 maxUnavailable is 1 (a
// rollout must be able to move).
func resolveStrategy(d *appsv1.Deployment, replicas int) (rolloutStrategy, error) {
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return rolloutStrategy{Recreate: true}, nil
	}
	quarter := intstr.FromString("25%")
	surge, unavail := &quarter, &quarter
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		if ru.MaxSurge != nil {
			surge = ru.MaxSurge
		}
		if ru.MaxUnavailable != nil {
			unavail = ru.MaxUnavailable
		}
	}
	s, err := intstr.GetScaledValueFromIntOrPercent(surge, replicas, true)
	if err != nil {
		return rolloutStrategy{}, fmt.Errorf("spec.strategy.rollingUpdate.maxSurge: %w", err)
	}
	u, err := intstr.GetScaledValueFromIntOrPercent(unavail, replicas, false)
	if err != nil {
		return rolloutStrategy{}, fmt.Errorf("spec.strategy.rollingUpdate.maxUnavailable: %w", err)
	}
	if s < 0 || u < 0 {
		return rolloutStrategy{}, fmt.Errorf("spec.strategy.rollingUpdate: maxSurge and maxUnavailable must not be negative")
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return rolloutStrategy{MaxSurge: s, MaxUnavailable: u}, nil
}

// rolloutView is what one round observed: the pods of the current template
// (New) and of older ones (Old), each with its availability (Ready, and
// ready for minReadySeconds: the controller's "available").
type rolloutView struct {
	Replicas int
	New, Old []podView
}

type podView struct {
	Name      string
	Available bool
	Stuck     string // a status no wait will cure (CrashLoopBackOff, ...), "" if none
}

// rolloutStep is one round's actions.
type rolloutStep struct {
	Create int      // new-template pods to create
	Delete []string // pods to delete (old ones, or surplus new ones), unavailable first
	Done   bool     // replicas new pods, all available, no old pod left
}

func availableCount(ps []podView) int {
	n := 0
	for _, p := range ps {
		if p.Available {
			n++
		}
	}
	return n
}

// pick returns up to n pod names, unavailable pods first: the controller
// scales down unhealthy replicas before healthy ones.
func pick(ps []podView, n int) []string {
	var out []string
	for _, wantAvail := range []bool{false, true} {
		for _, p := range ps {
			if len(out) == n {
				return out
			}
			if p.Available == wantAvail {
				out = append(out, p.Name)
			}
		}
	}
	return out
}

// planRollout decides one round. Scaling (no old pods) creates or deletes
// new-template pods to reach replicas. Recreate removes every old pod
// first and creates the new ones only once none is left. RollingUpdate
// creates new pods while the total stays within replicas+maxSurge and
// deletes old ones while the available pods stay at least
// replicas-maxUnavailable (not counting new pods that are not available
// yet), unavailable old pods first.
func planRollout(v rolloutView, s rolloutStrategy) rolloutStep {
	n, o := len(v.New), len(v.Old)
	newAvail := availableCount(v.New)
	if o == 0 {
		switch {
		case n < v.Replicas:
			return rolloutStep{Create: v.Replicas - n}
		case n > v.Replicas:
			return rolloutStep{Delete: pick(v.New, n-v.Replicas)}
		}
		return rolloutStep{Done: newAvail == v.Replicas}
	}
	if s.Recreate {
		return rolloutStep{Delete: pick(v.Old, o)}
	}
	var st rolloutStep
	if n < v.Replicas {
		st.Create = max(0, min(v.Replicas+s.MaxSurge-(n+o), v.Replicas-n))
	}
	minAvailable := v.Replicas - s.MaxUnavailable
	budget := (n + o) - minAvailable - (n - newAvail) // the controller's maxScaledDown
	if budget <= 0 {
		return st
	}
	// Unavailable old pods can go within the budget: they serve nothing.
	unavailOld := o - availableCount(v.Old)
	st.Delete = pick(v.Old, min(unavailOld, budget))
	budget -= len(st.Delete)
	// Available old pods only while enough stay available.
	if extra := min(budget, newAvail+availableCount(v.Old)-minAvailable); extra > 0 {
		var avail []podView
		for _, p := range v.Old {
			if p.Available {
				avail = append(avail, p)
			}
		}
		st.Delete = append(st.Delete, pick(avail, extra)...)
	}
	return st
}
