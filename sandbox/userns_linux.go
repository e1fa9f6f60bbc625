package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/snapshots"
	"golang.org/x/sys/unix"

	"github.com/podsim/podsim/namespaces"
	"github.com/podsim/podsim/sandbox/runtime"
)

// UserNSHostSupport says what this host lacks for hostUsers: false pods
// (nil: nothing). The kernel must have user namespaces and allow root to
// make them (user.max_user_namespaces > 0); runc makes the namespace from
// the spec's uidMappings/gidMappings (every runc since 1.0 does); the
// rootfs is a chowned copy, which needs nothing more of the filesystem.
func UserNSHostSupport() error {
	var missing []string
	if _, err := os.Stat("/proc/self/ns/user"); err != nil {
		missing = append(missing, "the kernel has no user namespaces (CONFIG_USER_NS)")
	}
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil {
		if n, _ := strconv.Atoi(strings.TrimSpace(string(b))); n == 0 {
			missing = append(missing, "user.max_user_namespaces is 0 (sysctl -w user.max_user_namespaces=15000)")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: spec.hostUsers: false needs user namespaces, and this host lacks them: %s", ErrMissingTools, strings.Join(missing, "; "))
	}
	return nil
}

// IdmappedMounts reports whether the kernel has mount_setattr(2), the call
// idmapped mounts are made with (Linux 5.12; overlayfs can be idmapped
// from 5.19): called with no valid fd it fails with EBADF where it exists
// and ENOSYS where it does not.
func IdmappedMounts() bool {
	err := unix.MountSetattr(-1, "", 0, &unix.MountAttr{})
	return !errors.Is(err, unix.ENOSYS)
}

// readUserNSPool reads the pool and the reserved ranges from /etc/subuid
// and /etc/subgid (a missing file is an empty one).
func readUserNSPool() (IDRange, []IDRange, error) {
	open := func(p string) io.Reader {
		b, err := os.ReadFile(p)
		if err != nil {
			return strings.NewReader("")
		}
		return strings.NewReader(string(b))
	}
	return poolFrom(open("/etc/subuid"), open("/etc/subgid"))
}

// allocatePodUserNS is kubelet's GetOrCreateUserNamespaceMappings: the pod
// gets the lowest free 65536-ID block of the pool, saved in its record
// before anything uses it (so it outlives podsim and the agent and is
// freed with the record: teardown and gc). The other pods' blocks are
// read from their records, under the pod lock.
func (m *Manager) allocatePodUserNS(rec *Record) error {
	if !HostUsersOff(&rec.Pod.Spec) || rec.UserNS != nil {
		return nil
	}
	t := time.Now()
	pool, reserved, err := readUserNSPool()
	if err != nil {
		return err
	}
	recs, err := m.Records()
	if err != nil {
		return err
	}
	var used []uint32
	for _, r := range recs {
		if r.UserNS != nil && r.ID != rec.ID {
			used = append(used, r.UserNS.HostID)
		}
	}
	u, err := allocateUserNS(pool, used, reserved)
	if err != nil {
		return err
	}
	rec.UserNS = &u
	if err := m.saveRecord(rec); err != nil {
		return err
	}
	m.emitEvent(Event{Pod: rec.Pod.Name, Step: "userns", Concept: "user namespace ID range (kubelet's userns manager: 65536 IDs at 65536 × N)", Object: u.Range().String(),
		Detail: fmt.Sprintf("hostUsers: false: the pod's uids and gids 0-%d are host IDs %s (block %d of the pool %s, none of another pod's or /etc/subuid's); root inside is uid %d outside", u.Length-1, u.Range(), u.HostID/UserNSLength, pool, u.HostID),
		Attrs:  map[string]string{"hostID": fmt.Sprint(u.HostID), "length": fmt.Sprint(u.Length), "uid_map": u.UIDMapLine()}}, t)
	return nil
}

// pinUserNSNetNS pins the network namespace the pause of a hostUsers:
// false pod made (it belongs to the pod's user namespace), as CRI's
// NewNetNSFromPID, so CNI can wire it by path and teardown find it.
func (m *Manager) pinUserNSNetNS(rec *Record, pausePID uint32) error {
	t := time.Now()
	nsName := netnsName(&rec.Pod, rec.ID)
	rec.NetNS = filepath.Join(namespaces.NetNSDir, nsName)
	if err := m.saveRecord(rec); err != nil {
		return err
	}
	src := fmt.Sprintf("/proc/%d/ns/net", pausePID)
	if _, err := namespaces.PinNetNSOf(nsName, src); err != nil {
		rec.NetNS = ""
		return err
	}
	id, _ := namespaces.Read(rec.NetNS, "net")
	owner, _ := namespaces.Read(fmt.Sprintf("/proc/%d/ns/user", pausePID), "user")
	m.emitEvent(Event{Pod: rec.Pod.Name, Step: "netns", Concept: "network namespace made by the pause in the pod's user namespace, pinned afterwards", Object: rec.NetNS,
		Detail: fmt.Sprintf("pause pid %d made %s inside %s (so the pod's root has CAP_NET_ADMIN there); bind-mounted %s to %s, as CRI's NewNetNSFromPID", pausePID, id, owner, src, rec.NetNS),
		Attrs:  map[string]string{"pin": rec.NetNS, "netns": id.String(), "userns": owner.String()}}, t)
	return nil
}

// setupUserNSPauseAndNetwork is step 4 of RunPodSandbox for a hostUsers:
// false pod, in CRI's order for it: the pause first (it makes the user
// namespace and, inside it, the network namespace), then the pin, then
// CNI ADD on the pin.
func (m *Manager) setupUserNSPauseAndNetwork(ctx context.Context, run *podRun) error {
	rec := run.rec
	tPause := time.Now()
	var err error
	if run.pause, err = m.startPause(ctx, run); err != nil {
		return fmt.Errorf("pod %s: step pause container: %w", rec.Pod.Name, err)
	}
	crashPoint("pause")
	m.emitPauseEvent(rec, run.pause.Pid(), tPause, time.Since(tPause))
	m.emitUserNSEvent(rec, run.pause.Pid(), tPause)
	if err := m.prepareRemappedImages(ctx, run); err != nil {
		return fmt.Errorf("pod %s: step user namespace rootfs: %w", rec.Pod.Name, err)
	}
	if err := m.pinUserNSNetNS(rec, run.pause.Pid()); err != nil {
		return fmt.Errorf("pod %s: step netns: %w", rec.Pod.Name, err)
	}
	tCNI := time.Now()
	nres, err := m.net.Setup(ctx, m.netPod(rec))
	if err != nil {
		return fmt.Errorf("pod %s: step network: %w", rec.Pod.Name, err)
	}
	return m.recordCNIResult(rec, nres, tCNI, time.Since(tCNI))
}

// prepareRemappedImages makes the chowned copy of each of the pod's
// images, one after the other, before the containers are created (at the
// same time, they would race to make the same copy): what containerd's
// client does inside WithNewSnapshot, here on a throwaway snapshot that
// is removed again.
func (m *Manager) prepareRemappedImages(ctx context.Context, run *podRun) error {
	u := run.rec.UserNS
	sn := m.client.SnapshotService(runtime.Snapshotter)
	done := map[string]bool{PauseImage: true} // made with the pause
	for _, c := range allContainers(&run.rec.Pod) {
		if done[c.Image] {
			continue
		}
		done[c.Image] = true
		t := time.Now()
		key := run.rec.ID + "-remap-" + strconv.Itoa(len(done))
		ctr := &containers.Container{ID: key, Snapshotter: runtime.Snapshotter}
		if err := containerd.WithNewSnapshot(key, run.images[c.Image].img, userNSSnapshotOpts(u)...)(ctx, m.client, ctr); err != nil {
			return fmt.Errorf("image %s: %w", c.Image, err)
		}
		if err := sn.Remove(ctx, key); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		m.emitEvent(Event{Pod: run.rec.Pod.Name, Step: "userns", Concept: "rootfs for the user namespace: a chowned copy of the image (containerd's remapped snapshot)", Object: c.Image,
			Detail: fmt.Sprintf("image %s copied and every file's owner shifted by %d (uid 0 -> %d), so the pod's root owns its root filesystem", c.Image, u.HostID, u.HostID),
			Attrs:  map[string]string{"image": c.Image, "shift": fmt.Sprint(u.HostID)}}, t)
	}
	return nil
}

// emitUserNSEvent traces the mapping step: the user namespace the pause
// made and the uid_map runc wrote into it, read back from the kernel.
func (m *Manager) emitUserNSEvent(rec *Record, pid uint32, t time.Time) {
	id, _ := namespaces.Read(fmt.Sprintf("/proc/%d/ns/user", pid), "user")
	umap, _ := ReadIDMap(int(pid), "uid_map")
	m.emitEvent(Event{Pod: rec.Pod.Name, Step: "userns", Concept: "user namespace made by the pause: runc wrote uid_map and gid_map", Object: id.String(),
		Detail: fmt.Sprintf("pause pid %d is in %s; /proc/%d/uid_map: %q (inside first, outside first, count); its rootfs and each container's are chowned copies of the image for uid %d", pid, id, pid, strings.Join(strings.Fields(umap), " "), rec.UserNS.HostID),
		Attrs:  map[string]string{"userns": id.String(), "uid_map": strings.Join(strings.Fields(umap), " ")}}, t)
}

// ReadIDMap reads /proc/<pid>/uid_map or gid_map (what the kernel
// translates through), trimmed.
func ReadIDMap(pid int, file string) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	return strings.TrimSpace(string(b)), err
}

