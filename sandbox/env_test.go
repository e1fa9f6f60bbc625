package sandbox

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestResolveEnv(t *testing.T) {
	yes := true
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "shop", UID: "u-1",
		Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"team": "blue"}}}
	ec := envContext{Pod: pod, PodIP: "10.88.0.7", HostIP: "127.0.0.1", NodeName: "node-a", NodeCPUMilli: 2000, NodeMemory: 8 << 30,
		ConfigMap: func(name string) (*corev1.ConfigMap, error) {
			if name == "cfg" {
				return &corev1.ConfigMap{Data: map[string]string{"color": "green", "size": "L", "has space": "x"}}, nil
			}
			return nil, errors.New("not found")
		},
		Secret: func(name string) (*corev1.Secret, error) {
			if name == "creds" {
				return &corev1.Secret{Data: map[string][]byte{"password": []byte("s3cret")}}, nil
			}
			return nil, errors.New("not found")
		},
	}
	field := func(p string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: p}}
	}
	res := func(r, div string) *corev1.EnvVarSource {
		s := &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: r}}
		if div != "" {
			s.ResourceFieldRef.Divisor = resource.MustParse(div)
		}
		return s
	}
	c := &corev1.Container{Name: "app",
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}},
		EnvFrom: []corev1.EnvFromSource{{Prefix: "CFG_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}},
			{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}, Optional: &yes}}},
		Env: []corev1.EnvVar{
			{Name: "PLAIN", Value: "v"},
			{Name: "NAME", ValueFrom: field("metadata.name")},
			{Name: "NS", ValueFrom: field("metadata.namespace")},
			{Name: "APP", ValueFrom: field("metadata.labels['app']")},
			{Name: "TEAM", ValueFrom: field(`metadata.annotations["team"]`)},
			{Name: "IP", ValueFrom: field("status.podIP")},
			{Name: "NODE", ValueFrom: field("spec.nodeName")},
			{Name: "SA", ValueFrom: field("spec.serviceAccountName")},
			{Name: "MEM_MI", ValueFrom: res("limits.memory", "1Mi")},
			{Name: "CPU_LIMIT", ValueFrom: res("limits.cpu", "")},     // no limit: the node's 2 CPUs
			{Name: "CPU_REQ_M", ValueFrom: res("requests.cpu", "1m")}, // 250
			{Name: "COLOR", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "color"}}},
			{Name: "PASS", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "password"}}},
			{Name: "MAYBE", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "nope", Optional: &yes}}},
		}}
	got, err := resolveEnv(c, ec)
	if err != nil {
		t.Fatal(err)
	}
	want := []corev1.EnvVar{{Name: "CFG_color", Value: "green"}, {Name: "CFG_size", Value: "L"}, // "CFG_has space" is not a variable name: skipped, as kubelet does
		{Name: "PLAIN", Value: "v"}, {Name: "NAME", Value: "web-1"}, {Name: "NS", Value: "shop"}, {Name: "APP", Value: "web"}, {Name: "TEAM", Value: "blue"},
		{Name: "IP", Value: "10.88.0.7"}, {Name: "NODE", Value: "node-a"}, {Name: "SA", Value: "default"},
		{Name: "MEM_MI", Value: "64"}, {Name: "CPU_LIMIT", Value: "2"}, {Name: "CPU_REQ_M", Value: "250"},
		{Name: "COLOR", Value: "green"}, {Name: "PASS", Value: "s3cret"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resolveEnv =\n%v\nwant\n%v", got, want)
	}
	for _, bad := range []corev1.EnvVar{
		{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "missing"}}},
		{Name: "X", ValueFrom: field("spec.containers[0].name")},
	} {
		if _, err := resolveEnv(&corev1.Container{Name: "a", Env: []corev1.EnvVar{bad}}, ec); err == nil {
			t.Errorf("%+v: want an error", bad.ValueFrom)
		}
	}
}

