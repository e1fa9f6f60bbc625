package sandbox

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/cgroups"
)

// ImageConfig is the part of an OCI image config a container spec needs.
type ImageConfig struct {
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	User       string
}

// ResolveArgs applies Kubernetes' rules for command and args over the
// image's Entrypoint and Cmd: command replaces Entrypoint (and drops Cmd),
// args replaces Cmd.
func ResolveArgs(img ImageConfig, command, args []string) []string {
	switch {
	case len(command) > 0:
		return append(append([]string{}, command...), args...)
	case len(args) > 0:
		return append(append([]string{}, img.Entrypoint...), args...)
	default:
		return append(append([]string{}, img.Entrypoint...), img.Cmd...)
	}
}

// MergeEnv overlays the container's env (kubelet's, already final: see
// resolveEnv) on the image's, keeping the image's order and appending new
// names, as containerd's CRI plugin does with oci.WithEnv.
func MergeEnv(image []string, env []corev1.EnvVar) []string {
	out := append([]string{}, image...)
	index := map[string]int{}
	for i, kv := range out {
		k, _, _ := strings.Cut(kv, "=")
		index[k] = i
	}
	for _, e := range env {
		if i, ok := index[e.Name]; ok {
			out[i] = e.Name + "=" + e.Value
			continue
		}
		index[e.Name] = len(out)
		out = append(out, e.Name+"="+e.Value)
	}
	return out
}

// ExpandVars implements Kubernetes' $(VAR) syntax for one string: $(VAR) is
// replaced when VAR is known, $$ escapes, unknown references stay as
// written (the bench's CRI translation uses it too).
func ExpandVars(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteByte(s[i])
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// HostNamespaces are the pod's namespaces that are the host's (CRI's
// NamespaceMode NODE), from hostNetwork, hostPID and hostIPC. A host
// namespace is simply absent from the pause's OCI spec: runc then leaves
// the pause in the namespace it started in, the host's; the containers
// join the pause's, as always.
type HostNamespaces struct {
	Network bool // hostNetwork: the host's net namespace, and its UTS too (the node's hostname), as CRI does
	PID     bool // hostPID
	IPC     bool // hostIPC
}

// HostNamespacesOf reads the pod's switches.
func HostNamespacesOf(spec *corev1.PodSpec) HostNamespaces {
	return HostNamespaces{Network: spec.HostNetwork, PID: spec.HostPID, IPC: spec.HostIPC}
}

// Any reports whether the pod uses any host namespace.
func (h HostNamespaces) Any() bool { return h.Network || h.PID || h.IPC }

// HostReason says why a namespace type of a pod is the host's ("" when
// the pod does not ask for it): "hostNetwork: true" for net and uts.
func HostReason(spec *corev1.PodSpec, typ string) string {
	h := HostNamespacesOf(spec)
	switch {
	case (typ == "net" || typ == "uts") && h.Network:
		return "hostNetwork: true"
	case typ == "pid" && h.PID:
		return "hostPID: true"
	case typ == "ipc" && h.IPC:
		return "hostIPC: true"
	}
	return ""
}

// podNamespaces is what a container's namespaces depend on: the pause
// whose namespaces it joins, the container whose PID namespace it joins
// (an ephemeral container with --target), and the pod's switches.
type podNamespaces struct {
	PausePID  uint32 // join /proc/<PausePID>/ns/{net,ipc,uts}
	TargetPID uint32 // non-zero: join /proc/<TargetPID>/ns/pid (kubectl debug --target)
	SharePID  bool   // shareProcessNamespace: join the pause's PID namespace
	Host      HostNamespaces
}

// withPodNamespaces is the heart of the pod model. It sets the namespaces of
// a container the way CRI's WithPodNamespaces does: join the pause
// container's network, IPC and UTS namespaces through /proc/<pause-pid>/ns/*,
// and get a new mount namespace and a new PID namespace, unless the pod
// shares one PID namespace (shareProcessNamespace), in which case the
// pause's is joined too and the pause becomes PID 1 for every container,
// or the container targets another one (an ephemeral debug container),
// whose PID namespace it joins. What the pod takes from the host
// (hostNetwork, hostPID, hostIPC) comes through the pause, as with CRI:
// the pause's spec has no entry for it, so the pause is in the host's
// namespace, and joining the pause's joins the host's (hostPID: the
// pause's PID namespace, the host's, instead of a new one).
func withPodNamespaces(n podNamespaces) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		nsPath := func(pid uint32, t string) string { return fmt.Sprintf("/proc/%d/ns/%s", pid, t) }
		joins := []specs.LinuxNamespace{
			{Type: specs.NetworkNamespace, Path: nsPath(n.PausePID, "net")},
			{Type: specs.IPCNamespace, Path: nsPath(n.PausePID, "ipc")},
			{Type: specs.UTSNamespace, Path: nsPath(n.PausePID, "uts")},
			{Type: specs.MountNamespace}, // empty Path = new namespace
			{Type: specs.PIDNamespace},
		}
		switch {
		case n.TargetPID != 0:
			joins[4].Path = nsPath(n.TargetPID, "pid")
		case n.SharePID || n.Host.PID:
			joins[4].Path = nsPath(n.PausePID, "pid")
		}
		for _, ns := range joins {
			if err := oci.WithLinuxNamespace(ns)(ctx, c, ctr, s); err != nil {
				return err
			}
		}
		return nil
	}
}

