package sandbox

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestTimingsDefaults(t *testing.T) {
	got := timingsOf(&corev1.Probe{})
	want := probeTimings{Period: 10 * time.Second, Timeout: time.Second, Success: 1, Failure: 3}
	if got != want {
		t.Errorf("defaults = %+v, want the API's %+v", got, want)
	}
	got = timingsOf(&corev1.Probe{InitialDelaySeconds: 2, PeriodSeconds: 1, TimeoutSeconds: 5, SuccessThreshold: 2, FailureThreshold: 1})
	want = probeTimings{InitialDelay: 2 * time.Second, Period: time.Second, Timeout: 5 * time.Second, Success: 2, Failure: 1}
	if got != want {
		t.Errorf("set = %+v, want %+v", got, want)
	}
}

// TestProbeRunThresholds replays kubelet's worker.doProbe: a result counts
// after failureThreshold/successThreshold runs in a row; a liveness or
// startup failure that counts puts the worker on hold.
func TestProbeRunThresholds(t *testing.T) {
	S, F := ProbeSuccess, ProbeFailure
	for _, tc := range []struct {
		name    string
		typ     ProbeType
		tm      probeTimings
		runs    []ProbeResult
		set     []bool // whether each run changed the probe result
		hold    bool   // on hold after the last run
		initial ProbeResult
	}{
		{"readiness needs 3 failures", ReadinessProbe, probeTimings{Success: 1, Failure: 3}, []ProbeResult{F, F, F, F}, []bool{false, false, true, true}, false, ProbeFailure},
		{"readiness success at once", ReadinessProbe, probeTimings{Success: 1, Failure: 3}, []ProbeResult{S, F, S}, []bool{true, false, true}, false, ProbeFailure},
		{"readiness successThreshold 2", ReadinessProbe, probeTimings{Success: 2, Failure: 1}, []ProbeResult{S, S, F, S}, []bool{false, true, true, false}, false, ProbeFailure},
		{"liveness failure interrupted", LivenessProbe, probeTimings{Success: 1, Failure: 2}, []ProbeResult{F, S, F}, []bool{false, true, false}, false, ProbeSuccess},
		{"liveness kills after 2", LivenessProbe, probeTimings{Success: 1, Failure: 2}, []ProbeResult{S, F, F}, []bool{true, false, true}, true, ProbeSuccess},
		{"startup fails", StartupProbe, probeTimings{Success: 1, Failure: 1}, []ProbeResult{F}, []bool{true}, true, ProbeUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := initialResult(tc.typ); got != tc.initial {
				t.Errorf("initial result %v, want %v", got, tc.initial)
			}
			r := probeRun{Last: initialResult(tc.typ)}
			for i, res := range tc.runs {
				var set bool
				r, set = r.next(tc.typ, tc.tm, res)
				if set != tc.set[i] {
					t.Errorf("run %d (%v): set=%v, want %v", i, res, set, tc.set[i])
				}
			}
			if r.OnHold != tc.hold {
				t.Errorf("on hold %v, want %v", r.OnHold, tc.hold)
			}
		})
	}
}

func TestProbeGates(t *testing.T) {
	for _, tc := range []struct {
		typ     ProbeType
		started bool
		run     bool
	}{
		{StartupProbe, false, true}, {StartupProbe, true, false},
		{LivenessProbe, false, false}, {LivenessProbe, true, true},
		{ReadinessProbe, false, false}, {ReadinessProbe, true, true},
	} {
		if got := probeGates(tc.typ, tc.started); got != tc.run {
			t.Errorf("%s probe, started=%v: runs=%v, want %v", tc.typ, tc.started, got, tc.run)
		}
	}
}

func TestKillMessageAndGrace(t *testing.T) {
	pod := &corev1.Pod{}
	if got := killMessage(pod, "app", LivenessProbe); got != "Container app failed liveness probe, will be restarted" {
		t.Errorf("Always: %q", got)
	}
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	if got := killMessage(pod, "app", StartupProbe); got != "Container app failed startup probe" {
		t.Errorf("Never: %q", got)
	}
	five, one := int64(5), int64(1)
	pod.Spec.TerminationGracePeriodSeconds = &five
	if g := killGrace(pod, &corev1.Probe{}); g != 5*time.Second {
		t.Errorf("pod grace: %v", g)
	}
	if g := killGrace(pod, &corev1.Probe{TerminationGracePeriodSeconds: &one}); g != time.Second {
		t.Errorf("probe grace: %v", g)
	}
}

