package objects

import (
	"strings"
	"testing"
)

func TestKindOf(t *testing.T) {
	for name, want := range map[string]string{
		"pod": "Pod", "pods": "Pod", "po": "Pod", "Pod": "Pod",
		"deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment",
		"deployment.apps": "Deployment", "deployments.apps": "Deployment",
		"service": "Service", "services": "Service", "svc": "Service",
		"configmap": "ConfigMap", "configmaps": "ConfigMap", "cm": "ConfigMap",
		"secret": "Secret", "secrets": "Secret",
		"runtimeclass": "RuntimeClass", "runtimeclasses": "RuntimeClass", "runtimeclass.node.k8s.io": "RuntimeClass",
	} {
		k, err := KindOf(name)
		if err != nil || k.Kind != want {
			t.Errorf("KindOf(%q) = %v, %v; want %s", name, k, err, want)
		}
	}
	_, err := KindOf("ingress")
	if err == nil || !strings.Contains(err.Error(), "podsim knows pods, deployments, services, configmaps, secrets and runtimeclasses") {
		t.Errorf("KindOf(ingress) = %v", err)
	}
}

// Delete undoes apply: the delete order is the apply order reversed.
func TestDeleteOrderReversesApplyOrder(t *testing.T) {
	for _, a := range Kinds {
		for _, b := range Kinds {
			if a.ApplyOrder < b.ApplyOrder && !(a.DeleteOrder > b.DeleteOrder) {
				t.Errorf("%s is applied before %s but not deleted after it", a.Kind, b.Kind)
			}
		}
	}
}
