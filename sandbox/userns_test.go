package sandbox

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

// kubelet's allocator: blocks of 65536 at 65536 × N, the lowest free one,
// never one a pod holds or one that touches a reserved (subuid) range.
func TestAllocateUserNS(t *testing.T) {
	pool := IDRange{First: 4 * UserNSLength, Length: 4 * UserNSLength} // blocks 4..7
	for _, tc := range []struct {
		name     string
		used     []uint32
		reserved []IDRange
		want     uint32
		wantErr  string
	}{
		{name: "first block", want: 4 * UserNSLength},
		{name: "skips pods' blocks", used: []uint32{4 * UserNSLength, 5 * UserNSLength}, want: 6 * UserNSLength},
		{name: "a freed block is reused", used: []uint32{5 * UserNSLength}, want: 4 * UserNSLength},
		{name: "skips a subuid range that overlaps by one ID", reserved: []IDRange{{First: 5*UserNSLength - 1, Length: 2}}, want: 6 * UserNSLength},
		{name: "useradd's 100000:65536 is below the pool", reserved: []IDRange{{First: 100000, Length: 65536}}, want: 4 * UserNSLength},
		{name: "full", used: []uint32{4 * UserNSLength, 5 * UserNSLength, 6 * UserNSLength, 7 * UserNSLength}, wantErr: "no free range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := allocateUserNS(pool, tc.used, tc.reserved)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.HostID != tc.want || u.Length != UserNSLength || u.HostID%UserNSLength != 0 {
				t.Fatalf("got %+v, want host ID %d, length %d", u, tc.want, UserNSLength)
			}
		})
	}
	if _, err := allocateUserNS(IDRange{First: 0, Length: UserNSLength}, nil, nil); err == nil {
		t.Fatal("a pool that would map host uid 0 was accepted")
	}
	if u, err := allocateUserNS(UserNSPool, nil, nil); err != nil || u.Range().Last() >= 1<<32-1 {
		t.Fatalf("default pool: %+v %v (must never reach uid 4294967295, the kernel's invalid ID)", u, err)
	}
}

func TestPoolFromSubIDs(t *testing.T) {
	pool, res, err := poolFrom(strings.NewReader("alice:100000:65536\n"), strings.NewReader("alice:100000:65536\n"))
	if err != nil || pool != UserNSPool || len(res) != 2 {
		t.Fatalf("no podsim line: pool %v reserved %v err %v", pool, res, err)
	}
	own := "podsim:262144:655360\nalice:100000:65536\n"
	pool, res, err = poolFrom(strings.NewReader(own), strings.NewReader(own))
	if err != nil || pool != (IDRange{First: 262144, Length: 655360}) || len(res) != 2 {
		t.Fatalf("podsim line: pool %v reserved %v err %v", pool, res, err)
	}
	if _, _, err := poolFrom(strings.NewReader(own), strings.NewReader("podsim:327680:655360\n")); err == nil {
		t.Fatal("different podsim ranges in subuid and subgid were accepted")
	}
	if _, _, err := poolFrom(strings.NewReader("bad line\n"), strings.NewReader("")); err == nil {
		t.Fatal("a malformed /etc/subuid was accepted")
	}
}

