package sandbox

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestComputePodActionsInitAndSidecars: kubelet's computeInitContainerActions
// for regular init containers (restarted with back-off unless Never) and
// native sidecars (started in order, restarted, stopped when the app
// containers are done, in reverse order), and activeDeadlineSeconds.
func TestComputePodActionsInitAndSidecars(t *testing.T) {
	pol := BackoffPolicy{Base: 10 * time.Second, Max: 40 * time.Second, Reset: 100 * time.Second}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	always := corev1.ContainerRestartPolicyAlways
	pod := func(p corev1.RestartPolicy, inits ...corev1.Container) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: p, InitContainers: inits,
			Containers: []corev1.Container{{Name: "a"}}}}
	}
	sc := func(name string) corev1.Container { return corev1.Container{Name: name, RestartPolicy: &always} }
	probed := sc("probed")
	probed.StartupProbe = &corev1.Probe{}
	reg := corev1.Container{Name: "init"}
	run := ObservedContainer{Phase: ContainerRunning}
	ok := ObservedContainer{Phase: ContainerExited, FinishedAt: t0}
	fail := ObservedContainer{Phase: ContainerExited, ExitCode: 1, FinishedAt: t0}
	failBacked := ObservedContainer{Phase: ContainerExited, ExitCode: 1, FinishedAt: t0, Backoff: 10 * time.Second, LastRestart: t0.Add(-time.Second)}
	killed := ObservedContainer{Phase: ContainerExited, ExitCode: 137, FinishedAt: t0}
	obs := func(cs map[string]ObservedContainer) ObservedPod {
		return ObservedPod{SandboxReady: true, Now: t0, Policy: pol, Containers: cs}
	}
	deadline := int64(30)
	withDeadline := pod(corev1.RestartPolicyNever)
	withDeadline.Spec.ActiveDeadlineSeconds = &deadline
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		obs  ObservedPod
		want PodActions
	}{
		{"a sidecar starts first", pod("", sc("s1"), reg), obs(nil),
			PodActions{NextInit: 0}},
		{"a running sidecar lets the next init container start", pod("", sc("s1"), reg), obs(map[string]ObservedContainer{"s1": run}),
			PodActions{NextInit: 1}},
		{"a sidecar with a startupProbe holds the next one until Started", pod("", probed, reg), obs(map[string]ObservedContainer{"probed": run}),
			PodActions{NextInit: -1}},
		{"... and lets it go once Started", pod("", probed, reg), obs(map[string]ObservedContainer{"probed": {Phase: ContainerRunning, Started: true}}),
			PodActions{NextInit: 1}},
		{"a sidecar killed by its failed startupProbe restarts and still holds the next one", pod("", probed, reg), obs(map[string]ObservedContainer{"probed": killed}),
			PodActions{NextInit: -1, RestartInit: []int{0}}},
		{"... also while it backs off", pod("", probed, reg), obs(map[string]ObservedContainer{"probed": failBacked}),
			PodActions{NextInit: -1, BackingOffInit: []int{0}, WakeAt: t0.Add(10 * time.Second)}},
		{"an initialized pod's app restarts while a restarted sidecar is not Started yet", pod(corev1.RestartPolicyAlways, probed),
			obs(map[string]ObservedContainer{"probed": run, "a": ok}),
			PodActions{NextInit: -1, Restart: []int{0}}},
		{"sidecars running, init done: the app containers start", pod("", sc("s1"), reg), obs(map[string]ObservedContainer{"s1": run, "init": ok}),
			PodActions{NextInit: -1, Start: []int{0}}},
		{"an exited sidecar restarts while the app runs", pod(corev1.RestartPolicyNever, sc("s1")), obs(map[string]ObservedContainer{"s1": ok, "a": run}),
			PodActions{NextInit: -1, RestartInit: []int{0}}},
		{"... with back-off after its first restart", pod(corev1.RestartPolicyNever, sc("s1")), obs(map[string]ObservedContainer{"s1": failBacked, "a": run}),
			PodActions{NextInit: -1, BackingOffInit: []int{0}, WakeAt: t0.Add(10 * time.Second)}},
		{"the app is done under Never: sidecars stop, last first", pod(corev1.RestartPolicyNever, sc("s1"), reg, sc("s2")),
			obs(map[string]ObservedContainer{"s1": run, "init": ok, "s2": run, "a": fail}),
			PodActions{NextInit: -1, StopSidecars: []int{2, 0}}},
		{"the app is done under OnFailure (exit 0): sidecars stop", pod(corev1.RestartPolicyOnFailure, sc("s1")),
			obs(map[string]ObservedContainer{"s1": run, "a": ok}),
			PodActions{NextInit: -1, StopSidecars: []int{0}}},
		{"a stopped sidecar of a completed pod stays stopped", pod(corev1.RestartPolicyNever, sc("s1")),
			obs(map[string]ObservedContainer{"s1": killed, "a": ok}),
			PodActions{NextInit: -1}},
		{"under Always the app restarts and the sidecar keeps running", pod(corev1.RestartPolicyAlways, sc("s1")),
			obs(map[string]ObservedContainer{"s1": run, "a": ok}),
			PodActions{NextInit: -1, Restart: []int{0}}},
		{"a failed init container under OnFailure restarts at once the first time", pod(corev1.RestartPolicyOnFailure, reg),
			obs(map[string]ObservedContainer{"init": fail}),
			PodActions{NextInit: -1, RestartInit: []int{0}}},
		{"... then backs off (Init:CrashLoopBackOff), the app does not start", pod(corev1.RestartPolicyOnFailure, reg),
			obs(map[string]ObservedContainer{"init": failBacked}),
			PodActions{NextInit: -1, BackingOffInit: []int{0}, WakeAt: t0.Add(10 * time.Second)}},
		{"a failed init container under Never fails the pod", pod(corev1.RestartPolicyNever, reg),
			obs(map[string]ObservedContainer{"init": fail}),
			PodActions{NextInit: -1, InitFailed: "init"}},
		{"before its deadline the pod is woken at it", withDeadline,
			ObservedPod{SandboxReady: true, Now: t0, StartTime: t0, Containers: map[string]ObservedContainer{"a": run}},
			PodActions{NextInit: -1, WakeAt: t0.Add(30 * time.Second)}},
		{"past activeDeadlineSeconds the pod is killed", withDeadline,
			ObservedPod{SandboxReady: true, Now: t0.Add(30 * time.Second), StartTime: t0, Containers: map[string]ObservedContainer{"a": run}},
			PodActions{NextInit: -1, KillPod: ReasonDeadlineExceeded, KillMessage: deadlineMessage}},
		{"a pod that failed for good starts nothing", withDeadline,
			ObservedPod{SandboxReady: true, Now: t0, StartTime: t0, Terminal: true, Containers: map[string]ObservedContainer{"a": killed}},
			PodActions{NextInit: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ComputePodActions(tc.pod, tc.obs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ComputePodActions = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRestartsContainersNeedsAgentForSidecarsAndDeadlines(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	never := &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "a"}}}}
	if RestartsContainers(never) {
		t.Fatal("a Never pod without sidecars or deadline needs no agent")
	}
	sc := never.DeepCopy()
	sc.Spec.InitContainers = []corev1.Container{{Name: "s", RestartPolicy: &always}}
	d := never.DeepCopy()
	d.Spec.ActiveDeadlineSeconds = new(int64)
	if !RestartsContainers(sc) || !RestartsContainers(d) {
		t.Fatal("sidecars and activeDeadlineSeconds need the agent")
	}
}
