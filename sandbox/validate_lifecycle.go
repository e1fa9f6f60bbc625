package sandbox

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// checkLifecycle checks what the node agent and the hooks need, as the API
// server's validation does: a container restartPolicy only on init
// containers and only Always (a native sidecar); lifecycle hooks only on
// app containers and sidecars, each with one action podsim runs (exec,
// httpGet to the pod's own IP, sleep); a known terminationMessagePolicy.
func (v *validator) checkLifecycle() {
	s := &v.pod.Spec
	for i := range s.InitContainers {
		c := &s.InitContainers[i]
		f := fmt.Sprintf("spec.initContainers[%d]", i)
		if c.RestartPolicy != nil && *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			v.fail("%s.restartPolicy %q is not valid: an init container's restartPolicy may only be Always (a native sidecar); remove it for a regular init container", f, *c.RestartPolicy)
		}
		if c.Lifecycle != nil && !IsSidecar(c) {
			v.fail("%s.lifecycle: only app containers and native sidecars (restartPolicy: Always) may have lifecycle hooks: remove it", f)
		}
		v.checkContainerLifecycle(f, c)
	}
	for i := range s.Containers {
		v.checkContainerLifecycle(fmt.Sprintf("spec.containers[%d]", i), &s.Containers[i])
	}
}

func (v *validator) checkContainerLifecycle(f string, c *corev1.Container) {
	switch c.TerminationMessagePolicy {
	case "", corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError:
	default:
		v.fail("%s.terminationMessagePolicy %q is not valid: use File or FallbackToLogsOnError", f, c.TerminationMessagePolicy)
	}
	if c.Lifecycle == nil {
		return
	}
	if c.Lifecycle.StopSignal != nil {
		v.fail("%s.lifecycle.stopSignal is not supported: podsim stops containers with SIGTERM, then SIGKILL: remove it", f)
	}
	v.checkHook(f+".lifecycle.postStart", c, c.Lifecycle.PostStart)
	v.checkHook(f+".lifecycle.preStop", c, c.Lifecycle.PreStop)
}

// checkHook checks one handler: exactly one action podsim can run.
func (v *validator) checkHook(f string, c *corev1.Container, h *corev1.LifecycleHandler) {
	if h == nil {
		return
	}
	n := 0
	for _, set := range []bool{h.Exec != nil, h.HTTPGet != nil, h.Sleep != nil, h.TCPSocket != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		v.fail("%s must have exactly one action (exec, httpGet or sleep)", f)
		return
	}
	switch {
	case h.TCPSocket != nil:
		v.fail("%s.tcpSocket is not supported (kubelet does not run it either; it is kept in the API for compatibility): use exec or httpGet", f)
	case h.Exec != nil && len(h.Exec.Command) == 0:
		v.fail("%s.exec.command is required", f)
	case h.Sleep != nil && h.Sleep.Seconds < 0:
		v.fail("%s.sleep.seconds must not be negative", f)
	case h.HTTPGet != nil && h.HTTPGet.Host != "":
		// kubelet would send it anywhere; podsim only talks to addresses
		// inside the network namespaces it made.
		v.fail("%s.httpGet.host %q is not supported: podsim sends hooks only to the pod's own IP: remove host", f, h.HTTPGet.Host)
	case h.HTTPGet != nil:
		if _, err := resolvePort(h.HTTPGet.Port, c); err != nil {
			v.fail("%s.httpGet.port: %v", f, err)
		} else if p, _ := resolvePort(h.HTTPGet.Port, c); p < 1 || p > 65535 {
			v.fail("%s.httpGet.port %d is not a valid port (1-65535)", f, p)
		}
	}
}

// resolvePort is a port number, or the containerPort of the container's
// port with that name.
func resolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("container %s has no port named %q", c.Name, p.StrVal)
}
