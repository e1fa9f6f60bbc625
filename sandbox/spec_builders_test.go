package sandbox

import (
	"slices"
	"testing"

	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The spec builders return the full option list of a pause or a container
// without touching the kernel; these tables generate the OCI spec from them,
// as containerd does at NewContainer, and look at what runc would be told.

var testNode = nodeConfig{OOMFloor: -1000, MemCapacity: 8 << 30}

var testFiles = podFiles{Hosts: "/state/p/etc-hosts", Hostname: "/state/p/hostname", Resolv: "/state/p/resolv.conf", Shm: "/run/p/shm"}

func mountDest(s *oci.Spec, dest string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dest {
			return &s.Mounts[i]
		}
	}
	return nil
}

func TestPauseSpec(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      sandboxConfig
		cgroupNS bool
		sysctls  map[string]string
		host     []specs.LinuxNamespaceType // absent from the spec: the host's
	}{
		{"cgroup v1 host", sandboxConfig{}, false, nil, nil},
		{"cgroup v2 host: own cgroup namespace", sandboxConfig{Node: nodeConfig{Unified: true, OOMFloor: -1000, MemCapacity: 8 << 30}}, true, nil, nil},
		{"pod sysctls go on the sandbox", sandboxConfig{Sysctls: []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}}},
			false, map[string]string{"net.ipv4.ip_unprivileged_port_start": "0"}, nil},
		{"hostNetwork: no net, no uts, no hostname", sandboxConfig{Host: HostNamespaces{Network: true}}, false, nil,
			[]specs.LinuxNamespaceType{specs.NetworkNamespace, specs.UTSNamespace}},
		{"hostPID and hostIPC: no pid, no ipc", sandboxConfig{Host: HostNamespaces{PID: true, IPC: true}}, false, nil,
			[]specs.LinuxNamespaceType{specs.PIDNamespace, specs.IPCNamespace}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			c.ID, c.Hostname, c.NetNS, c.Cgroup, c.Files = "abc123", "podtest", "/run/netns/podsim-podtest-abc123", "/podsim/pod1", testFiles
			if c.Host.Network {
				c.NetNS = "" // no pin for a hostNetwork pod
			}
			if c.Node.MemCapacity == 0 {
				c.Node = testNode
			}
			c.Image = ImageConfig{Entrypoint: []string{"/pause"}, User: "65535:65535"}
			s := genSpec(t, pauseSpecOpts(c)...)
			ns := nsMap(s)
			for _, typ := range tc.host {
				if p, ok := ns[typ]; ok {
					t.Errorf("pause %s namespace = %q, want no entry (the host's)", typ, p)
				}
			}
			if c.Host.Network && s.Hostname != "" {
				t.Errorf("hostNetwork pause sets hostname %q: runc refuses one without a UTS namespace", s.Hostname)
			}
			if !c.Host.Network && ns[specs.NetworkNamespace] != c.NetNS {
				t.Errorf("pause netns = %q, want the pin %q", ns[specs.NetworkNamespace], c.NetNS)
			}
			for _, typ := range []specs.LinuxNamespaceType{specs.IPCNamespace, specs.UTSNamespace, specs.PIDNamespace, specs.MountNamespace} {
				if slices.Contains(tc.host, typ) {
					continue
				}
				if p, ok := ns[typ]; !ok || p != "" {
					t.Errorf("pause %s namespace = %q (present %v), want a new one", typ, p, ok)
				}
			}
			if _, ok := ns[specs.CgroupNamespace]; ok != tc.cgroupNS {
				t.Errorf("cgroup namespace present = %v, want %v", ok, tc.cgroupNS)
			}
			if (s.Hostname != "podtest" && !c.Host.Network) || s.Linux.CgroupsPath != "/podsim/pod1/abc123" || !s.Root.Readonly || !s.Process.NoNewPrivileges {
				t.Errorf("hostname %q cgroup %q ro-root %v nnp %v", s.Hostname, s.Linux.CgroupsPath, s.Root.Readonly, s.Process.NoNewPrivileges)
			}
			if !slices.Equal(s.Process.Args, []string{"/pause"}) || s.Annotations[ShimGroupAnnotation] != "abc123" {
				t.Errorf("args %v, shim group %q", s.Process.Args, s.Annotations[ShimGroupAnnotation])
			}
			if *s.Process.OOMScoreAdj != SandboxOOMScoreAdj || *s.Linux.Resources.CPU.Shares != 2 || len(s.Process.Rlimits) != 0 {
				t.Errorf("oom %d shares %d rlimits %v", *s.Process.OOMScoreAdj, *s.Linux.Resources.CPU.Shares, s.Process.Rlimits)
			}
			for _, d := range []string{"/dev/shm", "/etc/resolv.conf"} {
				if m := mountDest(s, d); m == nil || !slices.Contains(m.Options, "ro") {
					t.Errorf("pause mount %s = %+v, want a read-only bind", d, m)
				}
			}
			for k, v := range tc.sysctls {
				if s.Linux.Sysctl[k] != v {
					t.Errorf("sysctl %s = %q, want %q", k, s.Linux.Sysctl[k], v)
				}
			}
			// Issue 18 item 3: no /run tmpfs; CRI gives the sandbox no
			// cgroup filesystem either.
			for _, d := range []string{"/run", "/sys/fs/cgroup"} {
				if m := mountDest(s, d); m != nil {
					t.Errorf("pause has a %s mount %+v; CRI's sandbox has none", d, m)
				}
			}
			// Item 4: the image's unprivileged user, RuntimeDefault seccomp.
			if u := s.Process.User; u.UID != 65535 || u.GID != 65535 {
				t.Errorf("pause user %d:%d, want the image's 65535:65535", u.UID, u.GID)
			}
			if sc := s.Linux.Seccomp; sc == nil || sc.DefaultAction != specs.ActErrno || len(sc.Syscalls) == 0 {
				t.Errorf("pause seccomp = %+v, want containerd's RuntimeDefault profile (default ERRNO, an allow list)", sc)
			}
		})
	}
}

