package sandbox

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestComputePodActions(t *testing.T) {
	twoInits := &corev1.Pod{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "i1"}, {Name: "i2"}},
		Containers:     []corev1.Container{{Name: "a"}, {Name: "b"}},
	}}
	noInit := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}}}
	run, done := ObservedContainer{Phase: ContainerRunning}, ObservedContainer{Phase: ContainerExited}
	failed := ObservedContainer{Phase: ContainerExited, ExitCode: 3}
	obs := func(ready bool, cs map[string]ObservedContainer) ObservedPod {
		return ObservedPod{SandboxReady: ready, Containers: cs}
	}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		obs  ObservedPod
		want PodActions
	}{
		{"new pod: sandbox, then the first init container", twoInits, obs(false, nil),
			PodActions{CreateSandbox: true, NextInit: 0}},
		{"new pod without init containers: sandbox and every app container", noInit, obs(false, nil),
			PodActions{CreateSandbox: true, NextInit: -1, Start: []int{0, 1}}},
		{"an init container runs: wait", twoInits, obs(true, map[string]ObservedContainer{"i1": run}),
			PodActions{NextInit: -1}},
		{"first init succeeded: the second", twoInits, obs(true, map[string]ObservedContainer{"i1": done}),
			PodActions{NextInit: 1}},
		{"all init succeeded: the app containers in order", twoInits, obs(true, map[string]ObservedContainer{"i1": done, "i2": done}),
			PodActions{NextInit: -1, Start: []int{0, 1}}},
		{"an init container failed: Init:Error, nothing else starts", twoInits, obs(true, map[string]ObservedContainer{"i1": done, "i2": failed}),
			PodActions{NextInit: -1, InitFailed: "i2"}},
		{"only the missing app container starts", noInit, obs(true, map[string]ObservedContainer{"a": run}),
			PodActions{NextInit: -1, Start: []int{1}}},
		{"exited app containers stay exited (no agent restarts them)", noInit, obs(true, map[string]ObservedContainer{"a": failed, "b": done}),
			PodActions{NextInit: -1}},
		{"a lost sandbox starts every container afresh", twoInits, obs(false, map[string]ObservedContainer{"i1": done, "i2": done, "a": run}),
			PodActions{CreateSandbox: true, NextInit: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ComputePodActions(tc.pod, tc.obs)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ComputePodActions = %+v, want %+v", got, tc.want)
			}
			if tc.want.Done() != (tc.want.NextInit < 0 && !tc.want.CreateSandbox && tc.want.InitFailed == "" && len(tc.want.Start) == 0) {
				t.Errorf("Done() disagrees with the actions")
			}
		})
	}
}
