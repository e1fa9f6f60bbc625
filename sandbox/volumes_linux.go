package sandbox

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"golang.org/x/sys/unix"

	"github.com/podsim/podsim/objects/store"
)

// Volumes. An emptyDir is a directory of the pod; a configMap or secret
// volume is a directory kubelet fills with one file per key ("projection"),
// secrets on a tmpfs so they never reach the disk. Every volume reaches a
// container as a bind mount, which is how several mount namespaces see the
// same files.

func (m *Manager) volumeDir(id string, v *corev1.Volume) string {
	if v.HostPath != nil {
		return v.HostPath.Path // the node's own path: nothing of the pod's
	}
	plugin := VolumePluginDir(v)
	if plugin == "" || v.ConfigMap != nil || (v.EmptyDir != nil && v.EmptyDir.Medium != corev1.StorageMediumMemory) {
		// configMaps and disk emptyDirs (validation refuses other sources)
		return filepath.Join(m.paths.podDir(id), "volumes", cmp.Or(plugin, "kubernetes.io~empty-dir"), v.Name)
	}
	// Secrets, downwardAPI, projected and Memory emptyDirs: on tmpfs, below
	// the pod's run directory.
	return filepath.Join(m.paths.podRun(id), "volumes", plugin, v.Name)
}

// checkVolumeSources makes sure every ConfigMap and Secret a pod mounts
// exists and has the keys its items name, that its downwardAPI files can
// be computed and that its hostPaths pass their type check, before
// anything is built.
func (m *Manager) checkVolumeSources(pod *corev1.Pod) error {
	var errs []string
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		var err error
		switch {
		case v.HostPath != nil:
			err = checkHostPathType(v)
		case isAtomicVolume(v):
			_, err = m.volumeFiles(pod, v)
		}
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w %q: %s", ErrInvalidPod, pod.Name, strings.Join(errs, "; "))
	}
	return nil
}

// projection computes the files of a configMap/secret volume.
func (m *Manager) projection(namespace string, v *corev1.Volume) ([]projectedFile, error) {
	var data map[string][]byte
	var items []corev1.KeyToPath
	var mode *int32
	var optional bool
	var what string
	switch {
	case v.ConfigMap != nil:
		what = fmt.Sprintf("configmap %q (volume %q)", v.ConfigMap.Name, v.Name)
		items, mode = v.ConfigMap.Items, v.ConfigMap.DefaultMode
		optional = v.ConfigMap.Optional != nil && *v.ConfigMap.Optional
		cm, err := m.store.ConfigMap(namespace, v.ConfigMap.Name)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				if optional {
					return nil, nil
				}
				return nil, fmt.Errorf("%s not found in namespace %s: create it first ('podsim apply -f' or 'podsim create configmap %s --from-file=...')", what, namespace, v.ConfigMap.Name)
			}
			return nil, err
		}
		data = map[string][]byte{}
		for k, s := range cm.Data {
			data[k] = []byte(s)
		}
		for k, b := range cm.BinaryData {
			data[k] = b
		}
	case v.Secret != nil:
		what = fmt.Sprintf("secret %q (volume %q)", v.Secret.SecretName, v.Name)
		items, mode = v.Secret.Items, v.Secret.DefaultMode
		optional = v.Secret.Optional != nil && *v.Secret.Optional
		s, err := m.store.Secret(namespace, v.Secret.SecretName)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				if optional {
					return nil, nil
				}
				return nil, fmt.Errorf("%s not found in namespace %s: create it first ('podsim apply -f' or 'podsim create secret generic|tls %s ...')", what, namespace, v.Secret.SecretName)
			}
			return nil, err
		}
		data = s.Data
	}
	fileMode := os.FileMode(0o644)
	if mode != nil {
		fileMode = os.FileMode(*mode)
	}
	var out []projectedFile
	if len(items) == 0 {
		for k, b := range data {
			out = append(out, projectedFile{path: k, data: b, mode: fileMode})
		}
	}
	for _, it := range items {
		b, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf("%s has no key %q (items[].key)", what, it.Key)
		}
		fm := fileMode
		if it.Mode != nil {
			fm = os.FileMode(*it.Mode)
		}
		out = append(out, projectedFile{path: it.Path, data: b, mode: fm})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