// TestContainerKubeletMounts covers issue 18's items 1, 2, 3 and 6 on the
// app container's spec: the cgroup filesystem, kubelet's masked and
// read-only paths, no /run tmpfs, the termination-message file.
func TestContainerKubeletMounts(t *testing.T) {
	yes := true
	node := testNode
	node.MaskedPaths = append(append([]string(nil), KubeletMaskedPaths...), "/sys/devices/system/cpu/cpu0/thermal_throttle")
	for _, tc := range []struct {
		name        string
		ctr         corev1.Container
		node        nodeConfig
		termLog     string
		wantCgroup  string // cgroup mount's ro/rw, "" for none
		wantMasked  []string
		wantRO      []string
		wantTermAt  string // "" = no termination-log mount
		wantSeccomp bool
	}{
		{name: "default container: cgroupfs ro, kubelet's paths, /dev/termination-log",
			ctr: corev1.Container{Name: "c1", Command: []string{"sleep"}}, node: testNode, termLog: "/state/p/containers/c1/termination-log",
			wantCgroup: "ro", wantMasked: KubeletMaskedPaths, wantRO: KubeletReadonlyPaths, wantTermAt: "/dev/termination-log"},
		{name: "the node's thermal_throttle directories are masked too",
			ctr: corev1.Container{Name: "c1", Command: []string{"sleep"}}, node: node, termLog: "/t",
			wantCgroup: "ro", wantMasked: node.MaskedPaths, wantRO: KubeletReadonlyPaths, wantTermAt: "/dev/termination-log"},
		{name: "terminationMessagePath moves the file",
			ctr: corev1.Container{Name: "c1", Command: []string{"sleep"}, TerminationMessagePath: "/tmp/why"}, node: testNode, termLog: "/t",
			wantCgroup: "ro", wantMasked: KubeletMaskedPaths, wantRO: KubeletReadonlyPaths, wantTermAt: "/tmp/why"},
		{name: "privileged: cgroupfs writable, nothing masked",
			ctr:  corev1.Container{Name: "c1", Command: []string{"sleep"}, SecurityContext: &corev1.SecurityContext{Privileged: &yes}},
			node: testNode, termLog: "/t", wantCgroup: "rw", wantTermAt: "/dev/termination-log"},
		{name: "no file, no termination-log mount",
			ctr: corev1.Container{Name: "c1", Command: []string{"sleep"}}, node: testNode,
			wantCgroup: "ro", wantMasked: KubeletMaskedPaths, wantRO: KubeletReadonlyPaths},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{tc.ctr}}}
			pod.Name = "podtest"
			opts, err := containerSpecOpts(containerConfig{ID: "abc-c1", SandboxID: "abc", Pod: pod, Container: &pod.Spec.Containers[0],
				PausePID: 42, Cgroup: "/podsim/besteffort/pod1", Mounts: podMounts(testFiles, nil), TerminationLog: tc.termLog, Node: tc.node})
			if err != nil {
				t.Fatal(err)
			}
			s := genSpec(t, opts...)
			if m := mountDest(s, "/run"); m != nil {
				t.Errorf("/run mount %+v; CRI removes containerd's default /run tmpfs", m)
			}
			cg := mountDest(s, "/sys/fs/cgroup")
			switch {
			case cg == nil:
				t.Error("no /sys/fs/cgroup mount")
			case cg.Type != "cgroup" || !slices.Contains(cg.Options, tc.wantCgroup):
				t.Errorf("/sys/fs/cgroup = %+v, want type cgroup, %s", cg, tc.wantCgroup)
			}
			// The cgroup mount must come after /sys, or sysfs would hide it.
			sysAt, cgAt := -1, -1
			for i, m := range s.Mounts {
				switch m.Destination {
				case "/sys":
					sysAt = i
				case "/sys/fs/cgroup":
					cgAt = i
				}
			}
			if sysAt < 0 || cgAt < sysAt {
				t.Errorf("/sys at %d, /sys/fs/cgroup at %d: the cgroup mount must follow /sys", sysAt, cgAt)
			}
			if !slices.Equal(s.Linux.MaskedPaths, tc.wantMasked) || !slices.Equal(s.Linux.ReadonlyPaths, tc.wantRO) {
				t.Errorf("masked %v readonly %v, want %v and %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths, tc.wantMasked, tc.wantRO)
			}
			if tc.wantMasked != nil && !slices.Contains(s.Linux.MaskedPaths, "/proc/interrupts") {
				t.Error("/proc/interrupts is not masked (kubelet 1.34 masks it)")
			}
			tl := mountDest(s, tc.wantTermAt)
			switch {
			case tc.wantTermAt == "":
				if m := mountDest(s, DefaultTerminationMessagePath); m != nil {
					t.Errorf("termination-log mount %+v without a file", m)
				}
			case tl == nil || tl.Source != tc.termLog || tl.Type != "bind" || !slices.Contains(tl.Options, "rw"):
				t.Errorf("termination-log mount at %s = %+v, want a rw bind of %s", tc.wantTermAt, tl, tc.termLog)
			}
			if s.Linux.Seccomp != nil {
				t.Error("app container has a seccomp profile; kubelet asks for Unconfined unless the pod sets one")
			}
		})
	}
}

