package sandbox

import (
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// BenchmarkEventfPodCreate records the 7 events of creating the article's
// podtest pod (Scheduled; Pulled, Created, Started for c1 and c2), into a
// new pod's list each round: what Eventf costs a `podsim apply`.
// go test -run '^$' -bench EventfPodCreate ./sandbox/
func BenchmarkEventfPodCreate(b *testing.B) {
	m := &Manager{paths: Paths{State: b.TempDir()}}
	r := &Record{ID: "p1"}
	r.Pod.Namespace, r.Pod.Name = "default", "podtest"
	for _, n := range []string{"c1", "c2"} {
		r.Pod.Spec.Containers = append(r.Pod.Spec.Containers, corev1.Container{Name: n, Image: "busybox", Command: []string{"sleep", "5000"},
			VolumeMounts: []corev1.VolumeMount{{Name: "shared", MountPath: "/shared"}}})
	}
	r.Pod.Spec.Volumes = []corev1.Volume{{Name: "shared", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	for b.Loop() {
		b.StopTimer()
		if err := os.RemoveAll(m.paths.podDir(r.ID)); err != nil {
			b.Fatal(err)
		}
		if err := m.saveRecord(r); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		m.Eventf(r.ID, EventNormal, "Scheduled", "", "Successfully assigned default/podtest to node")
		for _, n := range []string{"c1", "c2"} {
			fp := r.ContainerFieldPath(n)
			m.Eventf(r.ID, EventNormal, "Pulled", fp, "Container image %q already present on machine", "busybox")
			m.Eventf(r.ID, EventNormal, "Created", fp, "Created container: %s", n)
			m.Eventf(r.ID, EventNormal, "Started", fp, "Started container %s", n)
		}
	}
}