// writeAtomic lays out files the way kubelet's AtomicWriter does, so that
// an update is one rename and readers never see half of it:
//
//	<dir>/..2024_01_02_15_04_05.000000001/<files>   the current data
//	<dir>/..data -> ..2024_01_02_...                 swapped atomically
//	<dir>/<key>  -> ..data/<key>                      what the container reads
func writeAtomic(dir string, files []projectedFile) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tsDir := filepath.Join(dir, time.Now().UTC().Format("..2006_01_02_15_04_05.000000000"))
	if err := os.Mkdir(tsDir, 0o755); err != nil {
		return err
	}
	top := map[string]bool{}
	for _, f := range files {
		p := filepath.Join(tsDir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(p, f.mode); err != nil { // WriteFile's mode is masked by the umask
			return err
		}
		top[strings.SplitN(f.path, "/", 2)[0]] = true
	}
	old, _ := os.Readlink(filepath.Join(dir, "..data"))
	tmp := filepath.Join(dir, "..data_tmp")
	os.Remove(tmp)
	if err := os.Symlink(filepath.Base(tsDir), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		return err
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, "..") {
			continue
		}
		if !top[n] {
			os.Remove(filepath.Join(dir, n)) // a key that went away
		}
	}
	for n := range top {
		link := filepath.Join(dir, n)
		if t, err := os.Readlink(link); err == nil && t == filepath.Join("..data", n) {
			continue
		}
		os.Remove(link)
		if err := os.Symlink(filepath.Join("..data", n), link); err != nil {
			return err
		}
	}
	if old != "" && old != filepath.Base(tsDir) {
		os.RemoveAll(filepath.Join(dir, old))
	}
	return nil
}

// prepareVolumes makes every volume of a pod and returns volume name -> host dir.
func (m *Manager) prepareVolumes(id string, pod *corev1.Pod) (map[string]string, error) {
	out := map[string]string{}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		dir := m.volumeDir(id, v)
		if v.HostPath != nil {
			if err := makeHostPath(v); err != nil {
				return nil, err
			}
			out[v.Name] = dir
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("volume %q: %w", v.Name, err)
		}
		switch {
		case v.EmptyDir != nil:
			if err := m.prepareEmptyDir(pod, v, dir); err != nil {
				return nil, err
			}
		case isAtomicVolume(v):
			if err := atomicVolumeMedium(v, dir); err != nil {
				return nil, err
			}
			if err := m.writeVolume(pod, v, dir); err != nil {
				return nil, err
			}
		}
		out[v.Name] = dir
	}
	return out, nil
}

