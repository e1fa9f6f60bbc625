package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Deployment support is deliberately small: podsim has no controller loop,
// so `apply` does once what the Deployment and ReplicaSet controllers would
// do: create `replicas` pods from the template, named
// <deployment>-<pod-template-hash>-<suffix>, and when the template changes,
// start the new pods before removing the old ones (a rolling update with
// maxUnavailable 0).

// AnnotationDeployment marks pods owned by a deployment.
const AnnotationDeployment = "podsim.io/deployment"

// DeploymentState is a deployment with the live state of its pods.
type DeploymentState struct {
	Deployment *appsv1.Deployment
	Pods       []*PodState
}

// ApplyResult says what apply did ("created", "configured", "unchanged").
type ApplyResult struct {
	Action string
	Pods   []string
}

// ApplyDeployment creates or updates a deployment.
func (m *Manager) ApplyDeployment(ctx context.Context, d *appsv1.Deployment) (*ApplyResult, error) {
	d = d.DeepCopy()
	if d.Namespace == "" {
		d.Namespace = "default"
	}
	if err := validateDeployment(d); err != nil {
		return nil, err
	}
	warns, _ := CheckDeploymentFields(d)
	for _, w := range warns {
		m.warn(w)
	}
	unlock, err := m.lockDeployment(ctx, d.Namespace, d.Name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	replicas := 1
	if d.Spec.Replicas != nil {
		replicas = int(*d.Spec.Replicas)
	}
	hash := TemplateHash(&d.Spec.Template)
	old, err := m.deploymentPods(ctx, d.Namespace, d.Name)
	if err != nil {
		return nil, err
	}
	prev, _ := m.loadDeployment(d.Namespace, d.Name)
	res := &ApplyResult{Action: "created"}
	if prev != nil {
		res.Action = "configured"
	}
	var keep, stale []*Record
	for _, r := range old {
		if r.Pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == hash {
			keep = append(keep, r)
		} else {
			stale = append(stale, r)
		}
	}
	if len(stale) == 0 && len(keep) == replicas && prev != nil {
		res.Action = "unchanged"
	}
	var created []*Record
	for i := len(keep); i < replicas; i++ {
		pod := podFromTemplate(d, hash)
		rec, err := m.CreatePod(ctx, pod)
		if errors.Is(err, ErrInitFailed) {
			// Kept like any pod whose init failed (Init:Error), so its logs can be read.
			_ = m.saveDeployment(d)
			return nil, fmt.Errorf("deployment %s: %w", d.Name, err)
		}
		if err != nil {
			// Roll back this apply's new pods; the old ones keep serving.
			for _, c := range created {
				_ = m.DeletePod(context.WithoutCancel(ctx), c.Pod.Namespace, c.Pod.Name, 0)
			}
			return nil, fmt.Errorf("deployment %s: creating pod %d of %d: %w", d.Name, i+1, replicas, err)
		}
		created = append(created, rec)
		res.Pods = append(res.Pods, rec.Pod.Name)
	}
	// Scale down surplus pods of the current template, then remove the old template's pods.
	if len(keep) > replicas {
		stale = append(stale, keep[replicas:]...)
	}
	var errs []error
	for _, r := range stale {
		if err := m.DeletePod(ctx, r.Pod.Namespace, r.Pod.Name, gracePeriod(&r.Pod)); err != nil && !errors.Is(err, ErrPodNotFound) {
			errs = append(errs, err)
		}
	}
	if err := m.saveDeployment(d); err != nil {
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

func validateDeployment(d *appsv1.Deployment) error {
	if d.Name == "" {
		return fmt.Errorf("%w: deployment: metadata.name is required", ErrInvalidPod)
	}
	if d.Spec.Selector == nil {
		return fmt.Errorf("%w: deployment %s: spec.selector is required", ErrInvalidPod, d.Name)
	}
	if _, err := CheckDeploymentFields(d); err != nil {
		return err
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return fmt.Errorf("%w: deployment %s: spec.selector: %w", ErrInvalidPod, d.Name, err)
	}
	if sel.Empty() || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		return fmt.Errorf("%w: deployment %s: spec.selector does not match spec.template.metadata.labels", ErrInvalidPod, d.Name)
	}
	if d.Spec.Replicas != nil && (*d.Spec.Replicas < 0 || *d.Spec.Replicas > 100) {
		return fmt.Errorf("%w: deployment %s: spec.replicas %d must be between 0 and 100", ErrInvalidPod, d.Name, *d.Spec.Replicas)
	}
	// Validate the template as a pod now, so a bad template fails before any pod is touched.
	p := podFromTemplate(d, "x")
	p.Name = d.Name + "-0000000000-xxxxx"
	if _, err := Validate(p); err != nil {
		return fmt.Errorf("deployment %s template: %w", d.Name, err)
	}
	return nil
}

// TemplateHash is the pod-template-hash label: FNV-32a of the template,
// encoded with Kubernetes' safe alphabet (no vowels, no confusable digits).
func TemplateHash(t *corev1.PodTemplateSpec) string {
	b, _ := json.Marshal(t)
	h := fnv.New32a()
	h.Write(b)
	return safeEncode(fmt.Sprint(h.Sum32()))
}

const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

func safeEncode(s string) string {
	r := []byte(s)
	for i, b := range r {
		r[i] = safeAlphabet[int(b)%len(safeAlphabet)]
	}
	return string(r)
}

func podFromTemplate(d *appsv1.Deployment, hash string) *corev1.Pod {
	t := d.Spec.Template.DeepCopy()
	suffix := make([]byte, 5)
	_, _ = rand.Read(suffix)
	for i := range suffix {
		suffix[i] = safeAlphabet[int(suffix[i])%len(safeAlphabet)]
	}
	pod := &corev1.Pod{ObjectMeta: t.ObjectMeta, Spec: t.Spec}
	pod.Name = fmt.Sprintf("%s-%s-%s", d.Name, hash, suffix)
	pod.Namespace = d.Namespace
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[AnnotationDeployment] = d.Name
	pod.GenerateName = d.Name + "-" + hash + "-"
	return pod
}

func gracePeriod(p *corev1.Pod) time.Duration {
	if p.Spec.TerminationGracePeriodSeconds != nil {
		return time.Duration(*p.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return 30 * time.Second
}

// GracePeriod is the pod's terminationGracePeriodSeconds (default 30s).
func GracePeriod(p *corev1.Pod) time.Duration { return gracePeriod(p) }

func (m *Manager) deploymentPods(ctx context.Context, namespace, name string) ([]*Record, error) {
	recs, err := m.Records()
	if err != nil {
		return nil, err
	}
	var out []*Record
	for _, r := range recs {
		if r.Pod.Namespace == namespace && r.Pod.Annotations[AnnotationDeployment] == name {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *Manager) deploymentFile(namespace, name string) string {
	return filepath.Join(m.paths.deploymentsDir(), namespace+"_"+name+".json")
}

func (m *Manager) saveDeployment(d *appsv1.Deployment) error {
	if err := os.MkdirAll(m.paths.deploymentsDir(), 0o700); err != nil {
		return err
	}
	d.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(m.deploymentFile(d.Namespace, d.Name), b, 0o600)
}

func (m *Manager) loadDeployment(namespace, name string) (*appsv1.Deployment, error) {
	b, err := os.ReadFile(m.deploymentFile(namespace, name))
	if err != nil {
		return nil, err
	}
	var d appsv1.Deployment
	return &d, json.Unmarshal(b, &d)
}

// Deployments lists deployments with their pods.
func (m *Manager) Deployments(ctx context.Context, namespace string) ([]*DeploymentState, error) {
	ents, err := os.ReadDir(m.paths.deploymentsDir())
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var out []*DeploymentState
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(m.paths.deploymentsDir(), e.Name()))
		if err != nil {
			continue
		}
		var d appsv1.Deployment
		if json.Unmarshal(b, &d) != nil || (namespace != "" && d.Namespace != namespace) {
			continue
		}
		ds := &DeploymentState{Deployment: &d}
		recs, _ := m.deploymentPods(ctx, d.Namespace, d.Name)
		for _, r := range recs {
			ds.Pods = append(ds.Pods, m.state(ctx, r))
		}
		sort.Slice(ds.Pods, func(i, j int) bool { return ds.Pods[i].Created.Before(ds.Pods[j].Created) })
		out = append(out, ds)
	}
	return out, nil
}

// DeleteDeployment removes a deployment and its pods.
func (m *Manager) DeleteDeployment(ctx context.Context, namespace, name string, grace *time.Duration) error {
	unlock, err := m.lockDeployment(ctx, namespace, name)
	if err != nil {
		return err
	}
	defer unlock()
	recs, err := m.deploymentPods(ctx, namespace, name)
	if err != nil {
		return err
	}
	d, _ := m.loadDeployment(namespace, name)
	if d == nil && len(recs) == 0 {
		return fmt.Errorf("%w: deployment %q in namespace %q (list them with 'podsim get deployments')", ErrPodNotFound, name, namespace)
	}
	var errs []error
	for _, r := range recs {
		g := gracePeriod(&r.Pod)
		if grace != nil {
			g = *grace
		}
		if err := m.DeletePod(ctx, namespace, r.Pod.Name, g); err != nil && !errors.Is(err, ErrPodNotFound) {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(m.deploymentFile(namespace, name)); err != nil && !os.IsNotExist(err) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ResolvePod turns "deploy/NAME", "deployment/NAME", "pod/NAME" or "NAME"
// into a pod name, as kubectl exec/logs do (the first running pod of a
// deployment).
func (m *Manager) ResolvePod(ctx context.Context, namespace, ref string) (string, error) {
	kind, name, ok := cutSlash(ref)
	if !ok {
		return ref, nil
	}
	switch kind {
	case "pod", "pods", "po":
		return name, nil
	case "deploy", "deployment", "deployments":
		recs, err := m.deploymentPods(ctx, namespace, name)
		if err != nil {
			return "", err
		}
		for _, r := range recs {
			if m.state(ctx, r).StatusText() == "Running" {
				return r.Pod.Name, nil
			}
		}
		if len(recs) > 0 {
			return recs[0].Pod.Name, nil
		}
		return "", fmt.Errorf("%w: deployment %q has no pods (see 'podsim get deployments')", ErrPodNotFound, name)
	}
	return "", fmt.Errorf("%q: unknown resource type %q: use pod/NAME or deploy/NAME", ref, kind)
}

func cutSlash(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return "", s, false
}
