package sandbox

import (
	"errors"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// The containers prepared while the pause starts are exactly those
// syncPod creates next: the first init container (init containers run one
// at a time, so the app containers' records would wait for nothing but
// sit idle through every init container), else all app containers.
func TestFirstContainers(t *testing.T) {
	c := func(names ...string) []corev1.Container {
		var out []corev1.Container
		for _, n := range names {
			out = append(out, corev1.Container{Name: n})
		}
		return out
	}
	for _, tc := range []struct {
		name        string
		init, apps  []corev1.Container
		wantPrepare []string
	}{
		{"apps only", nil, c("c1", "c2"), []string{"c1", "c2"}},
		{"init first", c("i1", "i2"), c("c1"), []string{"i1"}},
		{"one app", nil, c("only"), []string{"only"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{InitContainers: tc.init, Containers: tc.apps}}
			var got []string
			for _, fc := range firstContainers(pod) {
				got = append(got, fc.Name)
			}
			if !reflect.DeepEqual(got, tc.wantPrepare) {
				t.Errorf("firstContainers = %v, want %v", got, tc.wantPrepare)
			}
		})
	}
}

// A prepared container is handed out once, for its own attempt ID only,
// and a failed preparation is reported to the container that takes it.
func TestPreparedContainersTake(t *testing.T) {
	boom := errors.New("snapshot prepare failed")
	p := &preparedContainers{byID: map[string]preparedContainer{"pod-c1": {}, "pod-c2": {err: boom}}}
	if _, ok := p.take("pod-c1.1"); ok {
		t.Error("another attempt's ID took the prepared container")
	}
	if _, ok := p.take("pod-c1"); !ok {
		t.Error("the prepared container was not handed out")
	}
	if _, ok := p.take("pod-c1"); ok {
		t.Error("the prepared container was handed out twice")
	}
	if pc, ok := p.take("pod-c2"); !ok || !errors.Is(pc.err, boom) {
		t.Errorf("a failed preparation must reach its container: %v %v", ok, pc.err)
	}
	var none *preparedContainers // a podRun without preparation (agent, rebuild)
	if _, ok := none.take("pod-c1"); ok {
		t.Error("nil preparedContainers handed something out")
	}
}