func TestValidateProbes(t *testing.T) {
	c := &corev1.Container{Name: "app", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}
	exec := corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}
	one := int64(1)
	for _, tc := range []struct {
		name  string
		set   func(c *corev1.Container)
		error string
	}{
		{"ok", func(c *corev1.Container) {
			c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("http")}}}
		}, ""},
		{"no handler", func(c *corev1.Container) { c.ReadinessProbe = &corev1.Probe{} }, "needs exactly one handler"},
		{"two handlers", func(c *corev1.Container) {
			c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: exec.Exec, TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(1)}}}
		}, "it has 2"},
		{"unknown port name", func(c *corev1.Container) {
			c.StartupProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("grpc")}}}
		}, `port "grpc" is not the name`},
		{"liveness successThreshold", func(c *corev1.Container) {
			c.LivenessProbe = &corev1.Probe{ProbeHandler: exec, SuccessThreshold: 2}
		}, "successThreshold must be 1"},
		{"readiness grace", func(c *corev1.Container) {
			c.ReadinessProbe = &corev1.Probe{ProbeHandler: exec, TerminationGracePeriodSeconds: &one}
		}, "only for liveness and startup"},
		{"bad scheme", func(c *corev1.Container) {
			c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80), Scheme: "FTP"}}}
		}, "must be HTTP or HTTPS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := c.DeepCopy()
			tc.set(cc)
			errs := strings.Join(validateProbes("spec.containers[app]", cc), "; ")
			if (tc.error == "") != (errs == "") || !strings.Contains(errs, tc.error) {
				t.Errorf("errors %q, want one containing %q", errs, tc.error)
			}
		})
	}
}

// TestPodConditions: a pod is Ready when every container is; a condition
// keeps its transition time while its status stays.
func TestPodConditions(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ps := &PodState{Record: &Record{Pod: corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}}}},
		Pause:      ContainerState{Status: "running"},
		Containers: []ContainerState{{Name: "a", Status: "running", Ready: true}, {Name: "b", Status: "running"}}}
	conds := podConditions(ps, nil, t0)
	if conditionTrue(conds, corev1.PodReady) || conds[3].Message != "containers with unready status: [b]" {
		t.Fatalf("b not ready, got %+v", conds[3])
	}
	if !conditionTrue(conds, corev1.PodInitialized) || !conditionTrue(conds, corev1.PodScheduled) {
		t.Errorf("scheduled and initialized: %+v", conds)
	}
	ps.Containers[1].Ready = true
	conds2 := podConditions(ps, conds, t0.Add(time.Minute))
	if !conditionTrue(conds2, corev1.PodReady) || !conds2[3].LastTransitionTime.Equal(&metav1.Time{Time: t0.Add(time.Minute)}) {
		t.Errorf("Ready flipped at t0+1m: %+v", conds2[3])
	}
	if !conds2[0].LastTransitionTime.Equal(&metav1.Time{Time: t0}) {
		t.Errorf("PodScheduled kept its time: %+v", conds2[0])
	}
	if sameConditions(conds, conds2) {
		t.Error("sameConditions missed the flip")
	}
	ps.Pause.Status = "exited"
	if conditionTrue(podConditions(ps, conds2, t0), corev1.PodReady) {
		t.Error("a pod without its sandbox is not ready")
	}
}

func TestContainerVerdict(t *testing.T) {
	probe := &corev1.Probe{}
	running := ContainerState{ID: "p-a", Status: "running"}
	for _, tc := range []struct {
		name           string
		c              corev1.Container
		cs             ContainerState
		pr             ProbedContainer
		started, ready bool
	}{
		{"no probes", corev1.Container{}, running, ProbedContainer{}, true, true},
		{"exited", corev1.Container{}, ContainerState{Status: "exited"}, ProbedContainer{}, false, false},
		{"readiness unknown", corev1.Container{ReadinessProbe: probe}, running, ProbedContainer{}, true, false},
		{"readiness ok", corev1.Container{ReadinessProbe: probe}, running, ProbedContainer{ID: "p-a", Ready: true}, true, true},
		{"old attempt's result", corev1.Container{ReadinessProbe: probe}, running, ProbedContainer{ID: "p-a.1", Ready: true}, true, false},
		{"not started", corev1.Container{StartupProbe: probe}, running, ProbedContainer{ID: "p-a"}, false, false},
		{"started", corev1.Container{StartupProbe: probe}, running, ProbedContainer{ID: "p-a", Started: true}, true, true},
	} {
		s, r := containerVerdict(&tc.c, tc.cs, tc.pr)
		if s != tc.started || r != tc.ready {
			t.Errorf("%s: started=%v ready=%v, want %v %v", tc.name, s, r, tc.started, tc.ready)
		}
	}
}

func TestAgentKeeps(t *testing.T) {
	never := corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "a"}}}
	if agentKeeps(&corev1.Pod{Spec: never}) {
		t.Error("Never without probes needs no agent")
	}
	limit := resource.MustParse("1Gi")
	sized := never
	sized.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &limit}}}}
	if !agentKeeps(&corev1.Pod{Spec: sized}) {
		t.Error("Never with a disk emptyDir sizeLimit needs the agent (eviction)")
	}
	never.Containers[0].LivenessProbe = &corev1.Probe{}
	if !agentKeeps(&corev1.Pod{Spec: never}) {
		t.Error("Never with a liveness probe needs the agent")
	}
}
