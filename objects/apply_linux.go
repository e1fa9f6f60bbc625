package objects

import (
	"context"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/podsim/podsim/sandbox"
)

// Applied is what apply did to one object, printed like kubectl:
// "pod/podtest created", "deployment.apps/web configured".
type Applied struct {
	Ref
	Action   string
	Warnings []string
}

func (a Applied) String() string { return a.Ref.String() + " " + a.Action }

// PodChangedError is apply's answer to a pod that exists with another
// spec: pods are immutable. It is an ErrPodExists.
type PodChangedError struct{ Name string }

func (e *PodChangedError) Error() string {
	return fmt.Sprintf("pod %q already exists with a different spec; pods cannot be changed in place", e.Name)
}

// Is makes errors.Is(err, sandbox.ErrPodExists) true.
func (e *PodChangedError) Is(target error) bool { return target == sandbox.ErrPodExists }

// Apply creates or updates objects, like kubectl apply, in the kinds'
// apply order (objects of one kind in file order). report is called after
// each object (may be nil). namespace fills objects without one.
func (m *Manager) Apply(ctx context.Context, objs []sandbox.Object, namespace string, report func(Applied)) error {
	objs = append([]sandbox.Object(nil), objs...)
	sort.SliceStable(objs, func(i, j int) bool {
		return mustKind(objs[i].Kind()).ApplyOrder < mustKind(objs[j].Kind()).ApplyOrder
	})
	if report == nil {
		report = func(Applied) {}
	}
	for _, o := range objs {
		if o.Meta().Namespace == "" {
			o.Meta().Namespace = namespace
		}
		a := Applied{Ref: RefOf(o)}
		var err error
		switch {
		case o.Pod != nil:
			a.Action, err = m.applyPod(ctx, o)
		case o.Deployment != nil:
			var res *DeploymentResult
			if res, err = m.ApplyDeployment(ctx, o.Deployment); err == nil {
				a.Action, a.Warnings = res.Action, res.Warnings
			}
		case o.Service != nil:
			a.Action, a.Warnings, err = m.ApplyService(ctx, o.Service)
		case o.ConfigMap != nil:
			a.Action, err = m.ApplyConfigMap(ctx, o.ConfigMap)
		case o.Secret != nil:
			a.Action, err = m.ApplySecret(ctx, o.Secret)
		case o.RuntimeClass != nil:
			a.Action, err = m.ApplyRuntimeClass(o.RuntimeClass)
		}
		if err != nil {
			return err
		}
		report(a)
	}
	return nil
}

// applyPod creates a pod. A pod's spec is immutable: re-applying the same
// spec is a no-op, a different one an error; its labels and annotations
// may change (applyPodMetadata).
func (m *Manager) applyPod(ctx context.Context, o sandbox.Object) (string, error) {
	if st, err := m.pods.Get(ctx, o.Pod.Namespace, o.Pod.Name); err == nil {
		if !equality.Semantic.DeepEqual(st.Pod.Spec, o.Pod.Spec) {
			return "", &PodChangedError{Name: o.Pod.Name}
		}
		return m.applyPodMetadata(ctx, o)
	}
	if _, err := m.pods.CreatePod(ctx, o.Pod); err != nil {
		return "", err
	}
	return "created", nil
}
