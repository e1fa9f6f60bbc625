package sandbox

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/snapshots"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

// User namespaces (hostUsers: false), as kubelet's pkg/kubelet/userns and
// containerd's CRI make them. The pod gets one user namespace, made by the
// pause and joined by every container, that maps the pod's IDs 0-65535 to
// a range of 65536 IDs on the host that no other pod and no host user has.
// Root inside is a plain, unprivileged uid outside: the kernel checks every
// capability against the namespace that owns the object (the pod's netns,
// mount namespace, ipc... are owned by the pod's user namespace; the host's
// files, devices and kernel settings are not).

// UserNSLength is the number of IDs each pod gets: 65536, kubelet's default
// (userNsUnitLength), so every 16-bit uid an image may use is mapped.
const UserNSLength = 1 << 16

// IDRange is a range of host uids (or gids): [First, First+Length).
type IDRange struct {
	First  uint32 `json:"first"`
	Length uint32 `json:"length"`
}

// Last is the range's last ID.
func (r IDRange) Last() uint32 { return r.First + r.Length - 1 }

// overlaps reports whether two ranges share an ID.
func (r IDRange) overlaps(o IDRange) bool {
	return uint64(r.First) < uint64(o.First)+uint64(o.Length) && uint64(o.First) < uint64(r.First)+uint64(r.Length)
}

func (r IDRange) String() string { return fmt.Sprintf("%d-%d", r.First, r.Last()) }

// UserNamespace is a pod's ID mapping, persisted in its record (kubelet
// keeps the same in a "userns" file in the pod's directory): container IDs
// 0..Length-1 are host IDs HostID..HostID+Length-1, for uids and gids alike
// (kubelet always maps both the same way).
type UserNamespace struct {
	HostID uint32 `json:"hostID"`
	Length uint32 `json:"length"`
}

// Range is the host IDs the pod's user namespace uses.
func (u UserNamespace) Range() IDRange { return IDRange{First: u.HostID, Length: u.Length} }

// Mappings are the runtime-spec's uidMappings/gidMappings for the pod.
func (u UserNamespace) Mappings() []specs.LinuxIDMapping {
	return []specs.LinuxIDMapping{{ContainerID: 0, HostID: u.HostID, Size: u.Length}}
}

// UIDMapLine is the pod's line in /proc/<pid>/uid_map, as the kernel prints it.
func (u UserNamespace) UIDMapLine() string {
	return fmt.Sprintf("%10d %10d %10d", 0, u.HostID, u.Length)
}

// HostUsersOff reports whether the pod asks for a user namespace.
func HostUsersOff(spec *corev1.PodSpec) bool { return spec.HostUsers != nil && !*spec.HostUsers }

// UserNSPool is the host IDs podsim hands out to pods, 65536 at a time:
// kubelet's rule. By default podsim takes the upper half of the uid space,
// [2^31, 2^32-65536): far above the IDs distributions give users (below
// 65536) and the subordinate ranges useradd writes to /etc/subuid (from
// 100000 up). A "podsim" line in /etc/subuid and /etc/subgid (the same
// range in both, a multiple of 65536) replaces it, as a "kubelet" line does
// for kubelet.
var UserNSPool = IDRange{First: 1 << 31, Length: 1<<31 - UserNSLength}

// allocateUserNS picks the lowest free block of the pool: a multiple of
// UserNSLength (65536 × N, as kubelet's allocator does), not used by a pod
// and overlapping no range reserved on the host (/etc/subuid, /etc/subgid).
func allocateUserNS(pool IDRange, used []uint32, reserved []IDRange) (UserNamespace, error) {
	if pool.First%UserNSLength != 0 || pool.Length%UserNSLength != 0 || pool.First < UserNSLength {
		return UserNamespace{}, fmt.Errorf("user namespace ID pool %s must start at a multiple of %d above 0 and have a multiple of %d IDs", pool, UserNSLength, UserNSLength)
	}
	taken := map[uint32]bool{}
	for _, u := range used {
		taken[u] = true
	}
	for first := uint64(pool.First); first+UserNSLength <= uint64(pool.First)+uint64(pool.Length); first += UserNSLength {
		cand := IDRange{First: uint32(first), Length: UserNSLength}
		if taken[cand.First] || overlapsAny(cand, reserved) {
			continue
		}
		return UserNamespace{HostID: cand.First, Length: UserNSLength}, nil
	}
	return UserNamespace{}, fmt.Errorf("no free range of %d IDs left in the user namespace pool %s (%d pods hold one): delete pods with hostUsers: false", UserNSLength, pool, len(used))
}

