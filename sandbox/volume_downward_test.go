package sandbox

import (
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func downwardPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "u-1",
			Labels:      map[string]string{"tier": "backend", "app": "web"},
			Annotations: map[string]string{"note": `say "hi"`}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "c1", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}}},
			{Name: "c2"},
		}},
	}
}

func TestDownwardFiles(t *testing.T) {
	ec := envContext{Pod: downwardPod(), NodeMemory: 8 << 30, NodeCPUMilli: 4000}
	mode := int32(0o600)
	items := []corev1.DownwardAPIVolumeFile{
		{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
		{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
		{Path: "annotations", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations"}, Mode: &mode},
		{Path: "tier", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['tier']"}},
		{Path: "mem", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "c1", Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}},
		{Path: "mem2", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "c2", Resource: "limits.memory", Divisor: resource.MustParse("1Gi")}},
		{Path: "cpu2", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "c2", Resource: "limits.cpu"}},
	}
	files, err := downwardFiles(items, nil, ec)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		data string
		mode os.FileMode
	}{
		"name":        {"web", 0o644},
		"labels":      {"app=\"web\"\ntier=\"backend\"", 0o644}, // kubelet's FormatMap: sorted, quoted, no trailing newline
		"annotations": {`note="say \"hi\""`, 0o600},
		"tier":        {"backend", 0o644},
		"mem":         {"64", 0o644},
		"mem2":        {"8", 0o644}, // no limit: the node's memory
		"cpu2":        {"4", 0o644}, // no limit: the node's CPUs, rounded up
	}
	if len(files) != len(want) {
		t.Fatalf("got %d files, want %d", len(files), len(want))
	}
	for _, f := range files {
		w := want[f.path]
		if string(f.data) != w.data || f.mode != w.mode {
			t.Errorf("%s = %q (%o), want %q (%o)", f.path, f.data, f.mode, w.data, w.mode)
		}
	}
	if _, err := downwardFiles([]corev1.DownwardAPIVolumeFile{{Path: "ip", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}}, nil, ec); err == nil {
		t.Error("status.podIP in a volume: want an error")
	}
	if _, err := downwardFiles([]corev1.DownwardAPIVolumeFile{{Path: "m", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "nope", Resource: "limits.memory"}}}, nil, ec); err == nil {
		t.Error("resourceFieldRef of an unknown container: want an error")
	}
}

func TestUsesDownwardMetadata(t *testing.T) {
	lbl := corev1.DownwardAPIVolumeFile{Path: "l", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['x']"}}
	name := corev1.DownwardAPIVolumeFile{Path: "n", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}
	for _, tc := range []struct {
		v    corev1.Volume
		want bool
	}{
		{corev1.Volume{VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{lbl}}}}, true},
		{corev1.Volume{VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{name}}}}, false},
		{corev1.Volume{VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ConfigMap: &corev1.ConfigMapProjection{}}, {DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{lbl}}}}}}}, true},
		{corev1.Volume{VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}, false},
	} {
		if got := usesDownwardMetadata(&tc.v); got != tc.want {
			t.Errorf("usesDownwardMetadata(%+v) = %v, want %v", tc.v.VolumeSource, got, tc.want)
		}
	}
}

func TestEmptyDirMemorySize(t *testing.T) {
	q := func(s string) *resource.Quantity { v := resource.MustParse(s); return &v }
	limited := downwardPod() // c1 64Mi, c2 none: the pod has no memory limit
	both := downwardPod()
	both.Spec.Containers[1].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}
	const node = 8 << 30
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		v    corev1.EmptyDirVolumeSource
		want int64
	}{
		{"nothing set: the node's memory", limited, corev1.EmptyDirVolumeSource{}, node},
		{"pod limit", both, corev1.EmptyDirVolumeSource{}, 128 << 20},
		{"sizeLimit below the pod limit", both, corev1.EmptyDirVolumeSource{SizeLimit: q("16Mi")}, 16 << 20},
		{"sizeLimit above the pod limit", both, corev1.EmptyDirVolumeSource{SizeLimit: q("1Gi")}, 128 << 20},
		{"sizeLimit above the node", limited, corev1.EmptyDirVolumeSource{SizeLimit: q("64Gi")}, node},
		{"sizeLimit zero", limited, corev1.EmptyDirVolumeSource{SizeLimit: q("0")}, node},
	} {
		if got := emptyDirMemorySize(tc.pod, &tc.v, node); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestPodSupplementalGroups(t *testing.T) {
	fs := int64(2000)
	strict := corev1.SupplementalGroupsPolicyStrict
	sc := &corev1.PodSecurityContext{FSGroup: &fs, SupplementalGroups: []int64{3000, 4000}}
	got := podSupplementalGroups(sc)
	if len(got) != 3 || got[0] != 2000 || got[1] != 3000 || got[2] != 4000 {
		t.Errorf("groups = %v, want [2000 3000 4000] (fsGroup first, as kubelet)", got)
	}
	if podSupplementalGroups(nil) != nil || strictSupplementalGroups(sc) || strictSupplementalGroups(nil) {
		t.Error("no security context / Merge: want no groups and not strict")
	}
	sc.SupplementalGroupsPolicy = &strict
	if !strictSupplementalGroups(sc) {
		t.Error("Strict not seen")
	}
}

func TestMetaEdits(t *testing.T) {
	edits, err := ParseMetaEdits([]string{"tier=frontend", "old-", "empty="})
	if err != nil {
		t.Fatal(err)
	}
	cur := map[string]string{"tier": "backend", "old": "x"}
	if _, _, err := ApplyMetaEdits(cur, edits, false); err == nil {
		t.Error("changing tier without --overwrite: want an error")
	}
	got, changed, err := ApplyMetaEdits(cur, edits, true)
	if err != nil || !changed || got["tier"] != "frontend" || got["empty"] != "" || len(got) != 2 {
		t.Errorf("got %v changed=%v err=%v", got, changed, err)
	}
	if cur["tier"] != "backend" {
		t.Error("ApplyMetaEdits changed its input")
	}
	if _, changed, _ := ApplyMetaEdits(cur, []MetaEdit{{Key: "tier", Value: "backend"}}, false); changed {
		t.Error("same value: want no change")
	}
	for _, bad := range [][]string{{"novalue"}, {"-"}, nil} {
		if _, err := ParseMetaEdits(bad); err == nil {
			t.Errorf("ParseMetaEdits(%q): want an error", bad)
		}
	}
}