func TestContainerSpec(t *testing.T) {
	yes := true
	mem := resource.MustParse("64Mi")
	cpu := resource.MustParse("500m")
	guaranteed := corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: mem, corev1.ResourceCPU: cpu}}
	for _, tc := range []struct {
		name      string
		pod       corev1.PodSpec
		image     ImageConfig
		wantPID   string // "" own, else joined path
		wantArgs  []string
		wantOOM   int
		wantQuota int64
		wantEnv   string
		wantErr   bool
	}{
		{name: "podtest: join net/ipc/uts, own pid and mnt, BestEffort",
			pod:      corev1.PodSpec{Containers: []corev1.Container{{Name: "c1", Image: "busybox", Command: []string{"sleep", "5000"}}}},
			image:    ImageConfig{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}},
			wantArgs: []string{"sleep", "5000"}, wantOOM: 1000, wantEnv: "HOSTNAME=podtest"},
		{name: "shareProcessNamespace joins the pause's pid namespace",
			pod:     corev1.PodSpec{ShareProcessNamespace: &yes, Containers: []corev1.Container{{Name: "c1", Args: []string{"x"}}}},
			image:   ImageConfig{Entrypoint: []string{"/entry"}},
			wantPID: "/proc/42/ns/pid", wantArgs: []string{"/entry", "x"}, wantOOM: 1000, wantEnv: "HOSTNAME=podtest"},
		{name: "Guaranteed: limits, quota, -997",
			pod:   corev1.PodSpec{Containers: []corev1.Container{{Name: "c1", Resources: guaranteed, Env: []corev1.EnvVar{{Name: "A", Value: "$(HOSTNAME)-x"}}}}},
			image: ImageConfig{Cmd: []string{"sh"}},
			// HOSTNAME is the runtime's, not kubelet's: $(HOSTNAME) stays as written.
			wantArgs: []string{"sh"}, wantOOM: -997, wantQuota: 50000, wantEnv: "A=$(HOSTNAME)-x"},
		{name: "no command anywhere is an error",
			pod:     corev1.PodSpec{Containers: []corev1.Container{{Name: "c1", Image: "scratch"}}},
			wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: tc.pod}
			pod.Name = "podtest"
			opts, err := containerSpecOpts(containerConfig{ID: "abc-c1", SandboxID: "abc", Pod: pod, Container: &pod.Spec.Containers[0],
				Image: tc.image, PausePID: 42, Cgroup: "/podsim/pod1", Mounts: podMounts(testFiles, []Mount{{Source: "/v/shared", Destination: "/shared"}}), Node: testNode})
			if tc.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := genSpec(t, opts...)
			ns := nsMap(s)
			for typ, want := range map[specs.LinuxNamespaceType]string{specs.NetworkNamespace: "/proc/42/ns/net", specs.IPCNamespace: "/proc/42/ns/ipc",
				specs.UTSNamespace: "/proc/42/ns/uts", specs.MountNamespace: "", specs.PIDNamespace: tc.wantPID} {
				if got, ok := ns[typ]; !ok || got != want {
					t.Errorf("%s namespace = %q (present %v), want %q", typ, got, ok, want)
				}
			}
			if !slices.Equal(s.Process.Args, tc.wantArgs) {
				t.Errorf("args = %v, want %v", s.Process.Args, tc.wantArgs)
			}
			if s.Linux.CgroupsPath != "/podsim/pod1/abc-c1" || s.Annotations[ShimGroupAnnotation] != "abc" {
				t.Errorf("cgroup %q shim group %q", s.Linux.CgroupsPath, s.Annotations[ShimGroupAnnotation])
			}
			if *s.Process.OOMScoreAdj != tc.wantOOM {
				t.Errorf("oom_score_adj = %d, want %d", *s.Process.OOMScoreAdj, tc.wantOOM)
			}
			var quota int64
			if s.Linux.Resources.CPU.Quota != nil {
				quota = *s.Linux.Resources.CPU.Quota
			}
			if quota != tc.wantQuota {
				t.Errorf("cfs quota = %d, want %d", quota, tc.wantQuota)
			}
			if !slices.Contains(s.Process.Env, tc.wantEnv) {
				t.Errorf("env %v lacks %s", s.Process.Env, tc.wantEnv)
			}
			for _, d := range []string{"/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/dev/shm", "/shared"} {
				if m := mountDest(s, d); m == nil || m.Type != "bind" {
					t.Errorf("mount %s = %+v, want a bind mount", d, m)
				}
			}
			if s.Process.NoNewPrivileges {
				t.Error("no_new_privs set without allowPrivilegeEscalation: false")
			}
		})
	}
}
