package sandbox

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/containerd"
	runtimeoptions "github.com/containerd/containerd/pkg/runtimeoptions/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/sandbox/runtime"
)

// admitRuntimeClass resolves the pod's runtimeClassName to a handler before
// anything of the pod exists (kubelet refuses a pod whose RuntimeClass is
// missing the same way: nothing is built), warns by name about the class
// fields podsim does not act on, and checks the handler can run here.
func (m *Manager) admitRuntimeClass(pod *corev1.Pod) (string, error) {
	handler, rc, err := ResolveRuntimeClass(RuntimeClassName(pod), m.store.RuntimeClass)
	if err != nil {
		return "", fmt.Errorf("%w: pod %s: %w", ErrInvalidPod, pod.Name, err)
	}
	for _, w := range RuntimeClassWarnings(rc) {
		m.warn(fmt.Sprintf("pod %s: %s", pod.Name, w))
	}
	if handler == HandlerRunsc {
		if err := RunscReady(m.gvisorPaths()); err != nil {
			return "", fmt.Errorf("%w: pod %s: runtimeClassName %q: %w", ErrInvalidPod, pod.Name, RuntimeClassName(pod), err)
		}
		if err := checkGVisorPod(pod); err != nil {
			return "", fmt.Errorf("%w: pod %s: runtimeClassName %q: %w", ErrInvalidPod, pod.Name, RuntimeClassName(pod), err)
		}
		if err := m.writeRunscConfig(); err != nil {
			return "", err
		}
	}
	return handler, nil
}

// gvisorPaths are the runsc handler's binaries next to this podsim.
func (m *Manager) gvisorPaths() GVisorPaths {
	exe := m.selfExe
	if exe == "" {
		exe, _ = os.Executable()
	}
	return GVisorPathsBeside(exe)
}

// runtimeFor is containerd's runtime for a handler, what CRI's
// [plugins.cri.containerd.runtimes.<handler>] says: runc's is the runc v2
// shim; runsc's is gVisor's own shim (runtime_type io.containerd.runsc.v1 on
// a node), reached through podsim-runsc, with its options file (runsc
// flags, runsc's root, grouping) as CRI passes it: runtimeoptions.Options
// with a ConfigPath.
func (m *Manager) runtimeFor(handler string) containerd.NewContainerOpts {
	if handler != HandlerRunsc {
		return containerd.WithRuntime(runtime.RuntimeName, nil)
	}
	return containerd.WithRuntime(m.gvisorPaths().Launcher, &runtimeoptions.Options{TypeUrl: "io.containerd.runsc.v1.options", ConfigPath: RunscConfigPath})
}

// writeRunscConfig writes gVisor's shim config (RunscConfigPath) for this
// podsim's runsc, if it is not already there as it should be. The shim
// reads it at each container's Create; podsim-runsc links it into the
// bundle for the shim's "start" (grouping).
func (m *Manager) writeRunscConfig() error {
	want := []byte(RunscConfig(m.gvisorPaths().Runsc))
	if have, err := os.ReadFile(RunscConfigPath); err == nil && bytes.Equal(have, want) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(RunscConfigPath), 0o755); err != nil {
		return fmt.Errorf("gVisor shim config: %w", err)
	}
	tmp := fmt.Sprintf("%s.%d", RunscConfigPath, os.Getpid())
	if err := os.WriteFile(tmp, want, 0o644); err != nil {
		return fmt.Errorf("gVisor shim config: %w", err)
	}
	if err := os.Rename(tmp, RunscConfigPath); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("gVisor shim config: %w", err)
	}
	return nil
}
