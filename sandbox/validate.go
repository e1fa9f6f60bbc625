package sandbox

import (
	"fmt"
	"path"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Validate checks a whole pod spec before anything is built, so that a bad
// manifest never leaves half a pod behind. It defaults the namespace. Every
// set field is looked up in the field table (fields.go): it returns a
// warning for each set field podsim accepts but does not act on (probes,
// restart policy, scheduling), and an error wrapping ErrInvalidPod for each
// it cannot honour and for each bad value, naming the field.
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
	v.checkMeta()
	v.checkPodSpec()
	v.checkDNS()
	v.checkSecurityProfiles()
	vols := v.checkVolumes()
	names := map[string]bool{}
	for i := range v.pod.Spec.InitContainers {
		v.checkContainer("initContainers", i, &v.pod.Spec.InitContainers[i], vols, names)
	}
	for i := range v.pod.Spec.Containers {
		v.checkContainer("containers", i, &v.pod.Spec.Containers[i], vols, names)
	}
	v.checkLifecycle() // sidecars, hooks, termination messages (validate_lifecycle.go)
}

// checkMeta checks the pod's name and namespace.
func (v *validator) checkMeta() {
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
}

// checkPodSpec checks the pod-level fields: every set field against the
// field table, the isolation switches, restartPolicy and sysctls.
func (v *validator) checkPodSpec() {
	p := v.pod
	s := &p.Spec
	if len(s.Containers) == 0 {
		v.fail("spec.containers: a pod needs at least one container")
	}
	// Every set field the table warns about or refuses, by name.
	warns, errs := checkFields("pod.spec", "spec", reflect.ValueOf(s).Elem())
	v.warns, v.errs = append(v.warns, warns...), append(v.errs, errs...)
	v.checkIsolation() // what Kubernetes refuses next to host namespaces
	switch s.RestartPolicy {
	case "", corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever: // the node agent enforces it
	default:
		v.fail("spec.restartPolicy %q is not valid: use Always, OnFailure or Never", s.RestartPolicy)
	}
	v.checkPodGroups(s.SecurityContext)
	if s.SecurityContext != nil {
		sc := s.SecurityContext
		for _, sys := range sc.Sysctls {
			if !namespacedSysctl(sys.Name) {
				v.fail("spec.securityContext.sysctls: %q is not a namespaced sysctl; only net.*, kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* can be set per pod", sys.Name)
			}
		}
	}

}

// checkVolumes checks the pod's volumes and returns their names.
func (v *validator) checkVolumes() map[string]bool {
	s := &v.pod.Spec
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
			v.checkEmptyDirSize(fmt.Sprintf("spec.volumes[%s]", vol.Name), vol.EmptyDir)
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
		case vol.DownwardAPI != nil:
			v.checkDownwardAPI(f+".downwardAPI", vol.DownwardAPI.Items, vol.DownwardAPI.DefaultMode)
		case vol.Projected != nil:
			v.checkProjected(f+".projected", vol.Projected)
		case vol.HostPath != nil:
			v.checkHostPath(f, vol.HostPath)
		case reflect.ValueOf(vol.VolumeSource).IsZero():
			v.fail("%s (%q) has no source: emptyDir, configMap, secret, downwardAPI, projected and hostPath volumes are supported", f, vol.Name)
		}
		// Other sources are refused by checkFields, naming the source.
	}
	return vols
}

