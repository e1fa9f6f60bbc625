package sandbox

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestResolveRuntimeClass(t *testing.T) {
	applied := map[string]*nodev1.RuntimeClass{}
	add := func(name, handler string) *nodev1.RuntimeClass {
		rc := &nodev1.RuntimeClass{Handler: handler}
		rc.Name = name
		applied[name] = rc
		return rc
	}
	add("sandboxed", "runsc")
	add("kata", "kata-qemu")
	add("gvisor", "runc") // an object overrides the built-in of its name
	lookup := func(n string) (*nodev1.RuntimeClass, error) { return applied[n], nil }
	for _, tc := range []struct {
		name, class, handler, err string
		lookup                    RuntimeClassLookup
	}{
		{name: "unset is runc", class: "", handler: "runc", lookup: lookup},
		{name: "built-in runc", class: "runc", handler: "runc"},
		{name: "built-in gvisor", class: "gvisor", handler: "runsc"},
		{name: "applied object", class: "sandboxed", handler: "runsc", lookup: lookup},
		{name: "object over built-in", class: "gvisor", handler: "runc", lookup: lookup},
		{name: "unknown class", class: "nope", lookup: lookup, err: `RuntimeClass "nope" not found`},
		{name: "unknown handler", class: "kata", lookup: lookup, err: `names handler "kata-qemu", which podsim's containerd does not have`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _, err := ResolveRuntimeClass(tc.class, tc.lookup)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrRuntimeClass) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || h != tc.handler {
				t.Fatalf("= %q, %v; want %q", h, err, tc.handler)
			}
		})
	}
}

func TestRuntimeClassWarnings(t *testing.T) {
	rc := &nodev1.RuntimeClass{Handler: "runsc",
		Overhead:   &nodev1.Overhead{PodFixed: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}},
		Scheduling: &nodev1.Scheduling{NodeSelector: map[string]string{"gvisor": "yes"}}}
	rc.Name = "gv"
	w := strings.Join(RuntimeClassWarnings(rc), "\n")
	for _, want := range []string{`RuntimeClass "gv" overhead.podFixed is ignored`, `RuntimeClass "gv" scheduling is ignored`} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings %q lack %q", w, want)
		}
	}
	if w := RuntimeClassWarnings(&nodev1.RuntimeClass{Handler: "runc"}); len(w) != 0 {
		t.Errorf("plain class warned: %q", w)
	}
}

func TestCheckGVisorPod(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name string
		spec corev1.PodSpec
		want string
	}{
		{"plain", corev1.PodSpec{}, ""},
		{"hostNetwork", corev1.PodSpec{HostNetwork: true}, "spec.hostNetwork"},
		{"shareProcessNamespace", corev1.PodSpec{ShareProcessNamespace: &yes}, "spec.shareProcessNamespace"},
		{"hostPID", corev1.PodSpec{HostPID: true}, "spec.hostPID"},
		{"hostIPC", corev1.PodSpec{HostIPC: true}, "spec.hostIPC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkGVisorPod(&corev1.Pod{Spec: tc.spec})
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestValidateRuntimeClass(t *testing.T) {
	rc := &nodev1.RuntimeClass{Handler: "Bad_Handler"}
	rc.Name = "x"
	if err := ValidateRuntimeClass(rc); err == nil || !strings.Contains(err.Error(), "DNS label") {
		t.Fatalf("err = %v", err)
	}
	rc.Handler = ""
	if err := ValidateRuntimeClass(rc); err == nil || !strings.Contains(err.Error(), "handler is required") {
		t.Fatalf("err = %v", err)
	}
}

func TestSandboxOf(t *testing.T) {
	for id, want := range map[string]string{
		"abc123def456":          "",
		"abc123def456-c1":       "abc123def456",
		"abc123def456-my-app.2": "abc123def456",
	} {
		if got := sandboxOf(id); got != want {
			t.Errorf("sandboxOf(%q) = %q, want %q", id, got, want)
		}
	}
	if id := ContainerAttemptID("abc123def456", "web-1", 3); sandboxOf(id) != "abc123def456" {
		t.Errorf("sandboxOf(%q) is not its sandbox", id)
	}
}
