package sandbox

import (
	"net"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

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
	v.checkUserNamespace() // hostUsers: false (userns.go)
	// ephemeralContainers are refused by the field table (fields.go); the
	// RuntimeClass is looked up when the pod is created (runtimeclass.go).
	if msg := runtimeClassNameProblem(v.pod); msg != "" {
		v.fail("%s", msg)
	}
	v.checkNames()
}

// checkNames checks what names the pod in its UTS namespace and
// /etc/hosts, as the API server and kubelet do.
func (v *validator) checkNames() {
	s := &v.pod.Spec
	for _, f := range []struct{ field, value string }{{"spec.hostname", s.Hostname}, {"spec.subdomain", s.Subdomain}} {
		if f.value != "" {
			if msgs := validation.IsDNS1123Label(f.value); len(msgs) > 0 {
				v.fail("%s %q is not a valid DNS label: %s", f.field, f.value, strings.Join(msgs, ", "))
			}
		}
	}
	if s.SetHostnameAsFQDN != nil && *s.SetHostnameAsFQDN {
		if _, fqdn := podHostAndFQDN(v.pod); len(fqdn) > 64 {
			// kubelet: "Failed to create pod sandbox: ... FQDN is too long (64 characters is the max)"
			v.fail("spec.setHostnameAsFQDN: the FQDN %q is longer than 64 characters, the kernel's hostname limit", fqdn)
		}
	}
	for i, a := range s.HostAliases {
		if net.ParseIP(a.IP) == nil {
			v.fail("spec.hostAliases[%d].ip %q is not an IP address", i, a.IP)
		}
		if len(a.Hostnames) == 0 {
			v.fail("spec.hostAliases[%d].hostnames: at least one hostname is required", i)
		}
	}
}
