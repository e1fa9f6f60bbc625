package sandbox

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Runtime handlers and RuntimeClasses, as kubelet and containerd's CRI
// plugin have them: a pod names a RuntimeClass (spec.runtimeClassName), the
// RuntimeClass names a handler, kubelet passes that handler to CRI's
// RunPodSandbox (runtime_handler), and containerd's CRI config maps the
// handler to a runtime ([plugins.cri.containerd.runtimes.<handler>]: a shim
// type and its options). podsim's containerd runs without the CRI plugin, so
// the handler table lives here and the client names the runtime of each
// container (containerd.WithRuntime), which is what CRI does underneath.

// Handler names podsim's containerd can run.
const (
	HandlerRunc  = "runc"
	HandlerRunsc = "runsc"
)

// Built-in RuntimeClass names, always there without a RuntimeClass object:
// "runc" (also what an empty runtimeClassName means) and "gvisor" (handler
// runsc, the name gVisor's documentation gives its RuntimeClass).
const (
	ClassRunc   = "runc"
	ClassGVisor = "gvisor"
)

// RunscRoot is where runsc keeps its state (one directory per container,
// below the containerd namespace): the runc shim passes it as runsc's
// --root; gc and the leak checks look there.
const RunscRoot = "/run/podsim/runsc"

// RunscWrapper is the binary (next to podsim) the runc
// shim runs as its "runc" for the runsc handler: it execs runsc with the
// flags podsim needs (see cmd/podsim-runsc).
const RunscWrapper = "podsim-runsc"

// ErrRuntimeClass marks a pod whose runtimeClassName cannot be run.
var ErrRuntimeClass = errors.New("runtime class")

// KnownHandlers are the handlers podsim's containerd has, sorted.
func KnownHandlers() []string { return []string{HandlerRunc, HandlerRunsc} }

// BuiltinRuntimeClasses are the classes that exist without an object.
func BuiltinRuntimeClasses() []nodev1.RuntimeClass {
	mk := func(name, handler string) nodev1.RuntimeClass {
		rc := nodev1.RuntimeClass{Handler: handler}
		rc.Name = name
		rc.APIVersion, rc.Kind = "node.k8s.io/v1", "RuntimeClass"
		rc.Annotations = map[string]string{"podsim.io/builtin": "true"}
		return rc
	}
	return []nodev1.RuntimeClass{mk(ClassRunc, HandlerRunc), mk(ClassGVisor, HandlerRunsc)}
}

// RuntimeClassLookup finds an applied RuntimeClass object by name; it
// returns (nil, nil) when there is none.
type RuntimeClassLookup func(name string) (*nodev1.RuntimeClass, error)

// ResolveRuntimeClass is kubelet's runtimeClassManager.LookupRuntimeHandler:
// the pod's runtimeClassName to a handler. An empty name is the default
// (runc). An applied object wins over a built-in of the same name, as a
// cluster's object is the only truth there. An unknown class is refused with
// kubelet's words (`RuntimeClass "x" not found`), and so is a class whose
// handler podsim's containerd does not have (CRI's "no runtime for handler").
func ResolveRuntimeClass(name string, lookup RuntimeClassLookup) (string, *nodev1.RuntimeClass, error) {
	if name == "" {
		return HandlerRunc, nil, nil
	}
	var rc *nodev1.RuntimeClass
	if lookup != nil {
		var err error
		if rc, err = lookup(name); err != nil {
			return "", nil, fmt.Errorf("%w %q: %w", ErrRuntimeClass, name, err)
		}
	}
	if rc == nil {
		for _, b := range BuiltinRuntimeClasses() {
			if b.Name == name {
				rc = &b
				break
			}
		}
	}
	if rc == nil {
		return "", nil, fmt.Errorf("%w: RuntimeClass %q not found: podsim has the built-in classes %s and %s; apply a node.k8s.io/v1 RuntimeClass named %q (handler: one of %s) or fix spec.runtimeClassName",
			ErrRuntimeClass, name, ClassRunc, ClassGVisor, name, strings.Join(KnownHandlers(), ", "))
	}
	if !knownHandler(rc.Handler) {
		return "", nil, fmt.Errorf("%w: RuntimeClass %q names handler %q, which podsim's containerd does not have (CRI: no runtime for %q is configured): use handler %s",
			ErrRuntimeClass, name, rc.Handler, rc.Handler, strings.Join(KnownHandlers(), " or "))
	}
	return rc.Handler, rc, nil
}

