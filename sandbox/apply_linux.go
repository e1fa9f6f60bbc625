package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
)

// Applied is what apply did to one object, printed like kubectl:
// "pod/podtest created", "deployment.apps/web configured".
type Applied struct {
	Kind, Name, Action string
	Warnings           []string
}

func (a Applied) String() string {
	return fmt.Sprintf("%s/%s %s", resourceName(a.Kind), a.Name, a.Action)
}

func resourceName(kind string) string {
	switch kind {
	case "Deployment":
		return "deployment.apps"
	}
	return map[string]string{"Pod": "pod", "Service": "service", "ConfigMap": "configmap", "Secret": "secret"}[kind]
}

// applyOrder: what pods mount (ConfigMaps, Secrets) first — podsim has no
// kubelet retry loop to wait for them — then workloads in file order, then
// Services, which resolve to the pods just made.
func applyOrder(kind string) int {
	switch kind {
	case "ConfigMap", "Secret":
		return 0
	case "Service":
		return 2
	}
	return 1
}

// Apply creates or updates objects, like kubectl apply. report is called
// after each object (may be nil). namespace fills objects without one.
func (m *Manager) Apply(ctx context.Context, objs []Object, namespace string, report func(Applied)) error {
	objs = append([]Object(nil), objs...)
	sort.SliceStable(objs, func(i, j int) bool { return applyOrder(objs[i].Kind()) < applyOrder(objs[j].Kind()) })
	if report == nil {
		report = func(Applied) {}
	}
	for _, o := range objs {
		if o.Meta().Namespace == "" {
			o.Meta().Namespace = namespace
		}
		a := Applied{Kind: o.Kind(), Name: o.Name()}
		var err error
		switch {
		case o.Pod != nil:
			if st, gerr := m.Get(ctx, o.Pod.Namespace, o.Pod.Name); gerr == nil {
				// Pods are immutable: re-applying the same spec is a no-op, a different one an error.
				if !equality.Semantic.DeepEqual(st.Pod.Spec, o.Pod.Spec) {
					return fmt.Errorf("pod %q already exists with a different spec; pods cannot be changed in place: run 'podsim delete pod %s' first, or use a Deployment", o.Pod.Name, o.Pod.Name)
				}
				a.Action = "unchanged"
			} else if _, err = m.CreatePod(ctx, o.Pod); err == nil {
				a.Action = "created"
			}
		case o.Deployment != nil:
			var res *ApplyResult
			if res, err = m.ApplyDeployment(ctx, o.Deployment); err == nil {
				a.Action = res.Action
			}
		case o.Service != nil:
			a.Action, a.Warnings, err = m.ApplyService(ctx, o.Service)
		case o.ConfigMap != nil:
			a.Action, err = m.ApplyConfigMap(ctx, o.ConfigMap)
		case o.Secret != nil:
			a.Action, err = m.ApplySecret(ctx, o.Secret)
		}
		if err != nil {
			return err
		}
		report(a)
	}
	return nil
}

// DeleteObject deletes one object of a manifest, by kind and name.
func (m *Manager) DeleteObject(ctx context.Context, kind, namespace, name string, grace *time.Duration) error {
	switch kind {
	case "Pod":
		g := 30 * time.Second
		if st, err := m.Get(ctx, namespace, name); err == nil {
			g = GracePeriod(&st.Pod)
		}
		if grace != nil {
			g = *grace
		}
		return m.DeletePod(ctx, namespace, name, g)
	case "Deployment":
		return m.DeleteDeployment(ctx, namespace, name, grace)
	case "Service":
		return m.DeleteService(ctx, namespace, name)
	case "ConfigMap":
		return m.DeleteConfigMap(namespace, name)
	case "Secret":
		return m.DeleteSecret(namespace, name)
	}
	return errors.New("unknown kind " + kind)
}

// Exists reports whether an object of a manifest kind exists.
func (m *Manager) Exists(ctx context.Context, kind, namespace, name string) bool {
	switch kind {
	case "Pod":
		_, err := m.Get(ctx, namespace, name)
		return err == nil
	case "Deployment":
		d, _ := m.loadDeployment(namespace, name)
		return d != nil
	case "Service":
		return fileExists(m.objectFile("services", namespace, name))
	case "ConfigMap":
		return fileExists(m.objectFile("configmaps", namespace, name))
	case "Secret":
		return fileExists(m.objectFile("secrets", namespace, name))
	}
	return false
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
