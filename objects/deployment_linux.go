package objects

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/podsim/podsim/objects/store"
	"github.com/podsim/podsim/sandbox"
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
	Pods       []*sandbox.PodState
}

// DeploymentResult says what apply did ("created", "configured",
// "unchanged") and the pods it made.
type DeploymentResult struct {
	Action   string
	Pods     []string
	Warnings []string // fields of the Deployment podsim does not act on, by name
}

// ApplyDeployment creates or updates a deployment.
func (m *Manager) ApplyDeployment(ctx context.Context, d *appsv1.Deployment) (*DeploymentResult, error) {
	d = d.DeepCopy()
	if d.Namespace == "" {
		d.Namespace = "default"
	}
	if err := validateDeployment(d); err != nil {
		return nil, err
	}
	warns, _ := sandbox.CheckDeploymentFields(d)
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
	old, err := m.deploymentPods(d.Namespace, d.Name)
	if err != nil {
		return nil, err
	}
	prev := m.store.Exists(store.Deployments, d.Namespace, d.Name)
	res := &DeploymentResult{Action: "created", Warnings: warns}
	if prev {
		res.Action = "configured"
	}
	var keep, stale []*sandbox.Record
	for _, r := range old {
		if r.Pod.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == hash {
			keep = append(keep, r)
		} else {
			stale = append(stale, r)
		}
	}
	if len(stale) == 0 && len(keep) == replicas && prev {
		res.Action = "unchanged"
	}
	var created []*sandbox.Record
	for i := len(keep); i < replicas; i++ {
		pod := podFromTemplate(d, hash)
		rec, err := m.pods.CreatePod(ctx, pod)
		if errors.Is(err, sandbox.ErrInitFailed) {
			// Kept like any pod whose init failed (Init:Error), so its logs can be read.
			_ = m.saveDeployment(d)
			return nil, fmt.Errorf("deployment %s: %w", d.Name, err)
		}
		if err != nil {
			// Roll back this apply's new pods; the old ones keep serving.
			for _, c := range created {
				_ = m.pods.DeletePod(context.WithoutCancel(ctx), c.Pod.Namespace, c.Pod.Name, 0)
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
		if err := m.pods.DeletePod(ctx, r.Pod.Namespace, r.Pod.Name, sandbox.GracePeriod(&r.Pod)); err != nil && !errors.Is(err, sandbox.ErrPodNotFound) {
			errs = append(errs, err)
		}
	}
	if err := m.saveDeployment(d); err != nil {
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

// lockDeployment serialises apply and delete of one Deployment across
// podsim processes: each reads the Deployment's pods, then creates or
// removes some, so two at once would both see "one replica missing" and
// both create it. It is taken before (never while holding) the pod lock,
// which CreatePod and DeletePod take per pod inside it.
func (m *Manager) lockDeployment(ctx context.Context, namespace, name string) (func(), error) {
	return m.pods.FileLock(ctx, filepath.Join("deployments", namespace+"_"+name+".lock"),
		"another podsim command applying or deleting deployment "+namespace+"/"+name)
}

func validateDeployment(d *appsv1.Deployment) error {
	if d.Name == "" {
		return fmt.Errorf("%w: deployment: metadata.name is required", sandbox.ErrInvalidPod)
	}
	if d.Spec.Selector == nil {
		return fmt.Errorf("%w: deployment %s: spec.selector is required", sandbox.ErrInvalidPod, d.Name)
	}
	if _, err := sandbox.CheckDeploymentFields(d); err != nil {
		return err
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return fmt.Errorf("%w: deployment %s: spec.selector: %w", sandbox.ErrInvalidPod, d.Name, err)
	}
	if sel.Empty() || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		return fmt.Errorf("%w: deployment %s: spec.selector does not match spec.template.metadata.labels", sandbox.ErrInvalidPod, d.Name)
	}
	if d.Spec.Replicas != nil && (*d.Spec.Replicas < 0 || *d.Spec.Replicas > 100) {
		return fmt.Errorf("%w: deployment %s: spec.replicas %d must be between 0 and 100", sandbox.ErrInvalidPod, d.Name, *d.Spec.Replicas)
	}
	// Validate the template as a pod now, so a bad template fails before any pod is touched.
	p := podFromTemplate(d, "x")
	p.Name = d.Name + "-0000000000-xxxxx"
	if _, err := sandbox.Validate(p); err != nil {
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

// deploymentPods are the records of a deployment's pods, found by the
// annotation podFromTemplate puts on them.
func (m *Manager) deploymentPods(namespace, name string) ([]*sandbox.Record, error) {
	recs, err := m.pods.Records()
	if err != nil {
		return nil, err
	}
	var out []*sandbox.Record
	for _, r := range recs {
		if r.Pod.Namespace == namespace && r.Pod.Annotations[AnnotationDeployment] == name {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *Manager) saveDeployment(d *appsv1.Deployment) error {
	d.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}
	return m.store.Put(store.Deployments, d.Namespace, d.Name, d)
}

// Deployments lists deployments with their pods ("" = every namespace).
func (m *Manager) Deployments(ctx context.Context, namespace string) ([]*DeploymentState, error) {
	ds, err := m.store.ListDeployments(namespace)
	if err != nil {
		return nil, err
	}
	pods, err := m.pods.List(ctx, namespace)
	if err != nil {
		return nil, err
	}
	var out []*DeploymentState
	for _, d := range ds {
		st := &DeploymentState{Deployment: d}
		for _, p := range pods {
			if p.Pod.Namespace == d.Namespace && p.Pod.Annotations[AnnotationDeployment] == d.Name {
				st.Pods = append(st.Pods, p)
			}
		}
		sort.Slice(st.Pods, func(i, j int) bool { return st.Pods[i].Created.Before(st.Pods[j].Created) })
		out = append(out, st)
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
	recs, err := m.deploymentPods(namespace, name)
	if err != nil {
		return err
	}
	if !m.store.Exists(store.Deployments, namespace, name) && len(recs) == 0 {
		return fmt.Errorf("%w: deployment %q in namespace %q", sandbox.ErrPodNotFound, name, namespace)
	}
	var errs []error
	for _, r := range recs {
		g := sandbox.GracePeriod(&r.Pod)
		if grace != nil {
			g = *grace
		}
		if err := m.pods.DeletePod(ctx, namespace, r.Pod.Name, g); err != nil && !errors.Is(err, sandbox.ErrPodNotFound) {
			errs = append(errs, err)
		}
	}
	if err := m.store.Delete(store.Deployments, namespace, name); err != nil && !errors.Is(err, store.ErrNotFound) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ResolvePod turns "deploy/NAME", "deployment/NAME", "pod/NAME" or "NAME"
// into a pod name, as kubectl exec/logs do (the first running pod of a
// deployment).
func (m *Manager) ResolvePod(ctx context.Context, namespace, ref string) (string, error) {
	kind, name, ok := strings.Cut(ref, "/")
	if !ok {
		return ref, nil
	}
	k, err := KindOf(kind)
	switch {
	case err == nil && k.Kind == "Pod":
		return name, nil
	case err == nil && k.Kind == "Deployment":
		pods, err := m.pods.List(ctx, namespace)
		if err != nil {
			return "", err
		}
		var first string
		for _, p := range pods { // sorted by name
			if p.Pod.Annotations[AnnotationDeployment] != name {
				continue
			}
			if p.StatusText() == "Running" {
				return p.Pod.Name, nil
			}
			if first == "" {
				first = p.Pod.Name
			}
		}
		if first != "" {
			return first, nil
		}
		return "", fmt.Errorf("%w: deployment %q has no pods", sandbox.ErrPodNotFound, name)
	}
	return "", fmt.Errorf("%q: unknown resource type %q: use pod/NAME or deploy/NAME", ref, kind)
}
