package sandbox

import (
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Validate checks a whole pod spec before anything is built, so that a bad
// manifest never leaves half a pod behind. It defaults the namespace. It
// returns warnings for valid Kubernetes fields podsim accepts but does not act
// on (probes, restart policy, scheduling), and an error wrapping
// ErrInvalidPod for anything it cannot honour, naming the field.
func Validate(pod *corev1.Pod) (warnings []string, err error) {
	v := &validator{pod: pod}
	v.run()
	if len(v.errs) > 0 {
		return v.warns, fmt.Errorf("%w %q: %s", ErrInvalidPod, pod.Name, strings.Join(v.errs, "; "))
	}
	return v.warns, nil
}

type validator struct {
	pod   *corev1.Pod
	errs  []string
	warns []string
}

func (v *validator) fail(format string, a ...any) { v.errs = append(v.errs, fmt.Sprintf(format, a...)) }
func (v *validator) warn(format string, a ...any) {
	v.warns = append(v.warns, fmt.Sprintf(format, a...))
}

func (v *validator) run() {
	p := v.pod
	if p.Namespace == "" {
		p.Namespace = "default"
	}
	if p.Name == "" {
		v.fail("metadata.name is required")
	} else if msgs := validation.IsDNS1123Subdomain(p.Name); len(msgs) > 0 {
		v.fail("metadata.name %q is not a valid name: %s", p.Name, strings.Join(msgs, ", "))
	} else if len(p.Name) > 63 {
		// The pod name becomes the hostname (UTS namespace), limited to 63 characters.
		v.fail("metadata.name %q is longer than 63 characters and cannot be a hostname", p.Name)
	}
	if msgs := validation.IsDNS1123Label(p.Namespace); len(msgs) > 0 {
		v.fail("metadata.namespace %q is not valid: %s", p.Namespace, strings.Join(msgs, ", "))
	}
	s := &p.Spec
	if len(s.Containers) == 0 {
		v.fail("spec.containers: a pod needs at least one container")
	}
	v.checkIsolation() // host namespaces, ephemeral containers, runtimeClassName
	if s.HostUsers != nil && !*s.HostUsers {
		v.fail("spec.hostUsers: false (user namespaces) is not supported")
	}
	if len(s.NodeSelector) > 0 || s.Affinity != nil || len(s.Tolerations) > 0 || s.NodeName != "" {
		v.warn("scheduling fields (nodeSelector, affinity, tolerations, nodeName) are ignored: podsim has one node")
	}
	if s.RestartPolicy != "" && s.RestartPolicy != corev1.RestartPolicyNever {
		v.warn("spec.restartPolicy %s is not enforced: podsim has no agent, an exited container stays exited", s.RestartPolicy)
	}
	if len(s.ImagePullSecrets) > 0 {
		v.warn("spec.imagePullSecrets are ignored: podsim builds images offline")
	}
	if s.SecurityContext != nil {
		sc := s.SecurityContext
		if sc.SELinuxOptions != nil || sc.SeccompProfile != nil || sc.AppArmorProfile != nil {
			v.warn("spec.securityContext seLinuxOptions/seccompProfile/appArmorProfile are ignored")
		}
		for _, sys := range sc.Sysctls {
			if !namespacedSysctl(sys.Name) {
				v.fail("spec.securityContext.sysctls: %q is not a namespaced sysctl; only net.*, kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* can be set per pod", sys.Name)
			}
		}
	}

	vols := map[string]bool{}
	for i, vol := range s.Volumes {
		f := fmt.Sprintf("spec.volumes[%d]", i)
		if msgs := validation.IsDNS1123Label(vol.Name); len(msgs) > 0 {
			v.fail("%s.name %q is not valid: %s", f, vol.Name, strings.Join(msgs, ", "))
		}
		if vols[vol.Name] {
			v.fail("%s.name %q is defined twice", f, vol.Name)
		}
		vols[vol.Name] = true
		switch {
		case vol.EmptyDir != nil:
			if vol.EmptyDir.Medium != "" && vol.EmptyDir.Medium != corev1.StorageMediumDefault && vol.EmptyDir.Medium != corev1.StorageMediumMemory {
				v.fail("%s.emptyDir.medium %q is not supported (use \"\" or Memory)", f, vol.EmptyDir.Medium)
			}
		case vol.ConfigMap != nil:
			if vol.ConfigMap.Name == "" {
				v.fail("%s.configMap.name is required", f)
			}
			v.checkProjection(f+".configMap", vol.ConfigMap.Items, vol.ConfigMap.DefaultMode)
		case vol.Secret != nil:
			if vol.Secret.SecretName == "" {
				v.fail("%s.secret.secretName is required", f)
			}
			v.checkProjection(f+".secret", vol.Secret.Items, vol.Secret.DefaultMode)
		case vol.HostPath != nil:
			v.fail("%s (%q): hostPath volumes are not supported: podsim pods never see the host's files (use emptyDir, configMap or secret)", f, vol.Name)
		default:
			v.fail("%s (%q): only emptyDir, configMap and secret volumes are supported", f, vol.Name)
		}
	}

	names := map[string]bool{}
	check := func(kind string, i int, c *corev1.Container) {
		f := fmt.Sprintf("spec.%s[%d]", kind, i)
		if c.Name == "" {
			v.fail("%s.name is required", f)
		} else if msgs := validation.IsDNS1123Label(c.Name); len(msgs) > 0 {
			v.fail("%s.name %q is not valid: %s", f, c.Name, strings.Join(msgs, ", "))
		} else {
			f = fmt.Sprintf("spec.%s[%s]", kind, c.Name)
		}
		if names[c.Name] && c.Name != "" {
			v.fail("%s: container name %q is used twice (names must be unique across containers and initContainers)", f, c.Name)
		}
		names[c.Name] = true
		if strings.TrimSpace(c.Image) == "" {
			v.fail("%s.image is required", f)
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil {
				v.fail("%s.env[%s].valueFrom is not supported yet: use value", f, e.Name)
			}
			if e.Name == "" {
				v.fail("%s.env: a variable has no name", f)
			}
		}
		if len(c.EnvFrom) > 0 {
			v.fail("%s.envFrom is not supported yet", f)
		}
		if c.Lifecycle != nil {
			v.fail("%s.lifecycle hooks are not supported", f)
		}
		if len(c.VolumeDevices) > 0 {
			v.fail("%s.volumeDevices are not supported", f)
		}
		if c.LivenessProbe != nil || c.ReadinessProbe != nil || c.StartupProbe != nil {
			v.warn("%s: probes are not run (podsim has no kubelet agent)", f)
		}
		if c.Stdin || c.TTY {
			v.warn("%s: stdin/tty on the container are ignored; use 'podsim exec -it'", f)
		}
		for _, p := range c.Ports {
			if p.ContainerPort < 1 || p.ContainerPort > 65535 {
				v.fail("%s.ports: containerPort %d is out of range 1-65535", f, p.ContainerPort)
			}
			if p.HostPort != 0 && !s.HostNetwork { // hostNetwork: see checkIsolation
				v.fail("%s.ports: hostPort is not supported (podsim never exposes pods outside the machine)", f)
			}
		}
		mounts := map[string]bool{}
		for _, m := range c.VolumeMounts {
			if !vols[m.Name] {
				v.fail("%s.volumeMounts: volume %q is not defined in spec.volumes", f, m.Name)
			}
			if !path.IsAbs(m.MountPath) {
				v.fail("%s.volumeMounts[%s].mountPath %q must be an absolute path", f, m.Name, m.MountPath)
			} else if hasDotDot(m.MountPath) {
				v.fail("%s.volumeMounts[%s].mountPath %q must not contain '..'", f, m.Name, m.MountPath)
			}
			if mounts[path.Clean(m.MountPath)] {
				v.fail("%s.volumeMounts: mountPath %q is used twice", f, m.MountPath)
			}
			mounts[path.Clean(m.MountPath)] = true
			if m.SubPathExpr != "" {
				v.fail("%s.volumeMounts[%s].subPathExpr is not supported", f, m.Name)
			}
			if m.SubPath != "" && (path.IsAbs(m.SubPath) || hasDotDot(m.SubPath)) {
				v.fail("%s.volumeMounts[%s].subPath %q must be a relative path without '..'", f, m.Name, m.SubPath)
			}
			if m.MountPropagation != nil && *m.MountPropagation != corev1.MountPropagationNone {
				v.fail("%s.volumeMounts[%s].mountPropagation is not supported", f, m.Name)
			}
		}
		if err := validateResources(c); err != "" {
			v.fail("%s.resources: %s", f, err)
		}
		if sc := c.SecurityContext; sc != nil {
			if sc.SELinuxOptions != nil || sc.SeccompProfile != nil || sc.AppArmorProfile != nil || sc.ProcMount != nil {
				v.warn("%s.securityContext: seLinuxOptions/seccompProfile/appArmorProfile/procMount are ignored", f)
			}
			if sc.WindowsOptions != nil {
				v.fail("%s.securityContext.windowsOptions make no sense on Linux", f)
			}
		}
	}
	for i := range s.InitContainers {
		c := &s.InitContainers[i]
		if c.RestartPolicy != nil {
			v.fail("spec.initContainers[%s].restartPolicy (native sidecars) is not supported yet", c.Name)
		}
		check("initContainers", i, c)
	}
	for i := range s.Containers {
		check("containers", i, &s.Containers[i])
	}
}

func (v *validator) checkProjection(f string, items []corev1.KeyToPath, mode *int32) {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		v.fail("%s.defaultMode %d must be between 0 and 0777 (511)", f, *mode)
	}
	for _, it := range items {
		if it.Key == "" || it.Path == "" {
			v.fail("%s.items: key and path are required", f)
		}
		if path.IsAbs(it.Path) || hasDotDot(it.Path) || strings.HasPrefix(it.Path, "..") {
			v.fail("%s.items[%s].path %q must be a relative path without '..'", f, it.Key, it.Path)
		}
		if it.Mode != nil && (*it.Mode < 0 || *it.Mode > 0o777) {
			v.fail("%s.items[%s].mode %d must be between 0 and 0777", f, it.Key, *it.Mode)
		}
	}
}

func validateResources(c *corev1.Container) string {
	for _, rl := range []corev1.ResourceList{c.Resources.Limits, c.Resources.Requests} {
		for name, q := range rl {
			switch name {
			case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
			default:
				return fmt.Sprintf("resource %q is not supported (cpu, memory)", name)
			}
			if q.Sign() < 0 {
				return fmt.Sprintf("%s must not be negative (%s)", name, q.String())
			}
		}
	}
	if m, ok := c.Resources.Limits[corev1.ResourceMemory]; ok && m.Value() > 0 && m.Value() < 4<<20 {
		return fmt.Sprintf("memory limit %s is below 4Mi, too small for any container", m.String())
	}
	return ""
}

func hasDotDot(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

// namespacedSysctl reports whether a sysctl belongs to a namespace the pod
// owns (net, ipc), the rule kubelet applies: anything else would change the
// whole node.
func namespacedSysctl(name string) bool {
	name = strings.ReplaceAll(name, "/", ".")
	switch {
	case strings.HasPrefix(name, "net."),
		strings.HasPrefix(name, "fs.mqueue."),
		strings.HasPrefix(name, "kernel.shm"),
		strings.HasPrefix(name, "kernel.msg"),
		name == "kernel.sem":
		return true
	}
	return false
}
