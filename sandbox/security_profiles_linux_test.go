package sandbox

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestAppArmorRefusedWithoutAppArmor: on a host whose kernel has no
// AppArmor, kubelet refuses a pod asking for a profile; Unconfined passes.
func TestAppArmorRefusedWithoutAppArmor(t *testing.T) {
	pod := func(typ corev1.AppArmorProfileType) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{AppArmorProfile: &corev1.AppArmorProfile{Type: typ}},
			Containers: []corev1.Container{{Name: "c1"}}}}
	}
	off := securityNode{SeccompRoot: t.TempDir()}
	err := checkHostSecurity(pod(corev1.AppArmorProfileTypeRuntimeDefault), off)
	if err == nil || !strings.Contains(err.Error(), "spec.securityContext.appArmorProfile: AppArmor is not enabled on the host") {
		t.Errorf("RuntimeDefault without AppArmor: err = %v", err)
	}
	if err := checkHostSecurity(pod(corev1.AppArmorProfileTypeUnconfined), off); err != nil {
		t.Errorf("Unconfined without AppArmor: %v", err)
	}
	noParser := securityNode{SeccompRoot: off.SeccompRoot, AppArmorKernel: true}
	if err := checkHostSecurity(pod(corev1.AppArmorProfileTypeRuntimeDefault), noParser); err == nil || !strings.Contains(err.Error(), "apparmor_parser") {
		t.Errorf("RuntimeDefault without apparmor_parser: err = %v", err)
	}
}
