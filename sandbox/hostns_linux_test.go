package sandbox

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/namespaces"
)

func TestNSRolesNameTheHostField(t *testing.T) {
	id := func(typ string, n uint64) namespaces.ID { return namespaces.ID{Type: typ, Inode: n} }
	host := map[string]namespaces.ID{"net": id("net", 1), "uts": id("uts", 2), "ipc": id("ipc", 3), "pid": id("pid", 4), "mnt": id("mnt", 5)}
	pause := map[string]namespaces.ID{"net": id("net", 1), "uts": id("uts", 2), "ipc": id("ipc", 13), "pid": id("pid", 14), "mnt": id("mnt", 15)}
	target := map[string]namespaces.ID{"pid": id("pid", 24)}
	ctr := map[string]namespaces.ID{"net": id("net", 1), "uts": id("uts", 2), "ipc": id("ipc", 13), "pid": id("pid", 24), "mnt": id("mnt", 35)}
	pod := &corev1.Pod{Spec: corev1.PodSpec{HostNetwork: true}}
	joined, own, hosts := nsRoles(pod, ctr, pause, host, target, "c1")
	if !slices.Equal(hosts, []string{"net:[1] host (hostNetwork: true)", "uts:[2] host (hostNetwork: true)"}) {
		t.Errorf("hosts = %q", hosts)
	}
	if !slices.Equal(joined, []string{"ipc:[13]", "pid:[24] (c1's)"}) || !slices.Equal(own, []string{"mnt:[35]"}) {
		t.Errorf("joined %q own %q", joined, own)
	}
}

func TestEphemeralContainersInRecordAndStatus(t *testing.T) {
	r := &Record{Pod: corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c1"}},
		EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "dbg"}}}}}}
	if n, err := r.ContainerName("dbg"); err != nil || n != "dbg" {
		t.Errorf("ContainerName(dbg) = %q, %v", n, err)
	}
	if _, err := r.ContainerName("nope"); err == nil || !strings.Contains(err.Error(), "[c1 dbg]") {
		t.Errorf("ContainerName(nope) error = %v, want the ephemeral name listed", err)
	}
	ps := &PodState{Record: r, Pause: ContainerState{Status: "running"}, Containers: []ContainerState{{Name: "c1", Status: "running"}},
		Ephemeral: []ContainerState{{Name: "dbg", Status: "exited"}}}
	kp := ps.KubePod()
	if len(kp.Status.EphemeralContainerStatuses) != 1 || kp.Status.EphemeralContainerStatuses[0].State.Terminated == nil {
		t.Errorf("ephemeralContainerStatuses = %+v", kp.Status.EphemeralContainerStatuses)
	}
	if ps.StatusText() != "Running" {
		t.Errorf("an exited ephemeral container changed the pod's status: %s", ps.StatusText())
	}
}
