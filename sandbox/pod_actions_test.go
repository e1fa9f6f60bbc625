package sandbox

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestComputePodActions(t *testing.T) {
	twoInits := &corev1.Pod{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "i1"}, {Name: "i2"}},
		Containers:     []corev1.Container{{Name: "a"}, {Name: "b"}},
	}}
	noInit := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}, {Name: "b"}},
		RestartPolicy: corev1.RestartPolicyNever}}
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
		{"an init container failed under Always: restarted at once, nothing else starts", twoInits, obs(true, map[string]ObservedContainer{"i1": done, "i2": failed}),
			PodActions{NextInit: -1, RestartInit: []int{1}}},
		{"only the missing app container starts", noInit, obs(true, map[string]ObservedContainer{"a": run}),
			PodActions{NextInit: -1, Start: []int{1}}},
		{"restartPolicy Never: exited app containers stay exited", noInit, obs(true, map[string]ObservedContainer{"a": failed, "b": done}),
			PodActions{NextInit: -1}},
		{"a lost sandbox starts every container afresh", twoInits, obs(false, map[string]ObservedContainer{"i1": done, "i2": done, "a": run}),
			PodActions{CreateSandbox: true, NextInit: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ComputePodActions(tc.pod, tc.obs)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ComputePodActions = %+v, want %+v", got, tc.want)
			}
			if tc.want.Done() != (tc.want.NextInit < 0 && !tc.want.CreateSandbox && tc.want.InitFailed == "" && len(tc.want.Start) == 0 && len(tc.want.Restart) == 0 && len(tc.want.RestartInit) == 0) {
				t.Errorf("Done() disagrees with the actions")
			}
		})
	}
}

// TestComputePodActionsRestarts: restartPolicy and kubelet's crash-loop
// back-off (first restart at once, then Base doubling to Max, forgotten
// after Reset of running).
func TestComputePodActionsRestarts(t *testing.T) {
	pol := BackoffPolicy{Base: 10 * time.Second, Max: 40 * time.Second, Reset: 100 * time.Second}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := func(p corev1.RestartPolicy) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: p, Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}}}
	}
	run := ObservedContainer{Phase: ContainerRunning}
	exited := func(code int, backoff time.Duration, lastRestart time.Duration) ObservedContainer {
		c := ObservedContainer{Phase: ContainerExited, ExitCode: code, FinishedAt: t0, Backoff: backoff}
		if backoff > 0 {
			c.LastRestart = t0.Add(-lastRestart)
		}
		return c
	}
	obs := func(now time.Duration, a ObservedContainer) ObservedPod {
		return ObservedPod{SandboxReady: true, Now: t0.Add(now), Policy: pol,
			Containers: map[string]ObservedContainer{"a": a, "b": run}}
	}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		obs  ObservedPod
		want PodActions
	}{
		{"Always, first exit: restart at once", pod(""), obs(0, exited(1, 0, 0)),
			PodActions{NextInit: -1, Restart: []int{0}}},
		{"Always, exit 0 restarts too", pod(corev1.RestartPolicyAlways), obs(0, exited(0, 0, 0)),
			PodActions{NextInit: -1, Restart: []int{0}}},
		{"OnFailure, exit 0: stays Completed", pod(corev1.RestartPolicyOnFailure), obs(0, exited(0, 0, 0)),
			PodActions{NextInit: -1}},
		{"OnFailure, exit 1: restart", pod(corev1.RestartPolicyOnFailure), obs(0, exited(1, 0, 0)),
			PodActions{NextInit: -1, Restart: []int{0}}},
		{"Never: stays exited", pod(corev1.RestartPolicyNever), obs(time.Hour, exited(1, 0, 0)),
			PodActions{NextInit: -1}},
		{"second exit: CrashLoopBackOff until exit + back-off", pod(""), obs(5*time.Second, exited(1, 10*time.Second, time.Second)),
			PodActions{NextInit: -1, BackingOff: []int{0}, WakeAt: t0.Add(10 * time.Second)}},
		{"back-off over: restart", pod(""), obs(10*time.Second, exited(1, 10*time.Second, time.Second)),
			PodActions{NextInit: -1, Restart: []int{0}}},
		{"ran longer than Reset: back-off forgotten, restart at once", pod(""), obs(0, exited(1, 40*time.Second, 101*time.Second)),
			PodActions{NextInit: -1, Restart: []int{0}}},
		{"sibling running, container running: nothing to do", pod(""), obs(0, run),
			PodActions{NextInit: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ComputePodActions(tc.pod, tc.obs)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ComputePodActions = %+v, want %+v", got, tc.want)
			}
		})
	}
	// The period after each restart: Base, doubling, capped at Max, reset.
	c := ObservedContainer{FinishedAt: t0}
	var got []time.Duration
	for i := 0; i < 5; i++ {
		c.Backoff, c.LastRestart = pol.Next(c), t0
		got = append(got, c.Backoff)
	}
	if want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 40 * time.Second, 40 * time.Second}; !reflect.DeepEqual(got, want) {
		t.Errorf("back-off periods %v, want %v", got, want)
	}
	c.FinishedAt = t0.Add(pol.Reset + time.Second)
	if n := pol.Next(c); n != pol.Base {
		t.Errorf("after running longer than Reset the back-off is %v, want %v", n, pol.Base)
	}
}

func TestIsOldAttempt(t *testing.T) {
	r := &Record{ID: "abc", Pod: corev1.Pod{Spec: corev1.PodSpec{
		InitContainers:      []corev1.Container{{Name: "setup"}},
		Containers:          []corev1.Container{{Name: "web"}, {Name: "web-1"}},
		EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger"}}},
	}}, Containers: map[string]*ContainerRecord{"web": {RestartCount: 2}}}
	for id, want := range map[string]bool{
		"abc-web": true, "abc-web.1": true, // earlier attempts of web
		"abc-web.2":    false, // web's current attempt
		"abc-web-1":    false, // another container, never restarted: its attempt 0 is current
		"abc-setup":    false, // init containers are not restarted
		"abc-debugger": false, // ephemeral containers stay until the pod goes
		"abc":          false, // the pause
	} {
		if got := r.isOldAttempt(id); got != want {
			t.Errorf("isOldAttempt(%s) = %v, want %v", id, got, want)
		}
	}
}
