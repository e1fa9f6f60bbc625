package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

// TestSecurityProfilesSpec: the seccomp filter, AppArmor profile and
// masked paths runc is told for each profile, as CRI builds them.
func TestSecurityProfilesSpec(t *testing.T) {
	root := t.TempDir()
	prof := `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}`
	if err := os.WriteFile(filepath.Join(root, "deny-mkdir.json"), []byte(prof), 0o644); err != nil {
		t.Fatal(err)
	}
	name := "deny-mkdir.json"
	aaName := "my-profile"
	unmasked := corev1.UnmaskedProcMount
	yes, no := true, false
	for _, tc := range []struct {
		name        string
		podSC       *corev1.PodSecurityContext
		sc          *corev1.SecurityContext
		annotations map[string]string
		node        securityNode
		seccomp     string // "" none, "default", "localhost"
		apparmor    string
		masked      bool
	}{
		{name: "nothing set: Unconfined, kubelet 1.34's default", masked: true},
		{name: "pod RuntimeDefault: containerd's profile", podSC: &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			seccomp: "default", masked: true},
		{name: "the container's Unconfined wins over the pod's", podSC: &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			sc: &corev1.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}}, masked: true},
		{name: "Localhost: the file under the seccomp root", sc: &corev1.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: &name}},
			seccomp: "localhost", masked: true},
		{name: "privileged: no filter", sc: &corev1.SecurityContext{Privileged: &yes, SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}},
		{name: "procMount Unmasked: no masked paths", sc: &corev1.SecurityContext{ProcMount: &unmasked}},
		{name: "AppArmor host, unset: containerd's default profile", sc: &corev1.SecurityContext{Privileged: &no}, node: securityNode{AppArmorKernel: true, AppArmorRuntime: true},
			apparmor: AppArmorDefaultProfile, masked: true},
		{name: "AppArmor host, Localhost by the old annotation", annotations: map[string]string{corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + "c1": "localhost/" + aaName},
			node: securityNode{AppArmorKernel: true, AppArmorRuntime: true}, apparmor: aaName, masked: true},
		{name: "AppArmor host, Unconfined", podSC: &corev1.PodSecurityContext{AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}},
			node: securityNode{AppArmorKernel: true, AppArmorRuntime: true}, masked: true},
		{name: "no AppArmor on the host: none", masked: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: tc.podSC, Containers: []corev1.Container{{Name: "c1", SecurityContext: tc.sc}}}}
			pod.Name, pod.Annotations = "podtest", tc.annotations
			node := tc.node
			node.SeccompRoot = root
			if tc.apparmor == AppArmorDefaultProfile {
				// Loading containerd's profile needs the host's AppArmor;
				// the choice is what is checked here.
				if o := appArmorOpt(pod, &pod.Spec.Containers[0], node); o == nil {
					t.Fatal("no AppArmor option, want containerd's default profile")
				}
				return
			}
			n := testNode
			n.Security = node
			opts, err := containerSpecOpts(containerConfig{ID: "abc-c1", SandboxID: "abc", Pod: pod, Container: &pod.Spec.Containers[0],
				Image: ImageConfig{Cmd: []string{"sh"}}, PausePID: 42, Cgroup: "/podsim/pod1", Mounts: podMounts(testFiles, nil), Node: n})
			if err != nil {
				t.Fatal(err)
			}
			s := genSpec(t, opts...)
			switch sec := s.Linux.Seccomp; {
			case tc.seccomp == "" && sec != nil:
				t.Errorf("seccomp %s with %d rules, want none", sec.DefaultAction, len(sec.Syscalls))
			case tc.seccomp == "default" && (sec == nil || sec.DefaultAction != specs.ActErrno || len(sec.Syscalls) < 10):
				t.Errorf("seccomp %+v, want containerd's default profile", sec)
			case tc.seccomp == "localhost" && (sec == nil || sec.DefaultAction != specs.ActAllow || len(sec.Syscalls) != 1 || sec.Syscalls[0].Names[0] != "mkdir"):
				t.Errorf("seccomp %+v, want the profile file's", sec)
			}
			if s.Process.ApparmorProfile != tc.apparmor {
				t.Errorf("apparmor profile %q, want %q", s.Process.ApparmorProfile, tc.apparmor)
			}
			if got := len(s.Linux.MaskedPaths) > 0; got != tc.masked {
				t.Errorf("masked paths %v, want masked %v", s.Linux.MaskedPaths, tc.masked)
			}
		})
	}
}

// TestSeccompLocalhostMissing: a Localhost profile that is not there is
// refused before anything is made, naming the field, the path and the fix.
func TestSeccompLocalhostMissing(t *testing.T) {
	name := "nope.json"
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c1",
		SecurityContext: &corev1.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: &name}}}}}}
	err := checkSeccompLocalhost(pod, "/var/lib/podsim/seccomp", func(string) error { return os.ErrNotExist })
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "/var/lib/podsim/seccomp/nope.json") ||
		!strings.Contains(err.Error(), "container c1 securityContext.seccompProfile") {
		t.Errorf("err = %v", err)
	}
}