// withSandboxNamespaces makes the pause join the pinned network namespace
// made before it (so CNI could wire it). Its IPC, UTS, PID and mount
// namespaces are new ones already: containerd's default spec lists them
// with an empty path, and the app containers join them later. What the pod
// takes from the host is removed, as CRI's sandboxContainerSpec does for
// NamespaceMode NODE: hostNetwork drops net and uts, hostPID pid, hostIPC ipc.
func withSandboxNamespaces(netnsPath string, host HostNamespaces) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		opts := []oci.SpecOpts{oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: netnsPath})}
		if host.Network {
			opts = []oci.SpecOpts{oci.WithHostNamespace(specs.NetworkNamespace), oci.WithHostNamespace(specs.UTSNamespace)}
		}
		if host.PID {
			opts = append(opts, oci.WithHostNamespace(specs.PIDNamespace))
		}
		if host.IPC {
			opts = append(opts, oci.WithHostNamespace(specs.IPCNamespace))
		}
		for _, o := range opts {
			if err := o(ctx, c, ctr, s); err != nil {
				return err
			}
		}
		return nil
	}
}

// withPodHostname sets the pause's hostname in its new UTS namespace; a
// hostNetwork pod is in the host's UTS namespace and keeps the node's
// hostname (runc refuses a hostname without a UTS namespace of its own).
func withPodHostname(hostname string, hostNetwork bool) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if hostNetwork {
			s.Hostname = ""
			return nil
		}
		return oci.WithHostname(hostname)(ctx, c, ctr, s)
	}
}

// PodHostname is the hostname the pod's containers see (its UTS namespace,
// /etc/hostname, $HOSTNAME), as kubelet's GeneratePodHostNameAndDomain
// gives it: spec.hostname or the pod's name; the FQDN with
// setHostnameAsFQDN; for a hostNetwork pod the node's (the pod shares the
// host's UTS namespace).
func PodHostname(pod *corev1.Pod, nodeHostname string) string {
	if pod.Spec.HostNetwork && nodeHostname != "" {
		return nodeHostname
	}
	host, fqdn := podHostAndFQDN(pod)
	if pod.Spec.SetHostnameAsFQDN != nil && *pod.Spec.SetHostnameAsFQDN && fqdn != "" {
		return fqdn
	}
	return host
}

// ClusterDomain is the DNS domain of podsim's "cluster" (kubelet's
// --cluster-domain default).
const ClusterDomain = "cluster.local"

// podHostAndFQDN: the pod's hostname (spec.hostname, else its name) and,
// with a subdomain, its FQDN <hostname>.<subdomain>.<namespace>.svc.<domain>.
func podHostAndFQDN(pod *corev1.Pod) (host, fqdn string) {
	host = pod.Name
	if pod.Spec.Hostname != "" {
		host = pod.Spec.Hostname
	}
	if pod.Spec.Subdomain != "" {
		fqdn = fmt.Sprintf("%s.%s.%s.svc.%s", host, pod.Spec.Subdomain, pod.Namespace, ClusterDomain)
	}
	return host, fqdn
}

// withCgroupNamespace gives a container its own cgroup namespace on a pure
// v2 host, as CRI does, so /sys/fs/cgroup inside shows its own cgroup as root.
func withCgroupNamespace(enabled bool) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if !enabled {
			return nil
		}
		return oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.CgroupNamespace})(ctx, c, ctr, s)
	}
}

// Mount is a bind mount from the pod's directory into a container.
type Mount struct {
	Source, Destination string
	ReadOnly            bool
	// SubPathOf is, for a subPath mount, the path inside the volume that
	// Source (podsim's pinned bind mount of it) shows.
	SubPathOf string
}

