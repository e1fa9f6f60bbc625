package scenarios

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/sandbox"
)

// Every manifest a scenario applies passes podsim's validation without an
// error and without a warning: the scenarios use only fields podsim acts on
// (checked against the field table, sandbox/fields.go).
func TestScenarioManifestsValidate(t *testing.T) {
	for _, s := range Registry() {
		for i, man := range append(append([]string(nil), s.Manifests...), s.Extra...) {
			objs, err := sandbox.ParseManifests(strings.NewReader(man), s.Name)
			if err != nil {
				t.Errorf("%s manifest %d: %v", s.Name, i, err)
				continue
			}
			for _, o := range objs {
				var warns []string
				switch {
				case o.Pod != nil:
					warns, err = sandbox.Validate(o.Pod.DeepCopy())
				case o.Deployment != nil:
					d := o.Deployment
					if warns, err = sandbox.CheckDeploymentFields(d); err == nil {
						p := &corev1.Pod{ObjectMeta: d.Spec.Template.ObjectMeta, Spec: d.Spec.Template.Spec}
						p.Name = d.Name + "-0000000000-xxxxx"
						var w []string
						w, err = sandbox.Validate(p)
						warns = append(warns, w...)
					}
				case o.Service != nil:
					warns, err = sandbox.CheckServiceFields(o.Service)
				}
				if err != nil {
					t.Errorf("%s: %s %s: %v", s.Name, o.Kind(), o.Name(), err)
				}
				for _, w := range warns {
					t.Errorf("%s: %s %s: warning: %s", s.Name, o.Kind(), o.Name(), w)
				}
			}
		}
	}
}
