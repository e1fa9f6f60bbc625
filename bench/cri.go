package bench

import (
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/sandbox"
	"github.com/podsim/podsim/sandbox/images"
)

// The CRI configuration crictl reads (runp, create): the JSON form of the
// CRI v1 messages PodSandboxConfig and ContainerConfig, with the protobuf
// field names crictl accepts. Only the fields kubelet sets for the pods podsim
// runs are here; podsim does not link the CRI API module for them.

type CRIMetadata struct {
	Name      string `json:"name"`
	UID       string `json:"uid,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Attempt   uint32 `json:"attempt"`
}

type CRIKeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type CRIDNSConfig struct {
	Servers  []string `json:"servers,omitempty"`
	Searches []string `json:"searches,omitempty"`
	Options  []string `json:"options,omitempty"`
}

// Namespace modes of the CRI API (NamespaceMode enum).
const (
	NSModePod       = 0
	NSModeContainer = 1
	NSModeNode      = 2
)

type CRINamespaceOption struct {
	Network int `json:"network"`
	PID     int `json:"pid"`
	IPC     int `json:"ipc"`
}

// Security profile types of the CRI API (SecurityProfile.ProfileType).
const (
	ProfileRuntimeDefault = 0
	ProfileUnconfined     = 1
)

type CRISecurityProfile struct {
	ProfileType int `json:"profile_type"`
}

type CRIInt64 struct {
	Value int64 `json:"value"`
}

type CRISandboxSecurityContext struct {
	NamespaceOptions   *CRINamespaceOption `json:"namespace_options,omitempty"`
	RunAsUser          *CRIInt64           `json:"run_as_user,omitempty"`
	RunAsGroup         *CRIInt64           `json:"run_as_group,omitempty"`
	SupplementalGroups []int64             `json:"supplemental_groups,omitempty"`
	Privileged         bool                `json:"privileged,omitempty"`
	Seccomp            *CRISecurityProfile `json:"seccomp,omitempty"`
}

type CRILinuxPodSandboxConfig struct {
	CgroupParent    string                     `json:"cgroup_parent,omitempty"`
	SecurityContext *CRISandboxSecurityContext `json:"security_context,omitempty"`
	Sysctls         map[string]string          `json:"sysctls,omitempty"`
}

// CRIPodSandboxConfig is CRI's PodSandboxConfig (crictl runp).
type CRIPodSandboxConfig struct {
	Metadata     CRIMetadata               `json:"metadata"`
	Hostname     string                    `json:"hostname,omitempty"`
	LogDirectory string                    `json:"log_directory,omitempty"`
	DNSConfig    *CRIDNSConfig             `json:"dns_config,omitempty"`
	Labels       map[string]string         `json:"labels,omitempty"`
	Annotations  map[string]string         `json:"annotations,omitempty"`
	Linux        *CRILinuxPodSandboxConfig `json:"linux,omitempty"`
}

type CRIImageSpec struct {
	Image string `json:"image"`
}

type CRIMount struct {
	ContainerPath string `json:"container_path"`
	HostPath      string `json:"host_path"`
	Readonly      bool   `json:"readonly,omitempty"`
}

type CRICapability struct {
	AddCapabilities  []string `json:"add_capabilities,omitempty"`
	DropCapabilities []string `json:"drop_capabilities,omitempty"`
}

type CRIContainerSecurityContext struct {
	Capabilities       *CRICapability      `json:"capabilities,omitempty"`
	Privileged         bool                `json:"privileged,omitempty"`
	NamespaceOptions   *CRINamespaceOption `json:"namespace_options,omitempty"`
	RunAsUser          *CRIInt64           `json:"run_as_user,omitempty"`
	RunAsGroup         *CRIInt64           `json:"run_as_group,omitempty"`
	SupplementalGroups []int64             `json:"supplemental_groups,omitempty"`
	ReadonlyRootfs     bool                `json:"readonly_rootfs,omitempty"`
	NoNewPrivs         bool                `json:"no_new_privs,omitempty"`
	MaskedPaths        []string            `json:"masked_paths,omitempty"`
	ReadonlyPaths      []string            `json:"readonly_paths,omitempty"`
	Seccomp            *CRISecurityProfile `json:"seccomp,omitempty"`
}

type CRILinuxContainerResources struct {
	CPUPeriod          int64 `json:"cpu_period,omitempty"`
	CPUQuota           int64 `json:"cpu_quota,omitempty"`
	CPUShares          int64 `json:"cpu_shares,omitempty"`
	MemoryLimitInBytes int64 `json:"memory_limit_in_bytes,omitempty"`
	OomScoreAdj        int64 `json:"oom_score_adj,omitempty"`
}

type CRILinuxContainerConfig struct {
	Resources       *CRILinuxContainerResources  `json:"resources,omitempty"`
	SecurityContext *CRIContainerSecurityContext `json:"security_context,omitempty"`
}

// CRIContainerConfig is CRI's ContainerConfig (crictl create).
type CRIContainerConfig struct {
	Metadata    CRIMetadata              `json:"metadata"`
	Image       CRIImageSpec             `json:"image"`
	Command     []string                 `json:"command,omitempty"`
	Args        []string                 `json:"args,omitempty"`
	WorkingDir  string                   `json:"working_dir,omitempty"`
	Envs        []CRIKeyValue            `json:"envs,omitempty"`
	Mounts      []CRIMount               `json:"mounts,omitempty"`
	Labels      map[string]string        `json:"labels,omitempty"`
	Annotations map[string]string        `json:"annotations,omitempty"`
	LogPath     string                   `json:"log_path,omitempty"`
	Linux       *CRILinuxContainerConfig `json:"linux,omitempty"`
}

// CRIPod is a pod translated to CRI calls, in kubelet's order: RunPodSandbox,
// then each init container to completion, then the app containers.
type CRIPod struct {
	Sandbox    CRIPodSandboxConfig
	Init       []CRIContainerConfig
	Containers []CRIContainerConfig
	// EmptyDirs are host directories kubelet would create for emptyDir
	// volumes before creating containers (name -> host path).
	EmptyDirs map[string]string
	// PodCgroup is the pod cgroup kubelet makes before RunPodSandbox, in
	// the tier of the pod's QoS class (CgroupRoot/<tier>/pod<uid>).
	PodCgroup string
	// TerminationLogs are the empty 0666 files kubelet makes for each
	// container's terminationMessagePath (container name -> host path).
	TerminationLogs map[string]string
}

// CRIOptions say where the kubelet-side files of a translated pod live.
type CRIOptions struct {
	UID        string        // pod UID (kubelet's pod.UID)
	LogRoot    string        // kubelet's /var/log/pods
	PodRoot    string        // kubelet's /var/lib/kubelet/pods: <PodRoot>/<uid>/volumes/...
	CgroupRoot string        // kubelet's /kubepods/besteffort (cgroupfs driver)
	HostsFile  string        // kubelet-managed /etc/hosts to bind-mount ("" = let the runtime make one)
	DNS        *CRIDNSConfig // kubelet's DNS config for the sandbox (nil = none)
	// MemoryCapacity is the node's memory in bytes, for kubelet's
	// Burstable oom_score_adj formula.
	MemoryCapacity int64
	// MaskedPaths is kubelet's masked-path list for the node
	// (sandbox.NodeMaskedPaths; empty: sandbox.KubeletMaskedPaths), passed
	// explicitly in every container's config as kubelet does.
	MaskedPaths []string
}

// TranslateToCRI turns a Pod into the CRI configs kubelet would send for it.
// It supports what the bench and compare pods use: containers and init
// containers with command/args/env/workingDir, emptyDir and hostPath
// volumes, resources, the pod and container securityContext fields podsim
// acts on, shareProcessNamespace, hostNetwork/hostPID/hostIPC and sysctls.
// Anything else that changes what is built is an error, not silently dropped.
func TranslateToCRI(pod *corev1.Pod, o CRIOptions) (*CRIPod, error) {
	if o.UID == "" {
		return nil, fmt.Errorf("pod %s: no UID for the CRI sandbox", pod.Name)
	}
	ns := pod.Namespace
	if ns == "" {
		ns = "default"
	}
	spec := &pod.Spec
	if spec.HostUsers != nil && !*spec.HostUsers {
		// Needs CRI's NamespaceOption.userns_options (cri-api 0.26), first
		// acted on by containerd 1.7; Debian 12's containerd 1.6.20 would
		// build the pod in the host's user namespace without a word.
		return nil, fmt.Errorf("pod %s: hostUsers: false cannot be compared: the CRI side would need containerd >= 1.7 (user namespaces in CRI), and this host's containerd CRI plugin has none (see docs/fidelity.md)", pod.Name)
	}
	nsOpt := &CRINamespaceOption{Network: NSModePod, PID: NSModeContainer, IPC: NSModePod}
	if spec.ShareProcessNamespace != nil && *spec.ShareProcessNamespace {
		nsOpt.PID = NSModePod
	}
	if spec.HostNetwork {
		nsOpt.Network = NSModeNode
	}
	if spec.HostPID {
		nsOpt.PID = NSModeNode
	}
	if spec.HostIPC {
		nsOpt.IPC = NSModeNode
	}
	hostname := pod.Name
	if spec.Hostname != "" {
		hostname = spec.Hostname
	}
	if spec.HostNetwork {
		hostname = "" // the node's
	}
	podLabels := map[string]string{
		"io.kubernetes.pod.name":      pod.Name,
		"io.kubernetes.pod.namespace": ns,
		"io.kubernetes.pod.uid":       o.UID,
	}
	for k, v := range pod.Labels {
		podLabels[k] = v
	}
	sb := CRIPodSandboxConfig{
		Metadata:     CRIMetadata{Name: pod.Name, UID: o.UID, Namespace: ns},
		Hostname:     hostname,
		LogDirectory: filepath.Join(o.LogRoot, ns+"_"+pod.Name+"_"+o.UID),
		DNSConfig:    o.DNS,
		Labels:       podLabels,
		Annotations:  copyMap(pod.Annotations),
		Linux: &CRILinuxPodSandboxConfig{
			CgroupParent: path.Join(cgroups.TierPath(o.CgroupRoot, sandbox.QOSClass(spec)), "pod"+o.UID),
			SecurityContext: &CRISandboxSecurityContext{
				NamespaceOptions: nsOpt,
				// kubelet always asks RuntimeDefault for the sandbox,
				// whatever the pod says (kubernetes#84623).
				Seccomp: &CRISecurityProfile{ProfileType: ProfileRuntimeDefault},
			},
		},
	}
	// Containers get Unconfined unless the pod or the container asks for
	// a profile (kubelet's SeccompDefault off, the default).
	podSeccomp := &CRISecurityProfile{ProfileType: ProfileUnconfined}
	if psc := spec.SecurityContext; psc != nil {
		ssc := sb.Linux.SecurityContext
		if psc.RunAsUser != nil {
			ssc.RunAsUser = &CRIInt64{*psc.RunAsUser}
		}
		if psc.RunAsGroup != nil {
			ssc.RunAsGroup = &CRIInt64{*psc.RunAsGroup}
		}
		ssc.SupplementalGroups = append(ssc.SupplementalGroups, psc.SupplementalGroups...)
		if psc.SeccompProfile != nil {
			p, err := seccompProfile(psc.SeccompProfile)
			if err != nil {
				return nil, fmt.Errorf("pod %s: %w", pod.Name, err)
			}
			podSeccomp = p
		}
		if len(psc.Sysctls) > 0 {
			sb.Linux.Sysctls = map[string]string{}
			for _, s := range psc.Sysctls {
				sb.Linux.Sysctls[strings.ReplaceAll(s.Name, "/", ".")] = s.Value
			}
		}
	}

	out := &CRIPod{Sandbox: sb, EmptyDirs: map[string]string{}, PodCgroup: sb.Linux.CgroupParent, TerminationLogs: map[string]string{}}
	masked := o.MaskedPaths
	if len(masked) == 0 {
		masked = sandbox.KubeletMaskedPaths
	}
	volHost := map[string]string{}
	for _, v := range spec.Volumes {
		switch {
		case v.EmptyDir != nil:
			if v.EmptyDir.Medium == corev1.StorageMediumMemory {
				return nil, fmt.Errorf("pod %s, volume %s: emptyDir medium Memory is not supported by the bench's CRI translation", pod.Name, v.Name)
			}
			p := filepath.Join(o.PodRoot, o.UID, "volumes", "kubernetes.io~empty-dir", v.Name)
			volHost[v.Name] = p
			out.EmptyDirs[v.Name] = p
		case v.HostPath != nil:
			volHost[v.Name] = v.HostPath.Path
		default:
			return nil, fmt.Errorf("pod %s, volume %s: only emptyDir and hostPath volumes are translated to CRI mounts", pod.Name, v.Name)
		}
	}
	qos := sandbox.QOSClass(spec)
	build := func(c *corev1.Container) (CRIContainerConfig, error) {
		cc := CRIContainerConfig{
			Metadata:   CRIMetadata{Name: c.Name},
			Command:    append([]string(nil), c.Command...),
			Args:       append([]string(nil), c.Args...),
			WorkingDir: c.WorkingDir,
			LogPath:    path.Join(c.Name, "0.log"),
			Labels: map[string]string{
				"io.kubernetes.container.name": c.Name,
				"io.kubernetes.pod.name":       pod.Name,
				"io.kubernetes.pod.namespace":  ns,
				"io.kubernetes.pod.uid":        o.UID,
			},
		}
		img, err := images.Normalize(c.Image)
		if err != nil {
			return cc, fmt.Errorf("pod %s, container %s: %w", pod.Name, c.Name, err)
		}
		cc.Image = CRIImageSpec{Image: img}
		env, err := kubeletEnv(c.Env)
		if err != nil {
			return cc, fmt.Errorf("pod %s, container %s: %w", pod.Name, c.Name, err)
		}
		cc.Envs = env
		for _, m := range c.VolumeMounts {
			hp, ok := volHost[m.Name]
			if !ok {
				return cc, fmt.Errorf("pod %s, container %s: volumeMount %q names no volume", pod.Name, c.Name, m.Name)
			}
			if m.SubPath != "" {
				hp = filepath.Join(hp, m.SubPath)
			}
			cc.Mounts = append(cc.Mounts, CRIMount{ContainerPath: m.MountPath, HostPath: hp, Readonly: m.ReadOnly})
		}
		if o.HostsFile != "" && !spec.HostNetwork {
			// kubelet's managed /etc/hosts (kubelet_pods.go makeMounts).
			cc.Mounts = append(cc.Mounts, CRIMount{ContainerPath: "/etc/hosts", HostPath: o.HostsFile})
		}
		// kubelet's termination-message file, in the pod's directory.
		tl := filepath.Join(o.PodRoot, o.UID, "containers", c.Name, "termination-log")
		out.TerminationLogs[c.Name] = tl
		tmp := c.TerminationMessagePath
		if tmp == "" {
			tmp = sandbox.DefaultTerminationMessagePath
		}
		cc.Mounts = append(cc.Mounts, CRIMount{ContainerPath: tmp, HostPath: tl})
		res := &CRILinuxContainerResources{OomScoreAdj: sandbox.ContainerOOMScoreAdj(qos, c, o.MemoryCapacity)}
		res.MemoryLimitInBytes = sandbox.ContainerMemory(c.Resources)
		shares, quota := sandbox.ContainerCPU(c.Resources)
		res.CPUShares = int64(shares)
		if quota > 0 {
			res.CPUPeriod, res.CPUQuota = cgroups.QuotaPeriod, quota
		}
		sc := &CRIContainerSecurityContext{
			NamespaceOptions: nsOpt,
			MaskedPaths:      masked,
			ReadonlyPaths:    sandbox.KubeletReadonlyPaths,
			Seccomp:          podSeccomp,
		}
		if psc := spec.SecurityContext; psc != nil {
			if psc.RunAsUser != nil {
				sc.RunAsUser = &CRIInt64{*psc.RunAsUser}
			}
			if psc.RunAsGroup != nil {
				sc.RunAsGroup = &CRIInt64{*psc.RunAsGroup}
			}
			sc.SupplementalGroups = append(sc.SupplementalGroups, psc.SupplementalGroups...)
		}
		if csc := c.SecurityContext; csc != nil {
			if csc.RunAsUser != nil {
				sc.RunAsUser = &CRIInt64{*csc.RunAsUser}
			}
			if csc.RunAsGroup != nil {
				sc.RunAsGroup = &CRIInt64{*csc.RunAsGroup}
			}
			if csc.Privileged != nil && *csc.Privileged {
				sc.Privileged = true
				sc.MaskedPaths, sc.ReadonlyPaths = nil, nil
			}
			if csc.ReadOnlyRootFilesystem != nil {
				sc.ReadonlyRootfs = *csc.ReadOnlyRootFilesystem
			}
			if csc.AllowPrivilegeEscalation != nil {
				sc.NoNewPrivs = !*csc.AllowPrivilegeEscalation
			}
			if caps := csc.Capabilities; caps != nil {
				sc.Capabilities = &CRICapability{}
				for _, a := range caps.Add {
					sc.Capabilities.AddCapabilities = append(sc.Capabilities.AddCapabilities, string(a))
				}
				for _, d := range caps.Drop {
					sc.Capabilities.DropCapabilities = append(sc.Capabilities.DropCapabilities, string(d))
				}
			}
			if csc.SeccompProfile != nil {
				p, err := seccompProfile(csc.SeccompProfile)
				if err != nil {
					return cc, fmt.Errorf("pod %s, container %s: %w", pod.Name, c.Name, err)
				}
				sc.Seccomp = p
			}
		}
		cc.Linux = &CRILinuxContainerConfig{Resources: res, SecurityContext: sc}
		return cc, nil
	}
	for i := range spec.InitContainers {
		cc, err := build(&spec.InitContainers[i])
		if err != nil {
			return nil, err
		}
		out.Init = append(out.Init, cc)
	}
	for i := range spec.Containers {
		cc, err := build(&spec.Containers[i])
		if err != nil {
			return nil, err
		}
		out.Containers = append(out.Containers, cc)
	}
	return out, nil
}

func seccompProfile(p *corev1.SeccompProfile) (*CRISecurityProfile, error) {
	switch p.Type {
	case corev1.SeccompProfileTypeUnconfined:
		return &CRISecurityProfile{ProfileType: ProfileUnconfined}, nil
	case corev1.SeccompProfileTypeRuntimeDefault:
		return &CRISecurityProfile{ProfileType: ProfileRuntimeDefault}, nil
	}
	return nil, fmt.Errorf("seccompProfile type %q is not translated to CRI by the bench", p.Type)
}

// kubeletEnv is the environment kubelet sends to CRI for a container
// with literal values only: sandbox's kubelet expansion of $(VAR), as
// podsim uses it (the runtime merges the image's variables).
func kubeletEnv(env []corev1.EnvVar) ([]CRIKeyValue, error) {
	if len(env) == 0 {
		return nil, nil
	}
	resolved, err := sandbox.ExpandLiteralEnv(env)
	if err != nil {
		return nil, fmt.Errorf("%w: not translated to CRI by the bench", err)
	}
	out := make([]CRIKeyValue, 0, len(resolved))
	for _, e := range resolved {
		out = append(out, CRIKeyValue{Key: e.Name, Value: e.Value})
	}
	return out, nil
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out[k] = m[k]
	}
	return out
}

// KubeletHosts renders kubelet's managed /etc/hosts for a pod
// (kubelet_pods.go managedHostsFileContent).
func KubeletHosts(ip, hostname string) string {
	var b strings.Builder
	b.WriteString("# Kubernetes-managed hosts file.\n")
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
	if ip != "" {
		fmt.Fprintf(&b, "%s\t%s\n", ip, hostname)
	}
	return b.String()
}
