package objects

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func pods(prefix string, avail, unavail int) []podView {
	var out []podView
	for i := range avail {
		out = append(out, podView{Name: fmt.Sprintf("%s-a%d", prefix, i), Available: true})
	}
	for i := range unavail {
		out = append(out, podView{Name: fmt.Sprintf("%s-u%d", prefix, i)})
	}
	return out
}

func TestResolveStrategy(t *testing.T) {
	pct := func(s string) *intstr.IntOrString { v := intstr.FromString(s); return &v }
	num := func(n int) *intstr.IntOrString { v := intstr.FromInt32(int32(n)); return &v }
	for _, tc := range []struct {
		name     string
		strategy appsv1.DeploymentStrategy
		replicas int
		want     rolloutStrategy
	}{
		{"defaults 25% of 4", appsv1.DeploymentStrategy{}, 4, rolloutStrategy{MaxSurge: 1, MaxUnavailable: 1}},
		{"25% of 3: surge rounds up, unavailable down", appsv1.DeploymentStrategy{}, 3, rolloutStrategy{MaxSurge: 1, MaxUnavailable: 0}},
		{"both 0 after rounding: unavailable 1", appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: num(0), MaxUnavailable: pct("10%")}}, 3, rolloutStrategy{MaxUnavailable: 1}},
		{"numbers", appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: num(2), MaxUnavailable: num(0)}}, 5, rolloutStrategy{MaxSurge: 2}},
		{"recreate", appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}, 5, rolloutStrategy{Recreate: true}},
	} {
		d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Strategy: tc.strategy}}
		got, err := resolveStrategy(d, tc.replicas)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestPlanRollout(t *testing.T) {
	surge1 := rolloutStrategy{MaxSurge: 1, MaxUnavailable: 0}
	unavail1 := rolloutStrategy{MaxSurge: 0, MaxUnavailable: 1}
	for _, tc := range []struct {
		name       string
		view       rolloutView
		s          rolloutStrategy
		wantCreate int
		wantDelete []string
		wantDone   bool
	}{
		{"scale up", rolloutView{Replicas: 3, New: pods("n", 1, 0)}, surge1, 2, nil, false},
		{"scale down: unavailable first", rolloutView{Replicas: 1, New: pods("n", 1, 1)}, surge1, 0, []string{"n-u0"}, false},
		{"settled", rolloutView{Replicas: 2, New: pods("n", 2, 0)}, surge1, 0, nil, true},
		{"waits for readiness", rolloutView{Replicas: 2, New: pods("n", 1, 1)}, surge1, 0, nil, false},
		{"maxSurge 1: one new pod, no old pod goes yet", rolloutView{Replicas: 3, Old: pods("o", 3, 0)}, surge1, 1, nil, false},
		{"maxSurge 1: the new pod is not available, nothing goes", rolloutView{Replicas: 3, New: pods("n", 0, 1), Old: pods("o", 3, 0)}, surge1, 0, nil, false},
		{"maxSurge 1: the new pod is available, one old pod goes", rolloutView{Replicas: 3, New: pods("n", 1, 0), Old: pods("o", 3, 0)}, surge1, 0, []string{"o-a0"}, false},
		{"maxUnavailable 1: one old pod goes first, no surge", rolloutView{Replicas: 3, Old: pods("o", 3, 0)}, unavail1, 0, []string{"o-a0"}, false},
		{"maxUnavailable 1: then its replacement", rolloutView{Replicas: 3, Old: pods("o", 2, 0)}, unavail1, 1, nil, false},
		{"unavailable old pods go first, within the budget", rolloutView{Replicas: 3, New: pods("n", 1, 0), Old: pods("o", 2, 1)}, surge1, 0, []string{"o-u0"}, false},
		{"recreate: every old pod first", rolloutView{Replicas: 2, Old: pods("o", 1, 1)}, rolloutStrategy{Recreate: true}, 0, []string{"o-u0", "o-a0"}, false},
		{"recreate: then the new ones", rolloutView{Replicas: 2}, rolloutStrategy{Recreate: true}, 2, nil, false},
		{"old pods of a rollout scaled to 0", rolloutView{Replicas: 0, Old: pods("o", 2, 0)}, surge1, 0, []string{"o-a0", "o-a1"}, false},
	} {
		got := planRollout(tc.view, tc.s)
		if got.Create != tc.wantCreate || fmt.Sprint(got.Delete) != fmt.Sprint(tc.wantDelete) || got.Done != tc.wantDone {
			t.Errorf("%s: got create %d delete %v done %v; want %d %v %v", tc.name, got.Create, got.Delete, got.Done, tc.wantCreate, tc.wantDelete, tc.wantDone)
		}
	}
}