// withPodMounts bind-mounts the pod's shared files and volumes: the
// kubelet-managed /etc/hosts, /etc/hostname and /etc/resolv.conf, the pod's
// /dev/shm (one tmpfs shared by the containers, as they share IPC), and
// volumes. Bind mounts make the same inode visible in several mount
// namespaces: that is all "sharing a volume" means to the kernel.
func withPodMounts(mounts []Mount) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		dests := map[string]bool{}
		for _, m := range mounts {
			dests[filepath.Clean(m.Destination)] = true
		}
		kept := s.Mounts[:0]
		for _, m := range s.Mounts {
			if !dests[filepath.Clean(m.Destination)] {
				kept = append(kept, m)
			}
		}
		s.Mounts = kept
		for _, m := range mounts {
			opts := []string{"rbind", "rprivate"}
			if m.ReadOnly {
				opts = append(opts, "ro")
			} else {
				opts = append(opts, "rw")
			}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: m.Destination, Type: "bind", Source: m.Source, Options: opts})
		}
		return nil
	}
}

// withResources turns requests and limits into cgroup settings as kubelet
// does: memory limit -> memory.limit_in_bytes / memory.max; cpu limit ->
// CFS quota over a 100ms period; cpu request -> cpu.shares (weight on v2).
func withResources(r corev1.ResourceRequirements) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if s.Linux == nil {
			s.Linux = &specs.Linux{}
		}
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		res := s.Linux.Resources
		if v := ContainerMemory(r); v > 0 {
			// Swap equal to the limit means no swap on top of it, as CRI
			// sets it: over the limit the container is OOM-killed, not swapped.
			swap := v
			res.Memory = &specs.LinuxMemory{Limit: &v, Swap: &swap}
		}
		// kubelet's MilliCPUToShares and MilliCPUToQuota: the request in
		// shares (cgroups.MinShares without one, so BestEffort containers yield
		// the CPU to every container that asked for some), the limit as a
		// CFS quota.
		shares, quota := ContainerCPU(r)
		if res.CPU == nil {
			res.CPU = &specs.LinuxCPU{}
		}
		if quota > 0 {
			period := uint64(cgroups.QuotaPeriod)
			res.CPU.Period, res.CPU.Quota = &period, &quota
		}
		res.CPU.Shares = &shares
		return nil
	}
}

// withSecurityContext applies a container's securityContext.
func withSecurityContext(podSC *corev1.PodSecurityContext, sc *corev1.SecurityContext, imageUser string) []oci.SpecOpts {
	var opts []oci.SpecOpts
	var uid, gid *int64
	if podSC != nil {
		uid, gid = podSC.RunAsUser, podSC.RunAsGroup
	}
	if sc != nil {
		if sc.RunAsUser != nil {
			uid = sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			gid = sc.RunAsGroup
		}
	}
	if uid != nil {
		g := int64(0)
		if gid != nil {
			g = *gid
		}
		opts = append(opts, oci.WithUIDGID(uint32(*uid), uint32(g)))
	} else if gid != nil {
		opts = append(opts, func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
			s.Process.User.GID = uint32(*gid)
			return nil
		})
	}
	// Supplementary groups as CRI sets them: the user's groups from the
	// image's /etc/group (containerd's WithAdditionalGIDs reads them from
	// the container's snapshot; the primary gid is always one), then the
	// pod's fsGroup and supplementalGroups (kubelet's order); with
	// supplementalGroupsPolicy Strict none of the image's groups.
	userstr := "0"
	if uid != nil {
		userstr = strconv.FormatInt(*uid, 10)
	} else if imageUser != "" {
		// "uid:gid" or "name:group": the groups are looked up for the user.
		userstr, _, _ = strings.Cut(imageUser, ":")
	}
	if !strictSupplementalGroups(podSC) {
		opts = append(opts, oci.WithAdditionalGIDs(userstr))
	}
	if groups := podSupplementalGroups(podSC); len(groups) > 0 || strictSupplementalGroups(podSC) {
		opts = append(opts, func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
			if strictSupplementalGroups(podSC) { // Strict: the primary group, then only the pod's
				s.Process.User.AdditionalGids = []uint32{s.Process.User.GID}
			}
			s.Process.User.AdditionalGids = append(s.Process.User.AdditionalGids, groups...) // fsGroup, supplementalGroups
			return nil
		})
	}
	if sc == nil {
		return opts
	}
	opts = append(opts, withPrivilegeAndCapabilities(sc)...)
	if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
		opts = append(opts, oci.WithRootFSReadonly())
	}
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		opts = append(opts, oci.WithNoNewPrivileges)
	}
	return opts
}