// The pause makes the user namespace (no path, the pod's mappings) and its
// netns inside it (no pin); a container joins the pause's user namespace.
func TestUserNamespaceSpecs(t *testing.T) {
	u := &UserNamespace{HostID: 3 * UserNSLength, Length: UserNSLength}
	c := sandboxConfig{ID: "abc", Hostname: "p", Cgroup: "/podsim/pod1", Files: testFiles, Node: testNode, UserNS: u,
		Image: ImageConfig{Entrypoint: []string{"/pause"}}}
	s := genSpec(t, pauseSpecOpts(c)...)
	ns := nsMap(s)
	if p, ok := ns[specs.UserNamespace]; !ok || p != "" {
		t.Fatalf("pause user namespace = %q, %v; want a new one", p, ok)
	}
	if p := ns[specs.NetworkNamespace]; p != "" {
		t.Fatalf("pause netns path = %q; want a new one, made inside the user namespace", p)
	}
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 3 * UserNSLength, Size: UserNSLength}}
	if len(s.Linux.UIDMappings) != 1 || s.Linux.UIDMappings[0] != want[0] || len(s.Linux.GIDMappings) != 1 || s.Linux.GIDMappings[0] != want[0] {
		t.Fatalf("mappings uid %v gid %v, want %v", s.Linux.UIDMappings, s.Linux.GIDMappings, want)
	}
	// The /dev/shm tmpfs is nosuid,nodev,noexec; its read-only bind keeps
	// what statfs reports (on Linux), never drops "ro".
	if m := mountDest(s, "/dev/shm"); m == nil || !hasOption(m.Options, "ro") {
		t.Fatalf("/dev/shm mount: %+v", m)
	}

	pod := parsePod(t, base).Pod
	f := false
	pod.Spec.HostUsers = &f
	opts, err := containerSpecOpts(containerConfig{ID: "abc-c1", SandboxID: "abc", Pod: pod, Container: &pod.Spec.Containers[0],
		Image: ImageConfig{Cmd: []string{"sh"}}, PausePID: 42, Cgroup: "/podsim/pod1", Node: testNode, UserNS: u})
	if err != nil {
		t.Fatal(err)
	}
	s = genSpec(t, opts...)
	if p := nsMap(s)[specs.UserNamespace]; p != "/proc/42/ns/user" {
		t.Fatalf("container user namespace = %q, want the pause's /proc/42/ns/user", p)
	}
	if len(s.Linux.UIDMappings) != 1 || s.Linux.UIDMappings[0] != want[0] {
		t.Fatalf("container uid mappings %v, want %v (runc checks them against the joined namespace)", s.Linux.UIDMappings, want)
	}
	// Without hostUsers: false nothing changes: the host's user namespace.
	opts, _ = containerSpecOpts(containerConfig{ID: "abc-c1", SandboxID: "abc", Pod: pod, Container: &pod.Spec.Containers[0],
		Image: ImageConfig{Cmd: []string{"sh"}}, PausePID: 42, Cgroup: "/podsim/pod1", Node: testNode})
	if _, ok := nsMap(genSpec(t, opts...))[specs.UserNamespace]; ok {
		t.Fatal("a pod without hostUsers: false got a user namespace")
	}
}

func TestRemappedSnapshotHostID(t *testing.T) {
	u := UserNamespace{HostID: 1 << 31, Length: UserNSLength}
	name := "sha256:a4e574282518d8469b698d110d1eef9199d4e09adfa773ac9d65d1c5b01d9871" + u.RemappedSnapshotSuffix()
	if id, ok := remappedSnapshotHostID(name); !ok || id != u.HostID {
		t.Fatalf("%s: %d %v", name, id, ok)
	}
	for _, n := range []string{"sha256:abc", "sha256:abc-1-2", "sha256:abc-5-5", "421689a52ba6-c1", "sha256:abc-65536-65536-remap"} {
		if _, ok := remappedSnapshotHostID(n); ok {
			t.Fatalf("%s taken for a user-namespace copy", n)
		}
	}
}

func TestValidateUserNamespace(t *testing.T) {
	off := "  hostUsers: false\n"
	for _, tc := range []struct{ name, spec, want string }{
		{"emptyDir", off, ""},
		{"with hostNetwork", off + "  hostNetwork: true\n", "spec.hostUsers: false cannot be combined with spec.hostNetwork"},
		{"with hostPID", off + "  hostPID: true\n", "cannot be combined"},
		{"runAsUser outside the range", off + "  securityContext:\n    runAsUser: 70000\n", "runAsUser: 70000 is outside the pod's user namespace"},
		{"runAsUser inside", off + "  securityContext:\n    runAsUser: 1000\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := strings.Replace(base, "  containers:\n", tc.spec+"  containers:\n", 1)
			_, err := Validate(parsePod(t, y).Pod)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// A volume kinds kubelet did not allow with a user namespace before
	// idmapped mounts (checked directly: hostPath is refused by the field
	// table on its own as well).
	pod := parsePod(t, strings.Replace(base, "  containers:\n", off+"  containers:\n", 1)).Pod
	pod.Spec.Volumes[0].EmptyDir = nil
	pod.Spec.Volumes[0].HostPath = &corev1.HostPathVolumeSource{Path: "/srv"}
	v := &validator{pod: pod}
	v.checkUserNamespace()
	if len(v.errs) != 1 || !strings.Contains(v.errs[0], "spec.volumes[shared]: with spec.hostUsers: false only emptyDir") {
		t.Fatalf("hostPath with hostUsers: false: %v", v.errs)
	}
}
