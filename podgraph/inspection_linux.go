package podgraph

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/namespaces"
	"github.com/podsim/podsim/sandbox"
)

// Options add what an Inspection does not hold.
type Options struct {
	// VolumeDirs maps a volume name to its directory on the host (read from
	// the containers' OCI specs by the caller); missing ones are left blank.
	VolumeDirs map[string]string
	// CgroupMode is "v1" or "v2" (cgroups.Mode()).
	CgroupMode string
}

// FromInspection builds the picture of a pod from `podsim inspect`'s data:
// namespace inodes read from /proc/<pid>/ns/* and classified with
// Inspection.Relation (pause / shared / own / host), the pod record (cgroup,
// netns pin, CNI result) and the pod spec (volumes and volumeMounts).
func FromInspection(in *sandbox.Inspection, o Options) *Pod {
	st := in.State
	rec := st.Record
	spec := rec.Pod.Spec
	p := &Pod{
		Namespace: rec.Pod.Namespace, Name: rec.Pod.Name, UID: string(rec.Pod.UID),
		Cgroup: rec.Cgroup, CgroupMode: o.CgroupMode, NetNSPin: rec.NetNS,
		IP: rec.IP, MAC: rec.MAC, Veth: rec.HostIf, Bridge: rec.Bridge,
		HostNetwork: spec.HostNetwork, HostWhy: map[string]string{},
	}
	if u := rec.UserNS; u != nil {
		p.UserMap = fmt.Sprintf("uids 0-%d -> host %s", u.Length-1, u.Range())
	}
	for _, t := range []string{"net", "ipc", "uts", "pid"} {
		if why := sandbox.HostReason(&spec, t); why != "" {
			p.HostWhy[t] = why
		}
	}
	for _, t := range namespaces.Types {
		if id, ok := in.Host[t]; ok {
			p.Host = append(p.Host, NS{t, id.Inode})
		}
	}

	// Which of the pause's namespaces are the pod's: net, ipc and uts
	// always (that is what the pause container is for), plus any type a
	// container shares with it (pid with shareProcessNamespace).
	var pauseRow *sandbox.NSRow
	if len(in.Rows) > 0 {
		pauseRow = &in.Rows[0]
	}
	podTypes := map[string]bool{}
	if pauseRow != nil {
		for _, t := range []string{"net", "ipc", "uts"} {
			if _, ok := pauseRow.NS[t]; ok && in.Relation(*pauseRow, t) != "host" {
				podTypes[t] = true
			}
		}
		for _, r := range in.Rows[1:] {
			for t := range r.NS {
				if in.Relation(r, t) == "shared" {
					podTypes[t] = true
				}
			}
		}
		for t := range podTypes {
			p.Shared = append(p.Shared, NS{t, pauseRow.NS[t].Inode})
		}
		sortNS(p.Shared)
	}

	specOf := map[string]*corev1.Container{}
	for i := range spec.InitContainers {
		specOf[spec.InitContainers[i].Name] = &spec.InitContainers[i]
	}
	for i := range spec.Containers {
		specOf[spec.Containers[i].Name] = &spec.Containers[i]
	}
	state := map[string]sandbox.ContainerState{st.Pause.Name: st.Pause}
	for _, c := range st.Containers {
		state[c.Name] = c
	}

	build := func(row *sandbox.NSRow, cs sandbox.ContainerState, role string) Container {
		c := Container{Name: cs.Name, Role: role, Image: cs.Image, Status: statusText(cs), PID: cs.PID, Cgroup: cs.Cgroup}
		if row != nil {
			c.PID = row.PID
			if row.Err != "" && c.Status == "running" {
				c.Status = row.Err
			}
			for t, id := range row.NS {
				rel := in.Relation(*row, t)
				switch {
				case rel == "host":
					c.Host = append(c.Host, t)
				case podTypes[t] && (rel == "shared" || rel == "pause"):
					c.Joined = append(c.Joined, t)
				default:
					c.Own = append(c.Own, NS{t, id.Inode})
				}
			}
			sortNS(c.Own)
			sortTypes(c.Joined)
			sortTypes(c.Host)
		}
		if sc := specOf[cs.Name]; sc != nil && role != sandbox.RoleSandbox {
			for _, vm := range sc.VolumeMounts {
				c.Mounts = append(c.Mounts, Mount{Volume: vm.Name, Path: vm.MountPath, SubPath: vm.SubPath, ReadOnly: vm.ReadOnly || projected(spec.Volumes, vm.Name)})
			}
		}
		return c
	}

	if pauseRow != nil {
		p.Pause = build(pauseRow, st.Pause, sandbox.RoleSandbox)
	} else {
		p.Pause = build(nil, st.Pause, sandbox.RoleSandbox)
	}
	p.Pause.Image = sandbox.PauseImage
	for _, c := range st.Init {
		// Init containers have run to completion: their namespaces went
		// with their processes, only their record and mounts are left.
		p.Init = append(p.Init, build(nil, c, sandbox.RoleInit))
	}
	byRow := map[string]*sandbox.NSRow{}
	for i := 1; i < len(in.Rows); i++ {
		byRow[in.Rows[i].Name] = &in.Rows[i]
	}
	for _, c := range st.Containers {
		p.Containers = append(p.Containers, build(byRow[c.Name], c, sandbox.RoleApp))
	}
	// Ephemeral (debug) containers: drawn with the app containers; one that
	// joined its --target's PID namespace lists it as its own.
	for _, c := range st.Ephemeral {
		ec := build(byRow[c.Name], c, sandbox.RoleEphemeral)
		if r := byRow[c.Name]; r != nil {
			ec.Target = r.Target
		}
		p.Containers = append(p.Containers, ec)
	}

	for _, v := range spec.Volumes {
		vol := Volume{Name: v.Name, HostPath: o.VolumeDirs[v.Name]}
		switch {
		case v.EmptyDir != nil && v.EmptyDir.Medium == corev1.StorageMediumMemory:
			vol.Kind = "emptyDir (Memory: tmpfs)"
		case v.EmptyDir != nil:
			vol.Kind = "emptyDir"
		case v.ConfigMap != nil:
			vol.Kind = "configMap " + v.ConfigMap.Name
		case v.Secret != nil:
			vol.Kind = "secret " + v.Secret.SecretName + " (tmpfs)"
		default:
			vol.Kind = "volume"
		}
		p.Volumes = append(p.Volumes, vol)
	}
	return p
}

// projected volumes (configMap, secret) are read-only in Kubernetes.
func projected(vols []corev1.Volume, name string) bool {
	for _, v := range vols {
		if v.Name == name {
			return v.ConfigMap != nil || v.Secret != nil
		}
	}
	return false
}

func statusText(c sandbox.ContainerState) string {
	if c.Status == "exited" {
		return fmt.Sprintf("exited %d", c.ExitCode)
	}
	return c.Status
}
