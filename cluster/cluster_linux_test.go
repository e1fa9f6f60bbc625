package cluster

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodUp(t *testing.T) {
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	waiting := func(r string) corev1.ContainerState {
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: r}}
	}
	exited := func(code int32) corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: "Error"}}
	}
	pod := func(phase corev1.PodPhase, init []corev1.ContainerState, app ...corev1.ContainerState) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Status: corev1.PodStatus{Phase: phase}}
		for _, s := range init {
			p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, corev1.ContainerStatus{Name: "init", State: s})
		}
		for i, s := range app {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: string(rune('a' + i))})
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: string(rune('a' + i)), State: s})
		}
		return p
	}
	for _, tc := range []struct {
		name    string
		pod     *corev1.Pod
		up      bool
		errWord string
	}{
		{"running", pod(corev1.PodRunning, nil, running, running), true, ""},
		{"one still creating", pod(corev1.PodRunning, nil, running, waiting("ContainerCreating")), false, ""},
		{"OOM-killed sibling counts as started", pod(corev1.PodRunning, nil, running, exited(137)), true, ""},
		{"succeeded", pod(corev1.PodSucceeded, nil, exited(0)), true, ""},
		{"pending", pod(corev1.PodPending, nil, waiting("ContainerCreating")), false, ""},
		{"image missing", pod(corev1.PodPending, nil, waiting("ErrImageNeverPull")), false, "ErrImageNeverPull"},
		{"init failed", pod(corev1.PodPending, []corev1.ContainerState{exited(1)}, waiting("PodInitializing")), false, "Init:Error"},
	} {
		up, err := podUp(tc.pod)
		if up != tc.up || (tc.errWord == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.errWord)) {
			t.Errorf("%s: podUp = %v, %v; want %v, error with %q", tc.name, up, err, tc.up, tc.errWord)
		}
	}
}

func TestGroupPIDs(t *testing.T) {
	// pid ppid cgroup-line, as nodeReader.pids prints them (cgroupfs driver).
	out := `100 90 4:memory:/k/kubepods/besteffort/podU/sandboxid
200 95 4:memory:/k/kubepods/besteffort/podU/aaa111
201 200 4:memory:/k/kubepods/besteffort/podU/aaa111
300 96 4:memory:/k/kubepods/besteffort/podU/bbb222
`
	got := groupPIDs(out, map[string]string{"aaa111": "c1", "bbb222": "c2"})
	want := map[string]int{"POD": 100, "c1": 200, "c2": 300}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got pid %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}

func TestAdapt(t *testing.T) {
	objs, err := parseManifest(`apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      initContainers: [{name: i, image: busybox}]
      containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {a: b}
`)
	if err != nil || len(objs) != 2 {
		t.Fatalf("parse: %v %d", err, len(objs))
	}
	for _, o := range objs {
		if err := adapt(o, "node-1", corev1.PullNever); err != nil {
			t.Fatal(err)
		}
	}
	spec := objs[0].Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	if spec["nodeName"] != "node-1" {
		t.Errorf("nodeName = %v", spec["nodeName"])
	}
	for _, k := range []string{"initContainers", "containers"} {
		c := spec[k].([]any)[0].(map[string]any)
		if c["imagePullPolicy"] != "Never" {
			t.Errorf("%s imagePullPolicy = %v", k, c["imagePullPolicy"])
		}
	}
	if _, ok := objs[1].Object["spec"]; ok {
		t.Errorf("ConfigMap got a spec: %v", objs[1].Object)
	}
}

func TestParseProcesses(t *testing.T) {
	out := "P 1\n0::/init.scope\nC /sbin/init splash\n" +
		"P 42\n12:memory:/kubepods/besteffort/podu/abc\n11:pids:/kubepods/besteffort/podu/abc\n0::/\nC sleep 5000\n" +
		"P 43\nC \n" + // a kernel thread: no cgroup read, empty cmdline
		"P x\nC junk\n"
	ps := parseProcesses(out)
	if len(ps) != 3 {
		t.Fatalf("got %d processes, want 3: %+v", len(ps), ps)
	}
	want := []struct {
		pid      int
		cmd, cgr string
	}{{1, "/sbin/init splash", "/init.scope"}, {42, "sleep 5000", "/kubepods/besteffort/podu/abc"}, {43, "", ""}}
	for i, w := range want {
		if p := ps[i]; p.PID != w.pid || p.Cmdline != w.cmd || p.Cgroup != w.cgr {
			t.Errorf("process %d = %+v, want %+v", i, p, w)
		}
	}
}

func TestKubeletRootDir(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"kubelet", "--root-dir", "/var/lib/podsim-cluster/kubelet", "--v=1"}, "/var/lib/podsim-cluster/kubelet"},
		{[]string{"kubelet", "--root-dir=/srv/k"}, "/srv/k"},
		{[]string{"kubelet", "--config", "x"}, "/var/lib/kubelet"},
	} {
		if got := kubeletRootDir(tc.args); got != tc.want {
			t.Errorf("kubeletRootDir(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestRuntimeInfo(t *testing.T) {
	yes := true
	none := runtimeInfo{node: "n", version: "containerd://1.6.20"}
	if none.userNamespaces() || none.handlers() != "none reported" {
		t.Errorf("no handlers: userNamespaces %v, handlers %q", none.userNamespaces(), none.handlers())
	}
	withUserNS := runtimeInfo{handler: []corev1.NodeRuntimeHandler{{Name: "runc"}, {Name: "", Features: &corev1.NodeRuntimeHandlerFeatures{UserNamespaces: &yes}}}}
	if !withUserNS.userNamespaces() {
		t.Errorf("the default handler supports user namespaces: %s", withUserNS.handlers())
	}
	if h := withUserNS.handlers(); h != "runc, (default) userNamespaces=true" {
		t.Errorf("handlers = %q", h)
	}
}