func overlapsAny(r IDRange, l []IDRange) bool {
	for _, o := range l {
		if r.overlaps(o) {
			return true
		}
	}
	return false
}

// parseSubIDs reads /etc/subuid or /etc/subgid ("name:first:count" lines):
// every range, and the one of owner (if any).
func parseSubIDs(r io.Reader, owner string) (all []IDRange, own *IDRange, err error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 {
			return nil, nil, fmt.Errorf("bad line %q: want name:first:count", line)
		}
		first, err1 := strconv.ParseUint(f[1], 10, 32)
		n, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || n == 0 {
			return nil, nil, fmt.Errorf("bad line %q: want name:first:count", line)
		}
		rg := IDRange{First: uint32(first), Length: uint32(n)}
		if f[0] == owner {
			own = &rg
			continue
		}
		all = append(all, rg)
	}
	return all, own, sc.Err()
}

// poolFrom decides the pool from the subordinate-ID files: the "podsim"
// lines if both files have the same one, else the default UserNSPool; the
// other lines are reserved (never handed out).
func poolFrom(subuid, subgid io.Reader) (IDRange, []IDRange, error) {
	u, ownU, err := parseSubIDs(subuid, "podsim")
	if err != nil {
		return IDRange{}, nil, fmt.Errorf("/etc/subuid: %w", err)
	}
	g, ownG, err := parseSubIDs(subgid, "podsim")
	if err != nil {
		return IDRange{}, nil, fmt.Errorf("/etc/subgid: %w", err)
	}
	reserved := append(u, g...)
	sort.Slice(reserved, func(i, j int) bool { return reserved[i].First < reserved[j].First })
	switch {
	case ownU == nil && ownG == nil:
		return UserNSPool, reserved, nil
	case ownU == nil || ownG == nil || *ownU != *ownG:
		return IDRange{}, nil, fmt.Errorf("the podsim lines of /etc/subuid and /etc/subgid must name the same range (kubelet's rule for its own line)")
	}
	return *ownU, reserved, nil
}

// withPodUserNamespace puts a process in the pod's user namespace, as CRI's
// WithUserNamespace does: the pause gets a new one (no path) with the pod's
// uidMappings/gidMappings, which runc writes to its uid_map and gid_map;
// a container joins the pause's through /proc/<pausePID>/ns/user (runc
// setns()es into it; the mappings are the namespace's already and are
// repeated only because runc checks them). Nil: the host's, as before.
func withPodUserNamespace(u *UserNamespace, pausePID uint32) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if u == nil {
			return nil
		}
		if err := oci.WithUserNamespace(u.Mappings(), u.Mappings())(ctx, c, ctr, s); err != nil {
			return err
		}
		if pausePID == 0 {
			return nil
		}
		return oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.UserNamespace, Path: fmt.Sprintf("/proc/%d/ns/user", pausePID)})(ctx, c, ctr, s)
	}
}

// withUserNSNetwork gives the pause of a hostUsers: false pod a new network
// namespace instead of joining a pin: a network namespace belongs to the
// user namespace it was made in, and the pod's root needs its
// CAP_NET_ADMIN and CAP_NET_BIND_SERVICE to count there (and runc needs it
// to mount /sys). containerd's CRI does the same (NewNetNSFromPID): the
// pause makes the netns, which is pinned afterwards and wired by CNI.
func withUserNSNetwork(u *UserNamespace) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if u == nil {
			return nil
		}
		return oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace})(ctx, c, ctr, s)
	}
}

