package sandbox

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// checkIsolation checks the pod's isolation switches as the API server
// does, naming the field: host namespaces (hostNetwork, hostPID, hostIPC)
// with what Kubernetes refuses next to them.
func (v *validator) checkIsolation() {
	s := &v.pod.Spec
	if s.HostPID && s.ShareProcessNamespace != nil && *s.ShareProcessNamespace {
		// The API server: "ShareProcessNamespace and HostPID cannot both be enabled".
		v.fail("spec.shareProcessNamespace: true cannot be combined with spec.hostPID: true (the pod's processes would share the host's PID namespace, not one of the pod's)")
	}
	if s.HostUsers != nil && !*s.HostUsers && (s.HostNetwork || s.HostPID || s.HostIPC) {
		v.fail("spec.hostUsers: false cannot be combined with spec.hostNetwork, hostPID or hostIPC")
	}
	if s.HostNetwork {
		for _, c := range append(append([]corev1.Container{}, s.InitContainers...), s.Containers...) {
			for _, p := range c.Ports {
				if p.HostPort != 0 && p.HostPort != p.ContainerPort {
					v.fail("spec.containers[%s].ports: hostPort %d must equal containerPort %d with spec.hostNetwork: true (the pod listens on the host's ports directly)", c.Name, p.HostPort, p.ContainerPort)
				}
			}
		}
	}
	if sc := s.SecurityContext; sc != nil {
		for _, sys := range sc.Sysctls {
			name := strings.ReplaceAll(sys.Name, "/", ".")
			switch {
			case s.HostNetwork && strings.HasPrefix(name, "net."):
				v.fail("spec.securityContext.sysctls: %q may not be set with spec.hostNetwork: true (it would change the host's network namespace)", sys.Name)
			case s.HostIPC && (strings.HasPrefix(name, "kernel.shm") || strings.HasPrefix(name, "kernel.msg") || name == "kernel.sem" || strings.HasPrefix(name, "fs.mqueue.")):
				v.fail("spec.securityContext.sysctls: %q may not be set with spec.hostIPC: true (it would change the host's IPC namespace)", sys.Name)
			}
		}
	}
	// ephemeralContainers and runtimeClassName are refused by the field
	// table (fields.go), with the fix.
}