func knownHandler(h string) bool {
	i := sort.SearchStrings(KnownHandlers(), h)
	return i < len(KnownHandlers()) && KnownHandlers()[i] == h
}

// RuntimeClassWarnings names what podsim does not do with a RuntimeClass's
// fields: scheduling (no scheduler) and overhead (the pod cgroup is sized
// from the containers only), as warnings by name, never silently.
func RuntimeClassWarnings(rc *nodev1.RuntimeClass) []string {
	if rc == nil {
		return nil
	}
	var w []string
	if rc.Overhead != nil && len(rc.Overhead.PodFixed) > 0 {
		w = append(w, fmt.Sprintf("RuntimeClass %q overhead.podFixed is ignored: podsim sizes the pod cgroup from its containers only, without the class's fixed overhead", rc.Name))
	}
	if rc.Scheduling != nil {
		w = append(w, fmt.Sprintf("RuntimeClass %q scheduling "+noScheduler, rc.Name))
	}
	return w
}

// ValidateRuntimeClass checks an applied RuntimeClass as the API server
// does: a DNS-subdomain name and a handler that is a DNS label.
func ValidateRuntimeClass(rc *nodev1.RuntimeClass) error {
	if rc.Name == "" {
		return fmt.Errorf("%w: metadata.name is required", ErrRuntimeClass)
	}
	if rc.Handler == "" {
		return fmt.Errorf("%w %q: handler is required (runc or runsc here)", ErrRuntimeClass, rc.Name)
	}
	for _, r := range rc.Handler {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("%w %q: handler %q must be a lower-case DNS label", ErrRuntimeClass, rc.Name, rc.Handler)
		}
	}
	return nil
}

// checkGVisorPod refuses, by field, what a pod cannot have under podsim's
// runsc handler. Each container runs in a gVisor sandbox of its own (see
// docs/how-a-pod-is-built.md, "RuntimeClass"): its processes live in that
// Sentry's PID table, so no PID namespace can be shared between containers
// or with the host, and the Sentry's IPC objects are its own.
func checkGVisorPod(pod *corev1.Pod) error {
	s := &pod.Spec
	switch {
	case s.ShareProcessNamespace != nil && *s.ShareProcessNamespace:
		return fmt.Errorf("spec.shareProcessNamespace: true cannot work under gVisor here: each container runs in its own gVisor sandbox (Sentry), whose processes no other container can see: remove it or use runtimeClassName runc")
	case s.HostPID:
		return fmt.Errorf("spec.hostPID: true cannot work under gVisor: the container's processes live in the Sentry's own PID table, not the host's: remove it or use runtimeClassName runc")
	case s.HostIPC:
		return fmt.Errorf("spec.hostIPC: true cannot work under gVisor: the Sentry implements SysV/POSIX IPC itself and never shares the host's: remove it or use runtimeClassName runc")
	case HostUsersOff(s):
		return fmt.Errorf("spec.hostUsers: false is not supported under gVisor here: the pod's user namespace is made by the runc pause and joined by path, which the 2022 runsc's Sentries cannot join: remove it or use runtimeClassName runc")
	}
	return nil
}

// RuntimeClassName is the pod's runtimeClassName, "" when unset.
func RuntimeClassName(pod *corev1.Pod) string {
	if pod.Spec.RuntimeClassName == nil {
		return ""
	}
	return *pod.Spec.RuntimeClassName
}

// runtimeClassNameProblem is the API server's check of the field: the name
// of an object, so a DNS subdomain.
func runtimeClassNameProblem(pod *corev1.Pod) string {
	name := RuntimeClassName(pod)
	if pod.Spec.RuntimeClassName == nil {
		return ""
	}
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return fmt.Sprintf("spec.runtimeClassName %q is not a valid RuntimeClass name: %s", name, strings.Join(msgs, ", "))
	}
	return ""
}