// volumeMounts turns a container's volumeMounts into bind mounts,
// resolving subPath inside the volume (never outside it, even through a
// symlink) — kubelet's subPath safety check. A subPath is handed to runc
// as a bind mount podsim makes itself under subpathDir, of the file or
// directory it opened without following any symlink (pinSubPath), so a
// container that swaps a path component for a symlink after the check
// cannot redirect the mount (CVE-2021-25741; kubelet does the same under
// /var/lib/kubelet/pods/<uid>/volume-subpaths).
func volumeMounts(pod *corev1.Pod, c *corev1.Container, vols map[string]string, subpathDir string) ([]Mount, error) {
	byName := map[string]*corev1.Volume{}
	for i := range pod.Spec.Volumes {
		byName[pod.Spec.Volumes[i].Name] = &pod.Spec.Volumes[i]
	}
	var out []Mount
	for i, vm := range c.VolumeMounts {
		src := vols[vm.Name]
		v := byName[vm.Name]
		ro := vm.ReadOnly || isAtomicVolume(v) // kubelet's AtomicWriter volumes are read-only
		if vm.SubPath != "" {
			p := filepath.Join(src, vm.SubPath)
			if v.EmptyDir != nil {
				// Containers can write to an emptyDir: an earlier one may
				// have planted a symlink. Walk without following any, and
				// create what is missing, as kubelet's safe subpath does.
				if err := mkdirNoSymlinks(src, vm.SubPath); err != nil {
					return nil, fmt.Errorf("container %s: subPath %q of volume %q: %w", c.Name, vm.SubPath, vm.Name, err)
				}
			}
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				return nil, fmt.Errorf("container %s: subPath %q of volume %q does not exist: %w", c.Name, vm.SubPath, vm.Name, err)
			}
			base, _ := filepath.EvalSymlinks(src)
			if real != base && !strings.HasPrefix(real, base+"/") {
				return nil, fmt.Errorf("container %s: subPath %q of volume %q leads outside the volume", c.Name, vm.SubPath, vm.Name)
			}
			target := filepath.Join(subpathDir, c.Name, strconv.Itoa(i))
			if err := pinSubPath(base, strings.TrimPrefix(strings.TrimPrefix(real, base), "/"), target); err != nil {
				return nil, fmt.Errorf("container %s: subPath %q of volume %q: %w", c.Name, vm.SubPath, vm.Name, err)
			}
			out = append(out, Mount{Source: target, Destination: vm.MountPath, ReadOnly: ro, SubPathOf: real})
			continue
		}
		out = append(out, Mount{Source: src, Destination: vm.MountPath, ReadOnly: ro})
	}
	return out, nil
}

// pinSubPath bind-mounts base/rel onto target, having opened rel beneath
// base with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS): if any component
// became a symlink since the caller resolved it, the open fails (ELOOP)
// instead of following it. The mount is made from /proc/self/fd/N, so it
// is of exactly the inode that was opened; later swaps inside the volume
// no longer matter. target is created as an empty file or directory to
// match.
func pinSubPath(base, rel, target string) error {
	dirfd, err := unix.Open(base, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening volume %s: %w", base, err)
	}
	defer unix.Close(dirfd)
	fd := dirfd
	if rel != "" {
		fd, err = unix.Openat2(dirfd, rel, &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_CLOEXEC | unix.O_NOFOLLOW,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS,
		})
		if errors.Is(err, unix.ENOSYS) {
			return fmt.Errorf("openat2 is not available (Linux >= 5.6 is needed for a safe subPath): %w", err)
		}
		if err != nil {
			return fmt.Errorf("opening %s beneath the volume without following symlinks (did a container replace part of it with a symlink?): %w", rel, err)
		}
		defer unix.Close(fd)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		err = os.Mkdir(target, 0o755)
	case unix.S_IFREG:
		var f *os.File
		if f, err = os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
			err = f.Close()
		}
	default:
		return fmt.Errorf("%s is neither a file nor a directory", rel)
	}
	if err != nil {
		return fmt.Errorf("creating subPath mount point %s: %w", target, err)
	}
	if err := unix.Mount(fmt.Sprintf("/proc/self/fd/%d", fd), target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mounting the opened subPath onto %s: %w", target, err)
	}
	return nil
}

// mkdirNoSymlinks creates base/sub component by component, refusing any
// component that is a symlink (or not a directory).
func mkdirNoSymlinks(base, sub string) error {
	cur := base
	for _, part := range strings.Split(filepath.Clean(sub), "/") {
		if part == "" || part == "." {
			continue
		}
		if part == ".." {
			return fmt.Errorf("'..' is not allowed")
		}
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		switch {
		case errors.Is(err, os.ErrNotExist):
			if err := os.Mkdir(cur, 0o777); err != nil {
				return err
			}
			if err := os.Chmod(cur, 0o777); err != nil {
				return err
			}
		case err != nil:
			return err
		case fi.Mode()&os.ModeSymlink != 0:
			return fmt.Errorf("%s is a symlink: refusing to follow it out of the volume", cur)
		case !fi.IsDir():
			return fmt.Errorf("%s is not a directory", cur)
		}
	}
	return nil
}
