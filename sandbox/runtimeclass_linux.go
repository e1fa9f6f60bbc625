package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/containerd/containerd"
	runcoptions "github.com/containerd/containerd/api/types/runc/options"
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
		if err := RunscReady(m.runscWrapper()); err != nil {
			return "", fmt.Errorf("%w: pod %s: runtimeClassName %q: %w", ErrInvalidPod, pod.Name, RuntimeClassName(pod), err)
		}
		if err := checkGVisorPod(pod); err != nil {
			return "", fmt.Errorf("%w: pod %s: runtimeClassName %q: %w", ErrInvalidPod, pod.Name, RuntimeClassName(pod), err)
		}
	}
	return handler, nil
}

// RunscReady says whether the runsc handler can run: gVisor's runsc on the
// PATH (Debian's package 'runsc') and podsim's launcher beside podsim.
func RunscReady(wrapper string) error {
	if _, err := exec.LookPath("runsc"); err != nil {
		return fmt.Errorf("gVisor's runsc is not installed: apt-get install runsc (or make deps)")
	}
	if st, err := os.Stat(wrapper); err != nil || st.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is missing: build it with make build", wrapper)
	}
	return nil
}

// runscWrapper is the podsim-runsc launcher, built next to podsim.
func (m *Manager) runscWrapper() string {
	dir := filepath.Dir(m.selfExe)
	if m.selfExe == "" {
		exe, _ := os.Executable()
		dir = filepath.Dir(exe)
	}
	return filepath.Join(dir, RunscWrapper)
}

// runtimeFor is containerd's runtime for a handler, what CRI's
// [plugins.cri.containerd.runtimes.<handler>] says: both handlers use the
// runc v2 shim; runsc's runs podsim-runsc as its "runc" (BinaryName) with
// runsc's state under RunscRoot — the way Docker runs runsc through
// containerd. (gVisor's own containerd-shim-runsc-v1 is not in Debian's
// runsc package.)
func (m *Manager) runtimeFor(handler string) containerd.NewContainerOpts {
	if handler != HandlerRunsc {
		return containerd.WithRuntime(runtime.RuntimeName, nil)
	}
	return containerd.WithRuntime(runtime.RuntimeName, &runcoptions.Options{BinaryName: m.runscWrapper(), Root: RunscRoot})
}
