package app

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/podgraph"
	"github.com/podsim/podsim/sandbox"
)

// inspectOutputs are the formats of `podsim inspect -o`.
const inspectOutputs = "dot or svg (default: the text tables)"

func checkInspectOutput(format string) error {
	switch format {
	case "", "dot", "svg":
		return nil
	}
	return fmt.Errorf("unknown output format %q: use %s", format, inspectOutputs)
}

// writeInspectGraph writes the picture of an inspected pod as DOT or SVG.
func writeInspectGraph(ctx context.Context, w io.Writer, m *sandbox.Manager, in *sandbox.Inspection, format string) error {
	p := podGraph(ctx, m, in)
	switch format {
	case "dot":
		return podgraph.DOT(w, p)
	case "svg":
		return podgraph.SVG(w, p)
	}
	return fmt.Errorf("unknown output format %q: use %s", format, inspectOutputs)
}

// podGraph builds the picture's model from an inspection, adding where each
// volume lives on the host.
func podGraph(ctx context.Context, m *sandbox.Manager, in *sandbox.Inspection) *podgraph.Pod {
	return podgraph.FromInspection(in, podgraph.Options{VolumeDirs: volumeDirs(ctx, m, in.State), CgroupMode: cgroups.Mode()})
}

// volumeDirs finds each volume's host directory in the OCI specs containerd
// holds for the pod's containers: the source of the bind mount runc made at
// the volumeMount's mountPath. That is what the kernel was told to mount,
// not a path podsim reconstructs.
func volumeDirs(ctx context.Context, m *sandbox.Manager, st *sandbox.PodState) map[string]string {
	out := map[string]string{}
	all := append(append([]sandbox.ContainerState{}, st.Init...), st.Containers...)
	specs := st.Pod.Spec
	mountsOf := map[string][]struct{ vol, path, sub string }{}
	for _, c := range append(append([]corev1.Container{}, specs.InitContainers...), specs.Containers...) {
		for _, vm := range c.VolumeMounts {
			mountsOf[c.Name] = append(mountsOf[c.Name], struct{ vol, path, sub string }{vm.Name, vm.MountPath, vm.SubPath})
		}
	}
	if client := m.Client(); client != nil {
		for _, cs := range all {
			if len(mountsOf[cs.Name]) == 0 {
				continue
			}
			ctr, err := client.LoadContainer(ctx, cs.ID)
			if err != nil {
				continue
			}
			spec, err := ctr.Spec(ctx)
			if err != nil {
				continue
			}
			for _, vm := range mountsOf[cs.Name] {
				if _, ok := out[vm.vol]; ok {
					continue
				}
				for _, sm := range spec.Mounts {
					if filepath.Clean(sm.Destination) != filepath.Clean(vm.path) {
						continue
					}
					src := sm.Source
					if vm.sub != "" {
						// The source is the subPath inside the volume.
						src = strings.TrimSuffix(src, "/"+strings.Trim(vm.sub, "/"))
					}
					out[vm.vol] = src
				}
			}
		}
	}
	// A volume no running container shows: an emptyDir's place is known.
	for _, v := range specs.Volumes {
		if _, ok := out[v.Name]; !ok && v.EmptyDir != nil && v.EmptyDir.Medium == "" {
			out[v.Name] = m.EmptyDirPath(st.Record, v.Name)
		}
	}
	return out
}
