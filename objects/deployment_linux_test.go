package objects

import (
	"strings"
	"testing"

	"github.com/podsim/podsim/sandbox"
)

const deploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: busybox
`

func TestPodFromTemplate(t *testing.T) {
	objs, err := sandbox.ParseManifests(strings.NewReader(deploymentYAML), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := objs[0].Deployment
	if err := validateDeployment(d); err != nil {
		t.Fatal(err)
	}
	p := podFromTemplate(d, TemplateHash(&d.Spec.Template))
	parts := strings.Split(p.Name, "-")
	if len(parts) != 3 || parts[0] != "web" || len(parts[1]) != 10 && len(parts[1]) < 8 || len(parts[2]) != 5 {
		t.Errorf("pod name %q is not <deploy>-<hash>-<suffix>", p.Name)
	}
	if p.Labels["pod-template-hash"] != parts[1] || p.Labels["app"] != "web" {
		t.Errorf("labels = %v", p.Labels)
	}
	for _, r := range parts[1] + parts[2] {
		if !strings.ContainsRune(safeAlphabet, r) {
			t.Errorf("pod name %q uses %q outside Kubernetes' safe alphabet", p.Name, r)
		}
	}
}

func TestTemplateHashChangesWithTemplate(t *testing.T) {
	objs, err := sandbox.ParseManifests(strings.NewReader(deploymentYAML), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ta := objs[0].Deployment.Spec.Template
	tb := *ta.DeepCopy()
	tb.Spec.Containers[0].Image = "busybox:1.36"
	if TemplateHash(&ta) == TemplateHash(&tb) {
		t.Error("template hash did not change with the image")
	}
	if TemplateHash(&ta) != TemplateHash(ta.DeepCopy()) {
		t.Error("template hash is not stable")
	}
}
