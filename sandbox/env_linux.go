package sandbox

import (
	"path/filepath"
	goruntime "runtime"

	"golang.org/x/sys/unix"

	corev1 "k8s.io/api/core/v1"
)

// envContext is what the pod's env.valueFrom and envFrom read: the pod
// (with its IP once CNI gave one), the node, and the store's ConfigMaps
// and Secrets of the pod's namespace.
func (m *Manager) envContext(rec *Record) envContext {
	ns := rec.Pod.Namespace
	return envContext{Pod: &rec.Pod, PodIP: rec.IP, HostIP: podHostIP(&rec.Pod, rec.IP), NodeName: m.node.Hostname,
		NodeCPUMilli: int64(goruntime.NumCPU()) * 1000, NodeMemory: m.node.MemCapacity, NodeEphemeral: func() int64 { return fsCapacity(m.paths.State) },
		ConfigMap: func(name string) (*corev1.ConfigMap, error) { return m.store.ConfigMap(ns, name) },
		Secret:    func(name string) (*corev1.Secret, error) { return m.store.Secret(ns, name) },
	}
}

// withResolvedEnv is the container as its spec needs it: its env as
// kubelet hands it to CRI, envFrom and env.valueFrom read and $(VAR)
// references expanded (resolveEnv). The spec builders take c.Env as final.
func (m *Manager) withResolvedEnv(rec *Record, c *corev1.Container) (*corev1.Container, error) {
	if len(c.EnvFrom) == 0 && len(c.Env) == 0 {
		return c, nil
	}
	env, err := resolveEnv(c, m.envContext(rec))
	if err != nil {
		return nil, err
	}
	c = c.DeepCopy()
	c.Env, c.EnvFrom = env, nil
	return c, nil
}

// fsCapacity is the size of the file system holding dir (kubelet's node
// ephemeral-storage capacity is its root dir's file system), 0 if unknown.
func fsCapacity(dir string) int64 {
	var st unix.Statfs_t
	for d := dir; ; d = filepath.Dir(d) {
		if err := unix.Statfs(d, &st); err == nil {
			return int64(st.Blocks) * st.Frsize // f_blocks counts fragments
		}
		if d == "/" || d == "." {
			return 0
		}
	}
}
