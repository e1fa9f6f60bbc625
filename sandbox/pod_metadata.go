package sandbox

import (
	"fmt"
	"maps"
	"strings"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A running pod's labels and annotations may change (the only part of a
// pod besides a few spec fields that the API server lets change): kubectl
// label, kubectl annotate, kubectl apply with new metadata. kubelet then
// rewrites the downwardAPI files that show them; containers' env keeps the
// values it started with.

// MetaEdit is one `podsim label`/`annotate` argument in kubectl's syntax:
// KEY=VALUE sets, KEY- removes.
type MetaEdit struct {
	Key, Value string
	Remove     bool
}

// ParseMetaEdits reads kubectl's KEY=VALUE and KEY- arguments.
func ParseMetaEdits(args []string) ([]MetaEdit, error) {
	var out []MetaEdit
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok {
			out = append(out, MetaEdit{Key: k, Value: v})
			continue
		}
		if k, ok := strings.CutSuffix(a, "-"); ok && k != "" {
			out = append(out, MetaEdit{Key: k, Remove: true})
			continue
		}
		return nil, fmt.Errorf("invalid argument %q: use KEY=VALUE to set or KEY- to remove", a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("at least one KEY=VALUE or KEY- is required")
	}
	return out, nil
}

// ApplyMetaEdits applies edits to a copy of m (labels or annotations) as
// kubectl does: changing a key that has another value needs overwrite;
// removing a key that is not there is not an error. It returns the new map
// and whether it differs.
func ApplyMetaEdits(m map[string]string, edits []MetaEdit, overwrite bool) (map[string]string, bool, error) {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]string{}
	}
	for _, e := range edits {
		if e.Remove {
			delete(out, e.Key)
			continue
		}
		if old, ok := out[e.Key]; ok && old != e.Value && !overwrite {
			return nil, false, fmt.Errorf("'%s' already has a value (%s), and --overwrite is false", e.Key, old)
		}
		out[e.Key] = e.Value
	}
	return out, !maps.Equal(out, m), nil
}

// validateMetadata checks labels and annotations as the API server does.
func validateMetadata(meta *metav1.ObjectMeta) error {
	errs := metav1validation.ValidateLabels(meta.Labels, field.NewPath("metadata", "labels"))
	errs = append(errs, apivalidation.ValidateAnnotations(meta.Annotations, field.NewPath("metadata", "annotations"))...)
	if err := errs.ToAggregate(); err != nil {
		return fmt.Errorf("%w %q: %w", ErrInvalidPod, meta.Name, err)
	}
	return nil
}
