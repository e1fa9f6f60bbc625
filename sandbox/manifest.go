package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// ErrManifest wraps every manifest parsing error.
var ErrManifest = errors.New("invalid manifest")

// MaxManifestBytes bounds one manifest document (Kubernetes' API server
// refuses objects above ~1.5 MiB too).
const MaxManifestBytes = 3 << 20

// Object is one parsed document: exactly one of the pointers is set.
type Object struct {
	Source     string // file name and document number, for messages
	Pod        *corev1.Pod
	Deployment *appsv1.Deployment
	Service    *corev1.Service
	ConfigMap  *corev1.ConfigMap
	Secret     *corev1.Secret
	// RuntimeClass is cluster-scoped (node.k8s.io/v1): it names a runtime
	// handler for pods' runtimeClassName (runtimeclass.go).
	RuntimeClass *nodev1.RuntimeClass
}

// Kind is the object's kind.
func (o Object) Kind() string {
	switch {
	case o.Pod != nil:
		return "Pod"
	case o.Deployment != nil:
		return "Deployment"
	case o.Service != nil:
		return "Service"
	case o.ConfigMap != nil:
		return "ConfigMap"
	case o.RuntimeClass != nil:
		return "RuntimeClass"
	}
	return "Secret"
}

// Meta is the object's metadata.
func (o Object) Meta() *metav1.ObjectMeta {
	switch {
	case o.Pod != nil:
		return &o.Pod.ObjectMeta
	case o.Deployment != nil:
		return &o.Deployment.ObjectMeta
	case o.Service != nil:
		return &o.Service.ObjectMeta
	case o.ConfigMap != nil:
		return &o.ConfigMap.ObjectMeta
	case o.RuntimeClass != nil:
		return &o.RuntimeClass.ObjectMeta
	}
	return &o.Secret.ObjectMeta
}

// Name is the object's name.
func (o Object) Name() string { return o.Meta().Name }

// kinds podsim accepts, with their apiVersion.
var kinds = map[string]string{"Pod": "v1", "Service": "v1", "ConfigMap": "v1", "Secret": "v1", "Deployment": "apps/v1", "RuntimeClass": "node.k8s.io/v1"}

// ParseManifests reads multi-document YAML (or JSON) with the Kubernetes
// types, strictly: an unknown field is an error that names it, as
// `kubectl apply --validate=strict` does.
func ParseManifests(r io.Reader, source string) ([]Object, error) {
	yr := utilyaml.NewYAMLReader(bufio.NewReaderSize(r, 64*1024))
	var out []Object
	line := 1
	for doc := 1; ; doc++ {
		raw, err := yr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: reading document %d: %w", ErrManifest, source, doc, err)
		}
		startLine := line
		line += bytes.Count(raw, []byte("\n"))
		if len(raw) > MaxManifestBytes {
			return nil, fmt.Errorf("%w: %s: document %d is %d bytes, more than the %d podsim accepts", ErrManifest, source, doc, len(raw), MaxManifestBytes)
		}
		if len(bytes.TrimSpace(stripComments(raw))) == 0 {
			continue
		}
		where := fmt.Sprintf("%s (document %d, from line %d)", source, doc, startLine)
		var tm struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(raw, &tm); err != nil {
			return nil, fmt.Errorf("%w: %s: %s", ErrManifest, where, cleanYAMLErr(err))
		}
		obj := Object{Source: where}
		var target any
		want, known := kinds[tm.Kind]
		switch {
		case tm.Kind == "":
			return nil, fmt.Errorf("%w: %s: no kind: set e.g. 'kind: Pod' with 'apiVersion: v1'", ErrManifest, where)
		case !known:
			return nil, fmt.Errorf("%w: %s: kind %q (apiVersion %q) is not supported: podsim applies Pod, Service, ConfigMap, Secret (v1), Deployment (apps/v1) and RuntimeClass (node.k8s.io/v1)", ErrManifest, where, tm.Kind, tm.APIVersion)
		case tm.APIVersion != want:
			return nil, fmt.Errorf("%w: %s: apiVersion %q is not valid for kind %s: use apiVersion: %s", ErrManifest, where, tm.APIVersion, tm.Kind, want)
		}
		switch tm.Kind {
		case "Pod":
			obj.Pod = &corev1.Pod{}
			target = obj.Pod
		case "Deployment":
			obj.Deployment = &appsv1.Deployment{}
			target = obj.Deployment
		case "Service":
			obj.Service = &corev1.Service{}
			target = obj.Service
		case "ConfigMap":
			obj.ConfigMap = &corev1.ConfigMap{}
			target = obj.ConfigMap
		case "Secret":
			obj.Secret = &corev1.Secret{}
			target = obj.Secret
		case "RuntimeClass":
			obj.RuntimeClass = &nodev1.RuntimeClass{}
			target = obj.RuntimeClass
		}
		if err := strictDecode(raw, target); err != nil {
			return nil, fmt.Errorf("%w: %s: %s", ErrManifest, where, err)
		}
		out = append(out, obj)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s: no objects found", ErrManifest, source)
	}
	return out, nil
}

// strictDecode decodes like the API server's strict field validation:
// unknown and duplicate fields are errors that carry their path
// (spec.containers[0].imagee).
func strictDecode(raw []byte, target any) error {
	j, err := yaml.YAMLToJSONStrict(raw) // strict: a key given twice is an error
	if err != nil {
		return errors.New(cleanYAMLErr(err))
	}
	strict, err := kjson.UnmarshalStrict(j, target)
	if err != nil {
		return errors.New(cleanYAMLErr(err))
	}
	if len(strict) > 0 {
		var msgs []string
		for _, e := range strict {
			msgs = append(msgs, e.Error())
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	return nil
}

func stripComments(b []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// cleanYAMLErr shortens sigs.k8s.io/yaml's messages ("error unmarshaling
// JSON: while decoding JSON: json: unknown field \"x\"").
func cleanYAMLErr(err error) string {
	s := err.Error()
	for _, p := range []string{"error unmarshaling JSON: ", "while decoding JSON: ", "error converting YAML to JSON: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return s
}
