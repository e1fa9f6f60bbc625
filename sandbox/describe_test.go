package sandbox

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestDescribePod checks kubectl describe's layout on a pod with a
// crash-looping container, a probe, env, a mount, an emptyDir and folded
// events; and that a status without conditions leaves the section out.
func TestDescribePod(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"b": "2", "a": "1"}},
		Spec: corev1.PodSpec{
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			Containers: []corev1.Container{{Name: "app", Image: "busybox", Command: []string{"sh", "-c", "exit 1"},
				Env:          []corev1.EnvVar{{Name: "A", Value: "x"}, {Name: "P", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data", ReadOnly: true}},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
					PeriodSeconds: 1}}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.5", HostIP: "127.0.0.1", PodIPs: []corev1.PodIP{{IP: "10.0.0.5"}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", ContainerID: "containerd://x-app.3", RestartCount: 3,
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}}},
	}
	evs := []PodEvent{{Type: EventWarning, Reason: "BackOff", Source: "kubelet", Message: "Back-off restarting failed container app in pod web_default(u)",
		Count: 4, FirstSeen: now.Add(-2 * time.Minute), LastSeen: now.Add(-5 * time.Second)}}
	var b bytes.Buffer
	if err := DescribePod(&b, pod, "node1", evs, now); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`(?m)^Name:\s+web$`, `(?m)^Node:\s+node1/127.0.0.1$`, `(?m)^Labels:\s+a=1\n\s+b=2$`, `(?m)^Annotations:\s+<none>$`,
		`(?m)^IPs:\n  IP:\s+10.0.0.5$`, `(?m)^    Container ID:\s+containerd://x-app.3$`,
		`(?m)^    State:\s+Waiting\n      Reason:\s+CrashLoopBackOff$`,
		`(?m)^    Last State:\s+Terminated\n      Reason:\s+Error\n      Exit Code:\s+1$`,
		`(?m)^    Restart Count:\s+3$`,
		`(?m)^    Readiness:\s+http-get http://:8080/healthz delay=0s timeout=1s period=1s #success=1 #failure=3$`,
		`(?m)^      A:\s+x$`, `(?m)^      P:\s+ \(v1:metadata.name\)$`, `(?m)^      /data from data \(ro\)$`,
		`(?m)^QoS Class:\s+BestEffort$`,
		`(?m)^  Warning\s+BackOff\s+5s \(x4 over 2m\)\s+kubelet\s+Back-off restarting failed container app in pod web_default\(u\)$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("no match for %s in:\n%s", want, out)
		}
	}
	if regexp.MustCompile(`(?m)^Conditions:`).MatchString(out) || regexp.MustCompile(`Liveness:`).MatchString(out) {
		t.Errorf("sections without data are printed:\n%s", out)
	}
}