// chownForUserNS gives the pod's root its files, as kubelet 1.25-1.27 did
// for the volumes of a pod with a user namespace (GetHostIDsForPod): the
// emptyDir, configMap and secret directories and the pod's hosts,
// hostname, resolv.conf and /dev/shm are re-owned from host ID n to
// HostID+n. Without it they would show as nobody (65534, the overflow ID)
// inside, and root there could not write them. (Kubernetes ≥ 1.28 maps
// them with idmapped mounts instead; see docs/performance.md.)
func (m *Manager) chownForUserNS(run *podRun) error {
	u := run.rec.UserNS
	if u == nil {
		return nil
	}
	paths := []string{run.files.Hosts, run.files.Hostname, run.files.Resolv}
	if run.files.Shm != "/dev/shm" {
		paths = append(paths, run.files.Shm)
	}
	for _, d := range run.vols {
		paths = append(paths, d)
	}
	for _, p := range paths {
		if err := shiftOwnership(p, u.HostID); err != nil {
			return fmt.Errorf("pod %s: step user namespace ownership: %w", run.rec.Pod.Name, err)
		}
	}
	return nil
}

// shiftOwnership adds base to the uid and gid of every file below root
// (lchown: a symlink is re-owned, never followed), unless they already
// are in the range.
func shiftOwnership(root string, base uint32) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		uid, gid := st.Uid, st.Gid
		if uid < UserNSLength {
			uid += base
		}
		if gid < UserNSLength {
			gid += base
		}
		return os.Lchown(p, int(uid), int(gid))
	})
}

