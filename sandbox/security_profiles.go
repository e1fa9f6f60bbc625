package sandbox

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/contrib/apparmor"
	"github.com/containerd/containerd/contrib/seccomp"
	"github.com/containerd/containerd/oci"
	corev1 "k8s.io/api/core/v1"
)

// seccompProfile, appArmorProfile and procMount, as kubelet chooses them
// (kuberuntime's getSeccompProfile, apparmor.GetProfile) and containerd's
// CRI turns them into the OCI spec (generateSeccompSpecOpts,
// generateApparmorSpecOpts), with containerd's own default profiles
// (contrib/seccomp, contrib/apparmor).

// securityNode is what the host offers for seccomp and AppArmor.
type securityNode struct {
	// SeccompRoot is where Localhost seccomp profiles live, kubelet's
	// <root-dir>/seccomp: /var/lib/podsim/seccomp.
	SeccompRoot string
	// AppArmorKernel: the kernel has AppArmor enabled
	// (/sys/module/apparmor/parameters/enabled is Y), kubelet's admission check.
	AppArmorKernel bool
	// AppArmorRuntime: containerd's CRI would apply profiles here
	// (pkg/apparmor.HostSupports: the kernel's, and /sbin/apparmor_parser to
	// load its default profile with).
	AppArmorRuntime bool
}

// AppArmorDefaultProfile is the name containerd's CRI loads its
// RuntimeDefault AppArmor profile under.
const AppArmorDefaultProfile = "cri-containerd.apparmor.d"

// SeccompRoot is kubelet's seccomp profile root for podsim's paths.
func (p Paths) SeccompRoot() string { return filepath.Join(p.State, "seccomp") }

// effectiveSeccomp is kubelet's choice: the container's profile, else the
// pod's; nil when neither is set. field names where it came from.
func effectiveSeccomp(pod *corev1.Pod, c *corev1.Container) (p *corev1.SeccompProfile, field string) {
	if c.SecurityContext != nil && c.SecurityContext.SeccompProfile != nil {
		return c.SecurityContext.SeccompProfile, "container " + c.Name + " securityContext.seccompProfile"
	}
	if sc := pod.Spec.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		return sc.SeccompProfile, "spec.securityContext.seccompProfile"
	}
	return nil, ""
}

// effectiveAppArmor is kubelet's apparmor.GetProfile: the container's
// field, else the deprecated per-container annotation, else the pod's field.
func effectiveAppArmor(pod *corev1.Pod, c *corev1.Container) (p *corev1.AppArmorProfile, field string) {
	if c.SecurityContext != nil && c.SecurityContext.AppArmorProfile != nil {
		return c.SecurityContext.AppArmorProfile, "container " + c.Name + " securityContext.appArmorProfile"
	}
	key := corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + c.Name
	if v, ok := pod.Annotations[key]; ok {
		return appArmorFromAnnotation(v), "annotation " + key
	}
	if sc := pod.Spec.SecurityContext; sc != nil && sc.AppArmorProfile != nil {
		return sc.AppArmorProfile, "spec.securityContext.appArmorProfile"
	}
	return nil, ""
}

// appArmorFromAnnotation reads the annotation's value as the API server
// converts it: runtime/default, unconfined, localhost/<name>; anything else
// is kept as a type validation refuses.
func appArmorFromAnnotation(v string) *corev1.AppArmorProfile {
	switch {
	case v == corev1.DeprecatedAppArmorBetaProfileRuntimeDefault:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	case v == corev1.DeprecatedAppArmorBetaProfileNameUnconfined:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
	case strings.HasPrefix(v, corev1.DeprecatedAppArmorBetaProfileNamePrefix):
		name := strings.TrimPrefix(v, corev1.DeprecatedAppArmorBetaProfileNamePrefix)
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &name}
	}
	return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileType(v)}
}