// TestResolveEnvExpansion is kubelet's makeEnvironmentVariables on $(VAR):
// only literal values are expanded, over envFrom's and earlier env's
// variables; values read from a ConfigMap, a Secret or the downward API
// are taken as they are ($$ and $(X) in them stay); a later definition of
// a name keeps its place and takes the new value; unknown references stay.
func TestResolveEnvExpansion(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p$(A)", Namespace: "ns"}}
	ec := envContext{Pod: pod,
		ConfigMap: func(name string) (*corev1.ConfigMap, error) {
			return &corev1.ConfigMap{Data: map[string]string{"raw": "a$$b$(FROM_CM)", "FROM_CM": "cm"}}, nil
		},
		Secret: func(string) (*corev1.Secret, error) { return nil, errors.New("not found") },
	}
	c := &corev1.Container{Name: "app",
		EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
		Env: []corev1.EnvVar{
			{Name: "A", Value: "1"},
			{Name: "USE_CM", Value: "$(FROM_CM)-$(A)"},
			{Name: "FROM_REF", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "raw"}}},
			{Name: "NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "LATER", Value: "$(B) $(PATH) $$(A) $$"},
			{Name: "B", Value: "2"},
			{Name: "A", Value: "3-$(A)"},
		}}
	got, err := resolveEnv(c, ec)
	if err != nil {
		t.Fatal(err)
	}
	want := []corev1.EnvVar{
		{Name: "FROM_CM", Value: "cm"}, {Name: "raw", Value: "a$$b$(FROM_CM)"}, // envFrom: as they are
		{Name: "A", Value: "3-1"},                     // redefined: first place, last value, expanded over the earlier A
		{Name: "USE_CM", Value: "cm-1"},               // literal: expanded over envFrom's and earlier env's
		{Name: "FROM_REF", Value: "a$$b$(FROM_CM)"},   // valueFrom: as it is
		{Name: "NAME", Value: "p$(A)"},                // downward API: as it is
		{Name: "LATER", Value: "$(B) $(PATH) $(A) $"}, // B not yet defined, PATH is the image's: both stay; $$ unescapes
		{Name: "B", Value: "2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resolveEnv =\n%v\nwant\n%v", got, want)
	}
}

// TestResolveEnvResourcesOfOtherContainer: resourceFieldRef may name
// another container of the pod (kubelet's containerResourceRuntimeValue);
// a limit that is not set is the node's capacity, ephemeral storage
// included; fileKeyRef is refused by its name.
func TestResolveEnvResourcesOfOtherContainer(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("32Mi")}}}},
		Containers:     []corev1.Container{{Name: "app"}, {Name: "side", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")}}}},
	}}
	ec := envContext{Pod: pod, NodeCPUMilli: 2000, NodeMemory: 8 << 30, NodeEphemeral: func() int64 { return 100 << 30 }}
	ref := func(ctr, res, div string) corev1.EnvVar {
		s := &corev1.ResourceFieldSelector{ContainerName: ctr, Resource: res, Divisor: resource.MustParse(div)}
		return corev1.EnvVar{Name: "V", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: s}}
	}
	for _, tc := range []struct {
		env  corev1.EnvVar
		want string
	}{
		{ref("side", "limits.memory", "1Mi"), "128"},
		{ref("init", "limits.memory", "1Mi"), "32"},
		{ref("", "limits.memory", "1Gi"), "8"},                 // app has no limit: the node's memory
		{ref("app", "limits.ephemeral-storage", "1Gi"), "100"}, // the node's ephemeral storage
	} {
		c := pod.Spec.Containers[0]
		c.Env = []corev1.EnvVar{tc.env}
		got, err := resolveEnv(&c, ec)
		if err != nil || len(got) != 1 || got[0].Value != tc.want {
			t.Errorf("%+v: got %v %v, want %s", tc.env.ValueFrom.ResourceFieldRef, got, err, tc.want)
		}
	}
	c := pod.Spec.Containers[0]
	c.Env = []corev1.EnvVar{ref("nope", "limits.memory", "1")}
	if _, err := resolveEnv(&c, ec); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("an unknown container: %v", err)
	}
	c.Env = []corev1.EnvVar{{Name: "F", ValueFrom: &corev1.EnvVarSource{FileKeyRef: &corev1.FileKeySelector{VolumeName: "v", Path: "p", Key: "k"}}}}
	if _, err := resolveEnv(&c, ec); err == nil || !strings.Contains(err.Error(), "fileKeyRef") {
		t.Errorf("fileKeyRef must be refused by its name: %v", err)
	}
}
