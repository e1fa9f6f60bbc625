package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// RunscRoot is runsc's --root, below which gVisor's shim keeps runsc's
// state in a directory per containerd namespace; gc and the leak checks
// look there.
const RunscRoot = "/run/podsim/runsc"

// RunscConfigPath is gVisor's shim config for podsim's runsc handler, what
// a node keeps in /etc/containerd/runsc.toml (CRI's ConfigPath option).
const RunscConfigPath = "/run/podsim/gvisor/runsc.toml"

// RunscWrapper is the binary (next to podsim) containerd runs as the
// runsc handler's shim: it starts gVisor's containerd-shim-runsc-v1 (see
// cmd/podsim-runsc); GVisorDir, next to it, holds gVisor's shim and runsc.
const (
	RunscWrapper = "podsim-runsc"
	GVisorDir    = "gvisor"
	GVisorShim   = "containerd-shim-runsc-v1"
)

// GVisorPaths are the runsc handler's binaries.
type GVisorPaths struct {
	Launcher string // podsim-runsc, the runtime containerd runs
	Shim     string // gVisor's containerd-shim-runsc-v1
	Runsc    string // gVisor's runsc (Sentry, gofer and CLI in one binary)
}

// GVisorPathsBeside is where make build puts them for the podsim binary exe.
func GVisorPathsBeside(exe string) GVisorPaths {
	dir := filepath.Dir(exe)
	return GVisorPaths{Launcher: filepath.Join(dir, RunscWrapper), Shim: filepath.Join(dir, GVisorDir, GVisorShim), Runsc: filepath.Join(dir, GVisorDir, "runsc")}
}

// RunscReady says whether the runsc handler can run: podsim's launcher
// (podsim-runsc, what containerd runs as the shim) beside podsim, and
// gVisor's shim and runsc in gvisor/ beside it (make gvisor builds them).
func RunscReady(g GVisorPaths) error {
	for _, p := range []string{g.Launcher, g.Shim, g.Runsc} {
		if st, err := os.Stat(p); err != nil || st.Mode()&0o111 == 0 {
			return fmt.Errorf("%s is missing: build gVisor with make gvisor (or make build)", p)
		}
	}
	return nil
}

// RunscConfig is gVisor's shim config (its runsc.toml) for a runsc binary:
//   - grouping: one shim daemon serves all of a pod's containers, grouped
//     by CRI's io.kubernetes.cri.sandbox-id annotation;
//   - platform ptrace: the Sentry intercepts the application's system calls
//     with ptrace, which needs no /dev/kvm (this host has none);
//   - the network is runsc's default, "sandbox": the Sentry's own network
//     stack (netstack) takes over the pod's eth0, set up by CNI beforehand.
func RunscConfig(runsc string) string {
	return fmt.Sprintf(`# Written by podsim: gVisor's shim config for runtimeClassName gvisor (handler runsc).
binary_name = %q
root = %q
grouping = true

[runsc_config]
  platform = "ptrace"
`, runsc, RunscRoot)
}

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
// runsc handler. The pod is one gVisor sandbox (see
// docs/how-a-pod-is-built.md, "RuntimeClass"): one Sentry, whose network
// stack, PID table and IPC objects are its own, so none of them can be the
// host's.
func checkGVisorPod(pod *corev1.Pod) error {
	s := &pod.Spec
	switch {
	case s.HostNetwork:
		return fmt.Errorf("spec.hostNetwork: true cannot work under gVisor: the Sentry brings its own network stack (netstack), which runsc refuses to run in the host's network namespace: remove it or use runtimeClassName runc")
	case s.ShareProcessNamespace != nil && *s.ShareProcessNamespace:
		return fmt.Errorf("spec.shareProcessNamespace: true is not supported under gVisor here: the Sentry gives each container a PID namespace of its own and podsim does not ask runsc to share them: remove it or use runtimeClassName runc")
	case s.HostPID:
		return fmt.Errorf("spec.hostPID: true cannot work under gVisor: the container's processes live in the Sentry's own PID table, not the host's: remove it or use runtimeClassName runc")
	case s.HostIPC:
		return fmt.Errorf("spec.hostIPC: true cannot work under gVisor: the Sentry implements SysV/POSIX IPC itself and never shares the host's: remove it or use runtimeClassName runc")
	case HostUsersOff(s):
		return fmt.Errorf("spec.hostUsers: false is not supported under gVisor here: podsim makes the pod's user namespace with a runc pause, and under gVisor the pause is the Sentry: remove it or use runtimeClassName runc")
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