// userNSSnapshotOpts asks for a rootfs owned by the pod's IDs: the labels
// containerd's CRI (1.7) sets. A snapshotter without the "remap-ids"
// capability (overlayfs) gets a chowned copy of the image, made by the Go
// client (WithNewSnapshot): "<chainID>-<hostID>-<hostID>", every file's
// uid and gid shifted by the pod's first host ID, so root's files in the
// image are the pod's root's.
func userNSSnapshotOpts(u *UserNamespace) []snapshots.Opt {
	if u == nil {
		return nil
	}
	return []snapshots.Opt{containerd.WithRemapperLabels(0, u.HostID, 0, u.HostID, u.Length)}
}

// RemappedSnapshotSuffix is the end of the name of the chowned image copy
// containerd's client makes for a pod's user namespace.
func (u UserNamespace) RemappedSnapshotSuffix() string {
	return fmt.Sprintf("-%d-%d", u.HostID, u.HostID)
}

// remappedSnapshotHostID reads the host ID from the name of a chowned image
// copy ("sha256:<chain>-<uid>-<gid>", uid == gid); ok is false for any
// other snapshot.
func remappedSnapshotHostID(name string) (uint32, bool) {
	if !strings.HasPrefix(name, "sha256:") {
		return 0, false
	}
	f := strings.Split(name, "-")
	if len(f) != 3 || f[1] != f[2] {
		return 0, false
	}
	id, err := strconv.ParseUint(f[1], 10, 32)
	if err != nil || id%UserNSLength != 0 || id == 0 {
		return 0, false
	}
	return uint32(id), true
}

// checkUserNamespace checks a hostUsers: false pod as the API server and
// kubelet do: no host namespaces (checkIsolation), only the volume types
// kubelet allowed before idmapped mounts (podsim gives the pod's root its
// volumes by ownership, as kubelet 1.25-1.27 did), and users that exist
// in the pod's 65536 IDs.
func (v *validator) checkUserNamespace() {
	s := &v.pod.Spec
	if !HostUsersOff(s) {
		return
	}
	for _, vol := range s.Volumes {
		if vol.EmptyDir == nil && vol.ConfigMap == nil && vol.Secret == nil && vol.DownwardAPI == nil && vol.Projected == nil {
			v.fail("spec.volumes[%s]: with spec.hostUsers: false only emptyDir, configMap, secret, downwardAPI and projected volumes are allowed (kubelet's rule before idmapped mounts; podsim hands the pod's volumes to its root by ownership, which it cannot do to a node's or a claim's files): remove the volume or hostUsers: false", vol.Name)
		}
	}
	check := func(field string, id *int64) {
		if id != nil && (*id < 0 || *id >= UserNSLength) {
			v.fail("%s: %d is outside the pod's user namespace (IDs 0-%d with spec.hostUsers: false): choose an ID below %d", field, *id, UserNSLength-1, UserNSLength)
		}
	}
	if sc := s.SecurityContext; sc != nil {
		check("spec.securityContext.runAsUser", sc.RunAsUser)
		check("spec.securityContext.runAsGroup", sc.RunAsGroup)
	}
	for _, c := range append(append([]corev1.Container{}, s.InitContainers...), s.Containers...) {
		if sc := c.SecurityContext; sc != nil {
			check("spec.containers["+c.Name+"].securityContext.runAsUser", sc.RunAsUser)
			check("spec.containers["+c.Name+"].securityContext.runAsGroup", sc.RunAsGroup)
		}
	}
}

// withLockedMountFlags keeps, on each read-only bind mount of a hostUsers:
// false pod, the nosuid/nodev/noexec flags its source mount has. In a user
// namespace the kernel locks the flags of mounts made outside it, and a
// read-only remount that drops one fails with EPERM; runc 1.1.5 remounts
// with only the flags the spec lists (later runc versions add them itself).
func withLockedMountFlags(u *UserNamespace) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if u == nil {
			return nil
		}
		for i, m := range s.Mounts {
			if m.Type != "bind" || !hasOption(m.Options, "ro") {
				continue
			}
			for _, f := range lockedFlagsOf(m.Source) {
				if !hasOption(m.Options, f) {
					s.Mounts[i].Options = append(s.Mounts[i].Options, f)
				}
			}
		}
		return nil
	}
}

func hasOption(opts []string, o string) bool {
	for _, x := range opts {
		if x == o {
			return true
		}
	}
	return false
}
