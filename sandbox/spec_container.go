package sandbox

import (
	"cmp"
	"fmt"

	"github.com/containerd/containerd/oci"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/cgroups"
)

// containerConfig is everything an app or init container's spec depends
// on: CRI's ContainerConfig (the container of the pod spec, the image) and
// the sandbox it joins (the pause's PID, the pod cgroup, the pod's mounts).
type containerConfig struct {
	ID        string // containerd ID: <sandbox>-<name>
	SandboxID string
	Pod       *corev1.Pod
	Container *corev1.Container
	Image     ImageConfig
	PausePID  uint32  // the namespaces to join are /proc/<PausePID>/ns/*
	TargetPID uint32  // an ephemeral container's --target: join /proc/<TargetPID>/ns/pid
	Cgroup    string  // the pod cgroup
	Mounts    []Mount // pod files, then volumes
	TTY       bool    // an attached terminal (podsim run -it)
	// TerminationLog is the host file (in the pod's directory) mounted at
	// the container's terminationMessagePath; "" for none.
	TerminationLog string
	Node           nodeConfig
	UserNS         *UserNamespace // hostUsers: false: join the pause's user namespace
}

// containerSpecOpts is the full option list of a container, as containerd's
// CRI containerSpec / buildLinuxSpec builds it: process (args, env, cwd,
// user), namespaces joined, cgroup, mounts, resources, OOM score, security
// context. Like pauseSpecOpts it touches nothing; unit tests generate the
// spec from it for each pod shape.
func containerSpecOpts(c containerConfig) ([]oci.SpecOpts, error) {
	ctr := c.Container
	// ctr.Env is kubelet's env, final (withResolvedEnv); the runtime lays
	// it over the image's and HOSTNAME, as CRI does.
	env := MergeEnv(withHostnameEnv(PodHostname(c.Pod, c.Node.Hostname), c.Image.Env), ctr.Env)
	// $(VAR) in command and args expands from kubelet's env only.
	args := ResolveArgs(c.Image, ExpandArgs(ctr.Command, ctr.Env), ExpandArgs(ctr.Args, ctr.Env))
	if len(args) == 0 {
		return nil, fmt.Errorf("image %s has no Entrypoint or Cmd and the container sets no command", ctr.Image)
	}
	share := c.Pod.Spec.ShareProcessNamespace != nil && *c.Pod.Spec.ShareProcessNamespace
	oom := RestrictOOMScoreAdj(ContainerOOMScoreAdj(QOSClass(&c.Pod.Spec), ctr, c.Node.MemCapacity), c.Node.OOMFloor)
	opts := []oci.SpecOpts{
		oci.WithDefaultPathEnv,
		oci.WithEnv(env),
		oci.WithProcessArgs(args...),
		oci.WithProcessCwd(cmp.Or(ctr.WorkingDir, c.Image.WorkingDir, "/")),
		withImageUser(c.Image.User),
		// Join the pause's net/ipc/uts (and pid with shareProcessNamespace
		// or hostPID, or the target's with an ephemeral container's
		// --target); what the pod takes from the host comes through the pause.
		withPodNamespaces(podNamespaces{PausePID: c.PausePID, TargetPID: c.TargetPID, SharePID: share, Host: HostNamespacesOf(&c.Pod.Spec)}),
		withPodUserNamespace(c.UserNS, c.PausePID),
		withCgroupNamespace(c.Node.Unified),
		oci.WithCgroup(cgroups.ContainerPath(c.Cgroup, c.ID)),
		// CRI's mounts besides the pod's: no /run tmpfs, the cgroup
		// filesystem read-only, kubelet's masked and read-only /proc and
		// /sys paths, the termination-message file.
		withoutRunTmpfs,
		withCgroupfs,
		withPodMounts(c.Mounts),
		withTerminationLog(c.TerminationLog, ctr.TerminationMessagePath),
		withLockedMountFlags(c.UserNS),
		withKubeletProcPaths(c.Node.MaskedPaths),
		withResources(ctr.Resources),
		withoutRlimits,
		withOOMScoreAdj(oom),
		// One shim per pod (the runc v2 shim and gVisor's group containers
		// by these); gVisor runs the container in the sandbox's Sentry.
		oci.WithAnnotations(criAnnotations(c.SandboxID, PodMeta{Name: c.Pod.Name, Namespace: c.Pod.Namespace, UID: string(c.Pod.UID)}, ctr.Name)),
		// containerd's default spec sets no_new_privs; kubelet+CRI leave it
		// off unless allowPrivilegeEscalation: false asks for it.
		oci.WithNewPrivileges,
	}
	opts = append(opts, withSecurityContext(c.Pod.Spec.SecurityContext, ctr.SecurityContext, c.Image.User)...)
	opts = append(opts, withSecurityProfiles(c.Pod, ctr, c.Node.Security)...)
	if c.TTY {
		opts = append(opts, oci.WithTTY, oci.WithEnv([]string{"TERM=xterm"}))
	}
	return opts, nil
}

// podFiles are the per-pod files kubelet writes once and bind-mounts into
// every container of the pod, so all containers see one /etc/hosts, one
// /etc/hostname and one /etc/resolv.conf, and share one /dev/shm.
type podFiles struct {
	Hosts, Hostname, Resolv, Shm string
}

// podMounts are the mounts every container of a pod gets: kubelet's
// managed /etc/hosts, /etc/hostname and /etc/resolv.conf and the pod's
// /dev/shm, then the container's volumes.
func podMounts(files podFiles, vols []Mount) []Mount {
	return append([]Mount{
		{Source: files.Hosts, Destination: "/etc/hosts"},
		{Source: files.Hostname, Destination: "/etc/hostname"},
		{Source: files.Resolv, Destination: "/etc/resolv.conf"},
		{Source: files.Shm, Destination: "/dev/shm"},
	}, vols...)
}