// withPrivilegeAndCapabilities applies privileged and capabilities.add/drop
// of a container's securityContext, as CRI does.
func withPrivilegeAndCapabilities(sc *corev1.SecurityContext) []oci.SpecOpts {
	var opts []oci.SpecOpts
	if sc.Privileged != nil && *sc.Privileged {
		// Privileged: every capability, all host devices, no masked or
		// read-only /proc paths, writable /sys — what CRI does.
		opts = append(opts, oci.WithPrivileged, oci.WithAllDevicesAllowed, oci.WithHostDevices,
			oci.WithWriteableSysfs, oci.WithWriteableCgroupfs, oci.WithMaskedPaths(nil), oci.WithReadonlyPaths(nil))
	}
	if sc.Capabilities != nil {
		// containerd's helpers take "ALL" as a literal name; CRI expands it.
		drop, add := capNames(sc.Capabilities.Drop), capNames(sc.Capabilities.Add)
		if hasAll(drop) {
			opts = append(opts, oci.WithCapabilities(nil))
			drop = nil
		}
		if hasAll(add) {
			opts = append(opts, oci.WithAllKnownCapabilities)
			add = nil
		}
		if len(drop) > 0 {
			opts = append(opts, oci.WithDroppedCapabilities(drop))
		}
		if len(add) > 0 {
			opts = append(opts, oci.WithAddedCapabilities(add))
		}
	}
	return opts
}

func hasAll(caps []string) bool {
	for _, c := range caps {
		if c == "ALL" {
			return true
		}
	}
	return false
}

// ExpandArgs applies Kubernetes' $(VAR) expansion to command and args with
// the container's environment as kubelet made it (ExpandContainerCommandAndArgs):
// not the image's variables, which kubelet never sees.
func ExpandArgs(args []string, env []corev1.EnvVar) []string {
	vars := make(map[string]string, len(env))
	for _, e := range env {
		vars[e.Name] = e.Value
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = ExpandVars(a, vars)
	}
	return out
}

// capNames turns Kubernetes capability names (NET_ADMIN) into the kernel's
// (CAP_NET_ADMIN); "ALL" stays as is for the containerd helpers.
func capNames(caps []corev1.Capability) []string {
	out := make([]string, 0, len(caps))
	for _, c := range caps {
		s := strings.ToUpper(string(c))
		if s != "ALL" && !strings.HasPrefix(s, "CAP_") {
			s = "CAP_" + s
		}
		out = append(out, s)
	}
	return out
}

// withSysctls sets pod-level (namespaced) sysctls on the sandbox: they apply
// to the pod's net/ipc namespaces, so every container sees them.
func withSysctls(sysctls []corev1.Sysctl) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if len(sysctls) == 0 {
			return nil
		}
		if s.Linux.Sysctl == nil {
			s.Linux.Sysctl = map[string]string{}
		}
		for _, x := range sysctls {
			s.Linux.Sysctl[strings.ReplaceAll(x.Name, "/", ".")] = x.Value
		}
		return nil
	}
}

// withImageUser applies an image's USER ("uid", "uid:gid", "name[:group]");
// names need the image's /etc/passwd, which oci.WithUser reads from the rootfs.
func withImageUser(user string) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if user == "" || user == "root" || user == "0" {
			return nil
		}
		u, g, _ := strings.Cut(user, ":")
		uid, err1 := strconv.ParseUint(u, 10, 32)
		gid, err2 := strconv.ParseUint(g, 10, 32)
		if err1 == nil && (g == "" || err2 == nil) {
			s.Process.User.UID, s.Process.User.GID = uint32(uid), uint32(gid)
			return nil
		}
		return oci.WithUser(user)(ctx, c, ctr, s)
	}
}

// withOOMScoreAdj sets the score runc writes to the container's
// /proc/<pid>/oom_score_adj (kubelet's QoS-based value, see qos.go).
func withOOMScoreAdj(v int64) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		adj := int(v)
		s.Process.OOMScoreAdj = &adj
		return nil
	}
}

// withoutRlimits drops the RLIMIT_NOFILE 1024:1024 of containerd's default
// spec, as the CRI plugin does: containers inherit the shim's limits (the
// daemon's), like every process on a Kubernetes node.
func withoutRlimits(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
	s.Process.Rlimits = nil
	return nil
}

// withHostnameEnv puts HOSTNAME=<pod hostname> first in the environment, as
// containerd's CRI plugin does for every container; the image's or the
// container's own HOSTNAME still wins.
func withHostnameEnv(hostname string, env []string) []string {
	for _, kv := range env {
		if strings.HasPrefix(kv, "HOSTNAME=") {
			return env
		}
	}
	return append([]string{"HOSTNAME=" + hostname}, env...)
}
