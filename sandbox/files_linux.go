package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// writePodFiles writes the pod's files before it has an IP: the hosts
// file gets the pod's own line from refreshHostsOf once CNI gave one.
func (m *Manager) writePodFiles(id string, pod *corev1.Pod) (podFiles, error) {
	f := m.podFilesOf(id, pod)
	name := PodHostname(pod, m.node.Hostname)
	hosts := podHostsBase(pod, "")
	if err := os.WriteFile(f.Hosts, []byte(hosts), 0o644); err != nil {
		return f, fmt.Errorf("writing pod hosts file: %w", err)
	}
	if err := os.WriteFile(f.Hostname, []byte(name+"\n"), 0o644); err != nil {
		return f, fmt.Errorf("writing pod hostname file: %w", err)
	}
	if err := os.WriteFile(f.Resolv, []byte(m.podResolvConf(id, pod)), 0o644); err != nil {
		return f, fmt.Errorf("writing pod resolv.conf: %w", err)
	}
	// The pod's run dir holds secret volumes: only root may look in.
	if err := os.MkdirAll(m.paths.podRun(id), 0o700); err != nil {
		return f, fmt.Errorf("creating pod run dir: %w", err)
	}
	if pod.Spec.HostIPC {
		return f, nil // the host's /dev/shm, as CRI mounts it for hostIPC pods
	}
	if err := os.MkdirAll(f.Shm, 0o755); err != nil {
		return f, fmt.Errorf("creating pod shm dir: %w", err)
	}
	// One tmpfs per pod for /dev/shm, as CRI mounts for the sandbox: the
	// containers share the IPC namespace, so they share POSIX shm too.
	if err := unix.Mount("shm", f.Shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777,size=65536k"); err != nil {
		return f, fmt.Errorf("mounting pod /dev/shm tmpfs on %s: %w", f.Shm, err)
	}
	return f, nil
}

// podFilesOf are the paths of the pod's files (writePodFiles makes them; a
// restarted container mounts the same ones): a hostIPC pod shares the
// host's IPC namespace and so the host's /dev/shm.
func (m *Manager) podFilesOf(id string, pod *corev1.Pod) podFiles {
	dir := m.paths.podDir(id)
	f := podFiles{
		Hosts:    filepath.Join(dir, "etc-hosts"),
		Hostname: filepath.Join(dir, "hostname"),
		Resolv:   filepath.Join(dir, "resolv.conf"),
		Shm:      filepath.Join(m.paths.podRun(id), "shm"),
	}
	if pod.Spec.HostIPC {
		f.Shm = "/dev/shm"
	}
	return f
}

// podResolvConf is the pod's resolv.conf (PodDNS) from the node's
// resolver configuration; kubelet's DNSConfigForming warnings go to the
// user and into the pod's events, as kubelet records them.
func (m *Manager) podResolvConf(id string, pod *corev1.Pod) string {
	var node DNSConfig
	if f, err := os.Open(NodeResolvConf()); err == nil {
		node = ReadResolvConf(f)
		f.Close()
	}
	c, warns := PodDNS(pod, node)
	for _, w := range warns {
		m.warn(fmt.Sprintf("pod %s: DNSConfigForming: %s", pod.Name, w))
		m.Eventf(id, "Warning", "DNSConfigForming", "", "%s", w)
	}
	return c.String()
}

// removePodDirs unmounts every mount below the pod's run dir (shm, memory
// emptyDirs) and removes its directories. Idempotent.
func (m *Manager) removePodDirs(id string) error {
	var errs []error
	runDir := m.paths.podRun(id)
	for _, mp := range MountsUnder(runDir) {
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", mp, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...) // never rm -r across a live mount
	}
	for _, d := range []string{runDir, m.paths.podDir(id)} {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// mountPoints lists every mount point of this mount namespace, read from
// /proc/self/mountinfo (moby's parser undoes the octal escapes).
func mountPoints() []string {
	mounts, err := mountinfo.GetMounts(nil)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(mounts))
	for _, m := range mounts {
		out = append(out, m.Mountpoint)
	}
	return out
}

// MountsUnder lists mount points at or below dir, deepest first (the bench
// cleans its own state dirs with it too).
func MountsUnder(dir string) []string {
	var out []string
	for _, mp := range mountPoints() {
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// EmptyDirPath is where an emptyDir volume of a pod lives on the host (disk
// medium): the directory that is bind-mounted into each container.
func (m *Manager) EmptyDirPath(r *Record, volume string) string {
	return filepath.Join(m.paths.podDir(r.ID), "volumes", "kubernetes.io~empty-dir", volume)
}