// checkContainer checks one init or app container; names collects the
// container names seen so far (unique across both kinds).
func (v *validator) checkContainer(kind string, i int, c *corev1.Container, vols, names map[string]bool) {
	s := &v.pod.Spec
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
		if e.Name == "" {
			v.fail("%s.env: a variable has no name", f)
		}
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
		if m.SubPath != "" && (path.IsAbs(m.SubPath) || hasDotDot(m.SubPath)) {
			v.fail("%s.volumeMounts[%s].subPath %q must be a relative path without '..'", f, m.Name, m.SubPath)
		}
	}
	if warn, err := validateResources(c); err != "" {
		v.fail("%s.resources: %s", f, err)
	} else if warn != "" {
		v.warn("%s.resources: %s", f, warn)
	}
	if err := staticRunAsNonRoot(v.pod, c); err != "" {
		v.fail("%s.securityContext.runAsNonRoot: %s", f, err)
	}
	for _, msg := range checkContainerProbes(kind, f, c) {
		v.fail("%s", msg)
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

// validateResources checks a container's requests and limits: cpu and
// memory are acted on; an ephemeral-storage limit is refused (kubelet would
// evict the pod past it, podsim would not), a request only warned about (it
// only guides the scheduler).
func validateResources(c *corev1.Container) (warn, err string) {
	for _, rl := range []corev1.ResourceList{c.Resources.Limits, c.Resources.Requests} {
		for name, q := range rl {
			switch name {
			case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
			default:
				return "", fmt.Sprintf("resource %q is not supported (cpu, memory)", name)
			}
			if q.Sign() < 0 {
				return "", fmt.Sprintf("%s must not be negative (%s)", name, q.String())
			}
		}
	}
	if m, ok := c.Resources.Limits[corev1.ResourceMemory]; ok && m.Value() > 0 && m.Value() < 4<<20 {
		return "", fmt.Sprintf("memory limit %s is below 4Mi, too small for any container", m.String())
	}
	if _, ok := c.Resources.Limits[corev1.ResourceEphemeralStorage]; ok {
		return "", "limits.ephemeral-storage is not supported: kubelet evicts a pod past it, podsim would not limit the container's disk use: remove it"
	}
	if _, ok := c.Resources.Requests[corev1.ResourceEphemeralStorage]; ok {
		return "requests.ephemeral-storage is ignored: there is no scheduler to reserve disk space", ""
	}
	return "", ""
}

// staticRunAsNonRoot is kubelet's runAsNonRoot check as far as the pod
// spec decides it: with runAsUser (the container's, else the pod's) 0 the
// container is refused with kubelet's message, with another uid it passes.
// Without runAsUser the image's USER decides: createPod runs
// VerifyRunAsNonRoot once the images are known, before anything is made.
func staticRunAsNonRoot(pod *corev1.Pod, c *corev1.Container) string {
	nonRoot, uid := effectiveRunAs(pod, c)
	switch {
	case nonRoot == nil || !*nonRoot:
		return ""
	case uid != nil && *uid == 0:
		return fmt.Sprintf("container's runAsUser breaks non-root policy (pod: %q, container: %s): set runAsUser to a non-zero uid", pod.Name+"_"+pod.Namespace, c.Name)
	}
	return ""
}

// VerifyRunAsNonRoot is kubelet's check of runAsNonRoot against the user
// the container will run as: runAsUser if set, else the image's USER
// ("uid", "uid:gid", "name" or empty for root). It returns kubelet's error.
func VerifyRunAsNonRoot(pod *corev1.Pod, c *corev1.Container, imageUser string) error {
	nonRoot, uid := effectiveRunAs(pod, c)
	podName := pod.Name + "_" + pod.Namespace
	if nonRoot == nil || !*nonRoot {
		return nil
	}
	if uid != nil {
		if *uid == 0 {
			return fmt.Errorf("container's runAsUser breaks non-root policy (pod: %q, container: %s)", podName, c.Name)
		}
		return nil
	}
	user, _, _ := strings.Cut(imageUser, ":")
	if user == "" || user == "0" {
		return fmt.Errorf("container has runAsNonRoot and image will run as root (pod: %q, container: %s)", podName, c.Name)
	}
	for _, r := range user {
		if r < '0' || r > '9' {
			return fmt.Errorf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root (pod: %q, container: %s)", user, podName, c.Name)
		}
	}
	return nil
}

// effectiveRunAs is runAsNonRoot and runAsUser, the container's over the pod's.
func effectiveRunAs(pod *corev1.Pod, c *corev1.Container) (nonRoot *bool, uid *int64) {
	if psc := pod.Spec.SecurityContext; psc != nil {
		nonRoot, uid = psc.RunAsNonRoot, psc.RunAsUser
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsNonRoot != nil {
			nonRoot = sc.RunAsNonRoot
		}
		if sc.RunAsUser != nil {
			uid = sc.RunAsUser
		}
	}
	return nonRoot, uid
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