// appArmorRequired is kubelet's apparmor isRequired: some container asks
// for a profile other than Unconfined.
func appArmorRequired(pod *corev1.Pod) (bool, string) {
	for _, c := range specContainers(pod) {
		if p, field := effectiveAppArmor(pod, &c); p != nil && p.Type != corev1.AppArmorProfileTypeUnconfined {
			return true, field
		}
	}
	return false, ""
}

// isPrivileged reports securityContext.privileged: CRI sets no seccomp
// filter and no RuntimeDefault AppArmor profile for such containers.
func isPrivileged(c *corev1.Container) bool {
	return c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged
}

// withSecurityProfiles is CRI's seccomp, AppArmor and procMount options
// for a container; they come after the capabilities, which containerd's
// default seccomp profile depends on. Without a seccompProfile a container
// is Unconfined: kubelet 1.34 asks for RuntimeDefault only on nodes that
// set seccompDefault: true, which is off unless the node opts in.
func withSecurityProfiles(pod *corev1.Pod, c *corev1.Container, node securityNode) []oci.SpecOpts {
	var opts []oci.SpecOpts
	if p, _ := effectiveSeccomp(pod, c); p != nil && !isPrivileged(c) {
		switch p.Type {
		case corev1.SeccompProfileTypeRuntimeDefault:
			opts = append(opts, seccomp.WithDefaultProfile())
		case corev1.SeccompProfileTypeLocalhost:
			opts = append(opts, seccomp.WithProfile(filepath.Join(node.SeccompRoot, *p.LocalhostProfile)))
		}
	}
	if o := appArmorOpt(pod, c, node); o != nil {
		opts = append(opts, o)
	}
	if c.SecurityContext != nil && c.SecurityContext.ProcMount != nil && *c.SecurityContext.ProcMount == corev1.UnmaskedProcMount {
		// kubelet sends no masked and no read-only paths: /proc as the
		// user namespace's root may see it.
		opts = append(opts, oci.WithMaskedPaths(nil), oci.WithReadonlyPaths(nil))
	}
	return opts
}

// appArmorOpt is CRI's generateApparmorSpecOpts: nothing where containerd
// cannot apply AppArmor (admission refused any profile then); unset means
// RuntimeDefault, containerd's profile, loaded on first use, not for
// privileged containers; Localhost names a profile the host has loaded.
func appArmorOpt(pod *corev1.Pod, c *corev1.Container, node securityNode) oci.SpecOpts {
	if !node.AppArmorRuntime {
		return nil
	}
	p, _ := effectiveAppArmor(pod, c)
	switch {
	case p == nil || p.Type == corev1.AppArmorProfileTypeRuntimeDefault:
		if isPrivileged(c) {
			return nil
		}
		return apparmor.WithDefaultProfile(AppArmorDefaultProfile)
	case p.Type == corev1.AppArmorProfileTypeLocalhost:
		return apparmor.WithProfile(*p.LocalhostProfile)
	}
	return nil
}

// checkSeccompLocalhost is what containerd would fail on at CreateContainer,
// checked before anything is made: a Localhost profile must be a file
// under the seccomp root.
func checkSeccompLocalhost(pod *corev1.Pod, root string, readable func(string) error) error {
	for _, c := range specContainers(pod) {
		p, field := effectiveSeccomp(pod, &c)
		if p == nil || p.Type != corev1.SeccompProfileTypeLocalhost || isPrivileged(&c) {
			continue
		}
		path := filepath.Join(root, *p.LocalhostProfile)
		if err := readable(path); err != nil {
			return fmt.Errorf("%s: Localhost profile %q: %w: put the seccomp profile (OCI JSON) at %s (kubelet reads Localhost profiles from <root-dir>/seccomp; podsim's is %s), or use RuntimeDefault", field, *p.LocalhostProfile, err, path, root)
		}
	}
	return nil
}

// specContainers lists init containers, then app containers (allContainers
// is Linux-only).
func specContainers(pod *corev1.Pod) []corev1.Container {
	return append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
}
