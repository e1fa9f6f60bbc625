package sandbox

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// checkSecurityProfiles is the API server's validation of seccompProfile,
// appArmorProfile (and the deprecated AppArmor annotation) and procMount,
// for the pod and each container. Whether the host can apply them is
// checked later (checkHostSecurity), before anything is made.
func (v *validator) checkSecurityProfiles() {
	p := v.pod
	if sc := p.Spec.SecurityContext; sc != nil {
		v.checkSeccomp("spec.securityContext.seccompProfile", sc.SeccompProfile)
		v.checkAppArmor("spec.securityContext.appArmorProfile", sc.AppArmorProfile)
	}
	names := map[string]bool{}
	for _, c := range specContainers(p) {
		names[c.Name] = true
		sc := c.SecurityContext
		if sc == nil {
			continue
		}
		f := fmt.Sprintf("container %s securityContext.", c.Name)
		v.checkSeccomp(f+"seccompProfile", sc.SeccompProfile)
		v.checkAppArmor(f+"appArmorProfile", sc.AppArmorProfile)
		if sc.ProcMount != nil {
			switch *sc.ProcMount {
			case corev1.DefaultProcMount:
			case corev1.UnmaskedProcMount:
				if p.Spec.HostUsers == nil || *p.Spec.HostUsers {
					v.fail("%sprocMount Unmasked: `hostUsers` must be false to use `Unmasked` (Kubernetes unmasks /proc only inside a user namespace): remove procMount or set spec.hostUsers: false", f)
				}
			default:
				v.fail("%sprocMount %q is not valid: use Default or Unmasked", f, *sc.ProcMount)
			}
		}
	}
	for key, val := range p.Annotations {
		name, ok := strings.CutPrefix(key, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix)
		if !ok {
			continue
		}
		if !names[name] {
			v.fail("annotation %s: container %q not found in the pod", key, name)
			continue
		}
		v.checkAppArmor("annotation "+key, appArmorFromAnnotation(val))
	}
}

func (v *validator) checkSeccomp(field string, sp *corev1.SeccompProfile) {
	if sp == nil {
		return
	}
	switch sp.Type {
	case corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined:
		if sp.LocalhostProfile != nil {
			v.fail("%s.localhostProfile can only be set when type is Localhost", field)
		}
	case corev1.SeccompProfileTypeLocalhost:
		v.checkLocalhostName(field, sp.LocalhostProfile, true)
	default:
		v.fail("%s.type %q is not valid: use RuntimeDefault, Localhost or Unconfined", field, sp.Type)
	}
}

func (v *validator) checkAppArmor(field string, ap *corev1.AppArmorProfile) {
	if ap == nil {
		return
	}
	switch ap.Type {
	case corev1.AppArmorProfileTypeRuntimeDefault, corev1.AppArmorProfileTypeUnconfined:
		if ap.LocalhostProfile != nil {
			v.fail("%s.localhostProfile can only be set when type is Localhost", field)
		}
	case corev1.AppArmorProfileTypeLocalhost:
		v.checkLocalhostName(field, ap.LocalhostProfile, false)
	default:
		v.fail("%s type %q is not valid: use RuntimeDefault, Localhost or Unconfined", field, ap.Type)
	}
}

// checkLocalhostName: a Localhost profile needs a name; a seccomp one is a
// path below the seccomp root, never outside it.
func (v *validator) checkLocalhostName(field string, name *string, isPath bool) {
	switch {
	case name == nil || strings.TrimSpace(*name) == "":
		v.fail("%s.localhostProfile is required when type is Localhost", field)
	case isPath && (strings.HasPrefix(*name, "/") || hasDotDot(*name)):
		v.fail("%s.localhostProfile %q must be a relative path below the seccomp profile root, without '..'", field, *name)
	}
}