// removeRemappedSnapshots removes the chowned image copies made for a
// pod's user namespace (committed snapshots "<chainID>-<id>-<id>"): the
// containers' snapshots on top of them are gone by now, and no other pod
// has the same IDs.
func (m *Manager) removeRemappedSnapshots(ctx context.Context, u *UserNamespace) error {
	if u == nil {
		return nil
	}
	sn := m.client.SnapshotService(runtime.Snapshotter)
	var names []string
	if err := sn.Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if id, ok := remappedSnapshotHostID(info.Name); ok && id == u.HostID {
			names = append(names, info.Name)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("listing snapshots: %w", err)
	}
	var errs []error
	for _, n := range names {
		if err := sn.Remove(ctx, n); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("removing the user-namespace copy %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}

// inventoryUserNS lists the ID ranges pods hold (from their records) and
// the chowned image copies made for them.
func (m *Manager) inventoryUserNS(ctx context.Context, add func(kind, what string)) {
	recs, _ := m.Records()
	for _, r := range recs {
		if r.UserNS != nil {
			add("userns", fmt.Sprintf("%s (pod %s)", r.UserNS.Range(), r.Name()))
		}
	}
	sn := m.client.SnapshotService(runtime.Snapshotter)
	_ = sn.Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if id, ok := remappedSnapshotHostID(info.Name); ok && info.Kind == snapshots.KindCommitted {
			add("snapshot", fmt.Sprintf("%s (rootfs chowned for user namespace %d)", info.Name, id))
		}
		return nil
	})
}

// gcRemappedSnapshots plans the chowned image copies whose ID range no
// pod holds any more (a pod gone in a crash, before its teardown).
func (m *Manager) gcRemappedSnapshots(ctx context.Context, add gcAdd) {
	held := map[uint32]bool{}
	recs, _ := m.Records()
	for _, r := range recs {
		if r.UserNS != nil {
			held[r.UserNS.HostID] = true
		}
	}
	sn := m.client.SnapshotService(runtime.Snapshotter)
	_ = sn.Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		id, ok := remappedSnapshotHostID(info.Name)
		if !ok || info.Kind != snapshots.KindCommitted || held[id] {
			return nil
		}
		name := info.Name
		add("snapshot "+name+" (user-namespace copy)", func(ctx context.Context) error {
			if err := sn.Remove(ctx, name); err != nil && !errdefs.IsNotFound(err) {
				return err
			}
			return nil
		})
		return nil
	})
}

// lockedFlagsOf names the nosuid, nodev and noexec flags of the mount that
// holds path (statfs), for withLockedMountFlags.
func lockedFlagsOf(path string) []string {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return nil
	}
	var out []string
	for _, f := range []struct {
		bit  int64
		name string
	}{{unix.ST_NOSUID, "nosuid"}, {unix.ST_NODEV, "nodev"}, {unix.ST_NOEXEC, "noexec"}} {
		if st.Flags&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	return out
}
