package sandbox

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// prepareEmptyDir makes an emptyDir (kubelet's pkg/volume/emptydir): a
// world-writable directory of the pod, or for medium Memory a tmpfs sized
// as kubelet sizes it (emptyDirMemorySize: sizeLimit, else the pod's
// memory limit, else the node's memory), then given to the pod's fsGroup.
// A disk emptyDir's sizeLimit is refused by validation: kubelet enforces
// it by evicting the pod, which podsim's agent does not do.
func (m *Manager) prepareEmptyDir(pod *corev1.Pod, v *corev1.Volume, dir string) error {
	if v.EmptyDir.Medium == corev1.StorageMediumMemory {
		size := emptyDirMemorySize(pod, v.EmptyDir, m.node.MemCapacity)
		opts := "mode=0777"
		if size > 0 {
			opts += ",size=" + strconv.FormatInt(size, 10)
		}
		if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
			return fmt.Errorf("mounting tmpfs (%s) for emptyDir %q: %w", opts, v.Name, err)
		}
	}
	// kubelet makes emptyDirs world-writable (MkdirAll applies the umask).
	if err := os.Chmod(dir, 0o777); err != nil {
		return err
	}
	if err := setVolumeOwnership(dir, podFSGroup(pod), false); err != nil {
		return fmt.Errorf("emptyDir %q: %w", v.Name, err)
	}
	return nil
}
