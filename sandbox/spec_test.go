package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/podsim/podsim/cgroups"
)

func genSpec(t *testing.T, opts ...oci.SpecOpts) *oci.Spec {
	t.Helper()
	ctx := namespaces.WithNamespace(context.Background(), "test")
	// An absolute, empty root: options that read the image's /etc/passwd
	// or /etc/group (WithAdditionalGIDs) find none, as in a scratch image.
	opts = append([]oci.SpecOpts{oci.WithRootFSPath(t.TempDir())}, opts...)
	s, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: "c"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func nsMap(s *oci.Spec) map[specs.LinuxNamespaceType]string {
	m := map[specs.LinuxNamespaceType]string{}
	for _, n := range s.Linux.Namespaces {
		m[n.Type] = n.Path
	}
	return m
}

func TestPodNamespaces(t *testing.T) {
	for _, tc := range []struct {
		name string
		ns   podNamespaces
		want map[specs.LinuxNamespaceType]string
	}{
		{"own pid namespace", podNamespaces{PausePID: 42}, map[specs.LinuxNamespaceType]string{
			specs.NetworkNamespace: "/proc/42/ns/net", specs.IPCNamespace: "/proc/42/ns/ipc", specs.UTSNamespace: "/proc/42/ns/uts",
			specs.MountNamespace: "", specs.PIDNamespace: ""}},
		{"shareProcessNamespace joins the pause's pid namespace", podNamespaces{PausePID: 42, SharePID: true}, map[specs.LinuxNamespaceType]string{
			specs.NetworkNamespace: "/proc/42/ns/net", specs.IPCNamespace: "/proc/42/ns/ipc", specs.UTSNamespace: "/proc/42/ns/uts",
			specs.MountNamespace: "", specs.PIDNamespace: "/proc/42/ns/pid"}},
		{"ephemeral --target joins the target's pid namespace", podNamespaces{PausePID: 42, TargetPID: 77}, map[specs.LinuxNamespaceType]string{
			specs.NetworkNamespace: "/proc/42/ns/net", specs.IPCNamespace: "/proc/42/ns/ipc", specs.UTSNamespace: "/proc/42/ns/uts",
			specs.MountNamespace: "", specs.PIDNamespace: "/proc/77/ns/pid"}},
		{"hostNetwork/hostIPC: the pause's net, uts, ipc, which are the host's (as CRI)", podNamespaces{PausePID: 42, Host: HostNamespaces{Network: true, IPC: true}}, map[specs.LinuxNamespaceType]string{
			specs.NetworkNamespace: "/proc/42/ns/net", specs.IPCNamespace: "/proc/42/ns/ipc", specs.UTSNamespace: "/proc/42/ns/uts",
			specs.MountNamespace: "", specs.PIDNamespace: ""}},
		{"hostPID: the pause's pid namespace, the host's", podNamespaces{PausePID: 42, Host: HostNamespaces{PID: true}}, map[specs.LinuxNamespaceType]string{
			specs.NetworkNamespace: "/proc/42/ns/net", specs.IPCNamespace: "/proc/42/ns/ipc", specs.UTSNamespace: "/proc/42/ns/uts",
			specs.MountNamespace: "", specs.PIDNamespace: "/proc/42/ns/pid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := nsMap(genSpec(t, withPodNamespaces(tc.ns)))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("namespaces = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSandboxNamespaces(t *testing.T) {
	got := nsMap(genSpec(t, withSandboxNamespaces("/run/netns/podsim-x", HostNamespaces{}), withCgroupNamespace(true)))
	want := map[specs.LinuxNamespaceType]string{
		specs.NetworkNamespace: "/run/netns/podsim-x", // the pinned netns, made before the pause
		specs.IPCNamespace:     "", specs.UTSNamespace: "", specs.PIDNamespace: "", specs.MountNamespace: "",
		specs.CgroupNamespace: "",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pause namespaces = %v, want %v", got, want)
	}
	if _, ok := nsMap(genSpec(t, withCgroupNamespace(false)))[specs.CgroupNamespace]; ok {
		t.Error("cgroup namespace added on a v1 host")
	}
}

func TestResolveArgs(t *testing.T) {
	img := ImageConfig{Entrypoint: []string{"/entry"}, Cmd: []string{"default-arg"}}
	for _, tc := range []struct {
		name          string
		command, args []string
		want          []string
	}{
		{"image defaults", nil, nil, []string{"/entry", "default-arg"}},
		{"command replaces Entrypoint and drops Cmd", []string{"sleep", "5000"}, nil, []string{"sleep", "5000"}},
		{"args replace Cmd", nil, []string{"-x"}, []string{"/entry", "-x"}},
		{"command and args", []string{"/bin/sh"}, []string{"-c", "echo"}, []string{"/bin/sh", "-c", "echo"}},
	} {
		if got := ResolveArgs(img, tc.command, tc.args); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := ResolveArgs(ImageConfig{Cmd: []string{"sh"}}, nil, nil); !reflect.DeepEqual(got, []string{"sh"}) {
		t.Errorf("busybox-like image: got %q", got)
	}
}

// TestMergeEnv: kubelet's env (final: resolveEnv expanded it) over the
// image's, as CRI's oci.WithEnv lays it: the image's order, new names
// appended, values taken as they are.
func TestMergeEnv(t *testing.T) {
	got := MergeEnv([]string{"PATH=/bin", "A=1"}, []corev1.EnvVar{
		{Name: "A", Value: "2"}, {Name: "B", Value: "$(A)-x"}, {Name: "C", Value: "$$"},
	})
	want := []string{"PATH=/bin", "A=2", "B=$(A)-x", "C=$$"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestResources(t *testing.T) {
	s := genSpec(t, withResources(corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi"), corev1.ResourceCPU: resource.MustParse("500m")},
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")},
	}))
	r := s.Linux.Resources
	if r.Memory == nil || *r.Memory.Limit != 64<<20 {
		t.Errorf("memory limit = %+v", r.Memory)
	}
	if *r.CPU.Quota != 50000 || *r.CPU.Period != 100000 || *r.CPU.Shares != 256 {
		t.Errorf("cpu = quota %d period %d shares %d, want 50000/100000/256", *r.CPU.Quota, *r.CPU.Period, *r.CPU.Shares)
	}
}

func TestPodMountsReplaceDefaults(t *testing.T) {
	s := genSpec(t, withPodMounts([]Mount{{Source: "/pod/shm", Destination: "/dev/shm"}, {Source: "/pod/vol", Destination: "/shared", ReadOnly: true}}))
	var shm, shared []specs.Mount
	for _, m := range s.Mounts {
		switch m.Destination {
		case "/dev/shm":
			shm = append(shm, m)
		case "/shared":
			shared = append(shared, m)
		}
	}
	if len(shm) != 1 || shm[0].Source != "/pod/shm" || shm[0].Type != "bind" {
		t.Errorf("/dev/shm mounts = %+v, want only the pod's", shm)
	}
	if len(shared) != 1 || !reflect.DeepEqual(shared[0].Options, []string{"rbind", "rprivate", "ro"}) {
		t.Errorf("/shared mount = %+v", shared)
	}
}

func TestSecurityContext(t *testing.T) {
	yes, no := true, false
	uid := int64(1000)
	s := genSpec(t, withSecurityContext(nil, &corev1.SecurityContext{
		RunAsUser:                &uid,
		ReadOnlyRootFilesystem:   &yes,
		AllowPrivilegeEscalation: &no,
		Capabilities:             &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}, Drop: []corev1.Capability{"CHOWN"}},
	}, "")...)
	if s.Process.User.UID != 1000 || !s.Root.Readonly || !s.Process.NoNewPrivileges {
		t.Errorf("uid %d readonly %v nnp %v", s.Process.User.UID, s.Root.Readonly, s.Process.NoNewPrivileges)
	}
	caps := s.Process.Capabilities.Bounding
	if !contains(caps, "CAP_NET_ADMIN") || contains(caps, "CAP_CHOWN") {
		t.Errorf("bounding caps = %v", caps)
	}
	priv := genSpec(t, withSecurityContext(nil, &corev1.SecurityContext{Privileged: &yes}, "")...)
	if !contains(priv.Process.Capabilities.Bounding, "CAP_SYS_ADMIN") || len(priv.Linux.MaskedPaths) != 0 {
		t.Errorf("privileged: caps %v masked %v", priv.Process.Capabilities.Bounding, priv.Linux.MaskedPaths)
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestCapabilitiesAll(t *testing.T) {
	s := genSpec(t, withSecurityContext(nil, &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_BIND_SERVICE"}}}, "")...)
	if got := s.Process.Capabilities.Bounding; len(got) != 1 || got[0] != "CAP_NET_BIND_SERVICE" {
		t.Errorf("drop ALL + add NET_BIND_SERVICE: bounding = %v", got)
	}
	if len(s.Process.Capabilities.Effective) != 1 {
		t.Errorf("effective = %v", s.Process.Capabilities.Effective)
	}
}

func TestExpandArgs(t *testing.T) {
	got := ExpandArgs([]string{"echo", "$(GREETING) $(NAME)", "$$(NAME)", "$(PATH)"}, []corev1.EnvVar{{Name: "GREETING", Value: "hi"}, {Name: "NAME", Value: "pod"}})
	// $(PATH) is the image's variable, which kubelet never sees: it stays.
	if !reflect.DeepEqual(got, []string{"echo", "hi pod", "$(NAME)", "$(PATH)"}) {
		t.Errorf("got %q", got)
	}
}

// TestCRIProcessDefaults: what containerd's CRI plugin gives every
// container besides the pod's own settings (found by podsim compare).
func TestCRIProcessDefaults(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\napp:x:1000:\nwheel:x:10:root\naudio:x:29:app\n"), 0o644)
	gen := func(opts ...oci.SpecOpts) *oci.Spec {
		t.Helper()
		ctx := namespaces.WithNamespace(context.Background(), "test")
		s, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: "c"}, append([]oci.SpecOpts{oci.WithRootFSPath(root)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// root: its primary group and the groups /etc/group lists it in.
	if g := gen(withSecurityContext(nil, nil, "")...).Process.User.AdditionalGids; !slices.Equal(g, []uint32{0, 10}) {
		t.Errorf("root's additional gids = %v, want [0 10]", g)
	}
	// runAsUser 1000 is "app" in the image; supplementalGroups come after.
	uid := int64(1000)
	psc := &corev1.PodSecurityContext{RunAsUser: &uid, SupplementalGroups: []int64{4242}}
	if g := gen(withSecurityContext(psc, nil, "")...).Process.User.AdditionalGids; !slices.Equal(g, []uint32{0, 29, 4242}) {
		t.Errorf("uid 1000's additional gids = %v, want [0 29 4242] (gid 0: runAsGroup unset)", g)
	}
	// The rlimit containerd's default spec adds is gone; shares 2 without a request.
	s := gen(withoutRlimits, withResources(corev1.ResourceRequirements{}), withOOMScoreAdj(1000))
	if len(s.Process.Rlimits) != 0 {
		t.Errorf("rlimits = %v, want none (inherited, as CRI)", s.Process.Rlimits)
	}
	if sh := s.Linux.Resources.CPU.Shares; sh == nil || *sh != cgroups.MinShares {
		t.Errorf("cpu shares without a request = %v, want %d", sh, cgroups.MinShares)
	}
	if s.Process.OOMScoreAdj == nil || *s.Process.OOMScoreAdj != 1000 {
		t.Errorf("oomScoreAdj = %v, want 1000", s.Process.OOMScoreAdj)
	}
	if env := withHostnameEnv("podtest", []string{"PATH=/bin"}); !slices.Equal(env, []string{"HOSTNAME=podtest", "PATH=/bin"}) {
		t.Errorf("env = %v", env)
	}
	if env := withHostnameEnv("podtest", []string{"HOSTNAME=mine"}); !slices.Equal(env, []string{"HOSTNAME=mine"}) {
		t.Errorf("an image's HOSTNAME must win: %v", env)
	}
}
