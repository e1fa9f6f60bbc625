package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// parseManifest splits a YAML stream into objects.
func parseManifest(manifest string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(manifest)), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("parsing manifest: %w", err)
		}
		if len(obj) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("manifest object without kind or metadata.name: %v", obj)
		}
		out = append(out, u)
	}
}

// podSpecPath is where a kind keeps its pod spec.
var podSpecPath = map[string][]string{
	"Pod":         {"spec"},
	"Deployment":  {"spec", "template", "spec"},
	"ReplicaSet":  {"spec", "template", "spec"},
	"StatefulSet": {"spec", "template", "spec"},
	"DaemonSet":   {"spec", "template", "spec"},
	"Job":         {"spec", "template", "spec"},
}

// adapt sets what running on this cluster needs on every pod spec of obj:
// the image pull policy (podsim's images are on the node, not in a
// registry) and, on a cluster without a scheduler, the node.
func adapt(obj *unstructured.Unstructured, node string, pull corev1.PullPolicy) error {
	path, ok := podSpecPath[obj.GetKind()]
	if !ok {
		return nil
	}
	spec, found, err := unstructured.NestedMap(obj.Object, path...)
	if err != nil || !found {
		return err
	}
	if node != "" {
		spec["nodeName"] = node
	}
	for _, key := range []string{"initContainers", "containers"} {
		cs, _, _ := unstructured.NestedSlice(spec, key)
		for _, c := range cs {
			if m, ok := c.(map[string]any); ok && pull != "" {
				m["imagePullPolicy"] = string(pull)
			}
		}
		if cs != nil {
			spec[key] = cs
		}
	}
	return unstructured.SetNestedMap(obj.Object, spec, path...)
}
