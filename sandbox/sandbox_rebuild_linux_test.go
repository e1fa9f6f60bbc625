package sandbox

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestNeedsRebuild: a dead pause of a pod whose policy restarts containers
// means a new sandbox; Never, an unknown pause, a live one do not; a
// rebuild cut short is resumed.
func TestNeedsRebuild(t *testing.T) {
	always := &Record{}
	never := &Record{Pod: corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever}}}
	for _, r := range []*Record{always, never} {
		r.Pod.Spec.Containers = []corev1.Container{{Name: "a"}}
	}
	resumed := &Record{Rebuilding: true, Pod: always.Pod}
	ps := func(status string) *PodState { return &PodState{Pause: ContainerState{Status: status}} }
	lost := PodActions{CreateSandbox: true}
	for _, tc := range []struct {
		name string
		rec  *Record
		ps   *PodState
		a    PodActions
		want bool
	}{
		{"pause exited, Always", always, ps("exited"), lost, true},
		{"pause gone, Always", always, ps("missing"), lost, true},
		{"pause exited, Never: kubelet makes no new sandbox", never, ps("exited"), lost, false},
		{"containerd did not answer: wait", always, ps("unknown"), lost, false},
		{"pause runs", always, ps("running"), PodActions{}, false},
		{"a rebuild cut short by the agent's death", resumed, ps("running"), PodActions{}, true},
	} {
		if got := needsRebuild(tc.rec, tc.ps, tc.a); got != tc.want {
			t.Errorf("%s: needsRebuild = %v, want %v", tc.name, got, tc.want)
		}
	}
}
