package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// hostPath volumes (kubelet's pkg/volume/hostpath): a path of the node,
// bind-mounted into the containers as it is. hostPath.type is a check
// kubelet makes before the mount — and for DirectoryOrCreate/FileOrCreate
// a creation — so a pod that expects a socket does not get an empty
// directory. podsim checks before anything of the pod exists
// (checkHostPathType, called from checkNewPod) and creates what the type
// asks for only while laying out the volumes (makeHostPath), so a failed
// check leaves nothing behind. Ownership is never changed: fsGroup does
// not apply to hostPath, as on a node.

// hostPathFileType is kubelet's hostutil GetFileType: the type of what is
// at path, following symlinks, in HostPathType's words.
func hostPathFileType(path string) (corev1.HostPathType, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "", err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return corev1.HostPathDirectory, nil
	case unix.S_IFREG:
		return corev1.HostPathFile, nil
	case unix.S_IFSOCK:
		return corev1.HostPathSocket, nil
	case unix.S_IFCHR:
		return corev1.HostPathCharDev, nil
	case unix.S_IFBLK:
		return corev1.HostPathBlockDev, nil
	}
	return "", fmt.Errorf("%s is neither a directory, a file, a socket nor a device", path)
}

// hostPathWant is what a type requires once the path exists, in kubelet's
// words for the error; "" for no check.
func hostPathWant(t corev1.HostPathType) (corev1.HostPathType, string) {
	switch t {
	case corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory:
		return corev1.HostPathDirectory, "directory"
	case corev1.HostPathFileOrCreate, corev1.HostPathFile:
		return corev1.HostPathFile, "file"
	case corev1.HostPathSocket:
		return corev1.HostPathSocket, "socket file"
	case corev1.HostPathCharDev:
		return corev1.HostPathCharDev, "character device"
	case corev1.HostPathBlockDev:
		return corev1.HostPathBlockDev, "block device"
	}
	return "", ""
}

func hostPathType(v *corev1.Volume) corev1.HostPathType {
	if v.HostPath.Type == nil {
		return corev1.HostPathUnset
	}
	return *v.HostPath.Type
}

// checkHostPathType is kubelet's checkType without its side effects: what
// exists must have the type's kind; what is missing may only be missing
// for the *OrCreate types (and "", which CRI creates as a directory), and
// FileOrCreate needs the file's directory (kubelet creates the file, not
// its parents).
func checkHostPathType(v *corev1.Volume) error {
	p, t := v.HostPath.Path, hostPathType(v)
	want, desc := hostPathWant(t)
	got, err := hostPathFileType(p)
	switch {
	case errors.Is(err, os.ErrNotExist) && t == corev1.HostPathFileOrCreate:
		if fi, derr := os.Stat(filepath.Dir(p)); derr != nil || !fi.IsDir() {
			return fmt.Errorf("volume %q: hostPath %s cannot be created: its directory %s does not exist (FileOrCreate makes the file, not its parents): create it, or use type DirectoryOrCreate for a directory", v.Name, p, filepath.Dir(p))
		}
		return nil
	case errors.Is(err, os.ErrNotExist) && (t == corev1.HostPathDirectoryOrCreate || t == corev1.HostPathUnset):
		return nil
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("volume %q: hostPath %s doesn't exist (type %s requires it): create it on the host, or use type %sOrCreate / \"\"", v.Name, p, t, orCreate(t))
	case err != nil && want != "":
		return fmt.Errorf("volume %q: hostPath type check failed, %s is not a %s, unable to determine its type: %w", v.Name, p, desc, err)
	case want != "" && got != want:
		return fmt.Errorf("volume %q: hostPath type check failed: %s is not a %s, it's a %s (hostPath.type %s)", v.Name, p, desc, got, t)
	}
	return nil
}

func orCreate(t corev1.HostPathType) string {
	if t == corev1.HostPathFile {
		return "File"
	}
	return "Directory"
}

// makeHostPath creates what an *OrCreate type (or "") asks for, as kubelet
// does (directories 0755, files 0644, owned by root), then checks the type
// again: the path may have changed since checkHostPathType.
func makeHostPath(v *corev1.Volume) error {
	p, t := v.HostPath.Path, hostPathType(v)
	if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
		switch t {
		case corev1.HostPathDirectoryOrCreate, corev1.HostPathUnset:
			// "" is CRI's doing: containerd makes a missing bind source a directory.
			err = os.MkdirAll(p, 0o755)
		case corev1.HostPathFileOrCreate:
			var f *os.File
			if f, err = os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				err = f.Close()
			}
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("volume %q: creating hostPath %s: %w", v.Name, p, err)
		}
	}
	return checkHostPathType(v)
}
