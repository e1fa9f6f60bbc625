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
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/podsim/podsim/objects/store"
	"github.com/podsim/podsim/sandbox"
)

// Deployments are kept the way the Deployment and ReplicaSet controllers
// keep them, with the pods of one pod-template-hash standing for one
// ReplicaSet (podsim stores no ReplicaSet objects):
//
//   - `apply` stores the Deployment (the desired state, as the API server
//     would), then drives the rollout to the end, as `kubectl apply` then
//     `kubectl rollout status` would: planRollout decides each round
//     (RollingUpdate within maxSurge/maxUnavailable, or Recreate), pods are
//     created and deleted, and a round that can do nothing waits for new
//     pods to become available, up to progressDeadlineSeconds;
//   - the node agent runs the same reconcile (RunDeploymentController):
//     when a pod of a Deployment is deleted, or was lost in a crash, it
//     creates a replacement, and it finishes a rollout that an interrupted
//     apply left half done.
//
// Pods are named <deployment>-<pod-template-hash>-<suffix>, like the
// ReplicaSet controller's.

// AnnotationDeployment marks pods owned by a deployment.
const AnnotationDeployment = "podsim.io/deployment"

// annotationRolledOut, on the stored Deployment, is the pod-template-hash
// of the template the Deployment last rolled out: while it is paused, the
// pods of that hash are its current ReplicaSet.
const annotationRolledOut = "podsim.io/rolled-out-template-hash"

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

// ApplyDeployment creates or updates a deployment and rolls it out. If a
// pod cannot be built, the Deployment goes back to what was stored before
// (or is removed if it is new) and the pods this apply made are deleted:
// a bad template leaves nothing half-built.
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
	prev, err := m.store.Deployment(d.Namespace, d.Name)
	if err != nil {
		prev = nil // new (or unreadable: replaced by this apply)
	}
	res := &DeploymentResult{Action: "created", Warnings: warns}
	if prev != nil {
		res.Action = "configured"
		if d.Annotations[annotationRolledOut] == "" {
			setAnnotation(&d.ObjectMeta, annotationRolledOut, prev.Annotations[annotationRolledOut])
		}
	}
	if err := m.saveDeployment(d); err != nil {
		return nil, err
	}
	created, err := m.rollout(ctx, d, true)
	res.Pods = created
	if errors.Is(err, sandbox.ErrInitFailed) || errors.Is(err, errProgressDeadline) || errors.Is(err, errRolloutStuck) {
		// Kept as on a cluster (Init:Error pods, a stalled rollout), so the
		// pods' logs and states can be read; the agent keeps trying.
		return res, fmt.Errorf("deployment %s: %w", d.Name, err)
	}
	if err != nil {
		m.undoApply(context.WithoutCancel(ctx), d, prev, created)
		return nil, fmt.Errorf("deployment %s: %w", d.Name, err)
	}
	if prev != nil && len(created) == 0 && equality.Semantic.DeepEqual(prev.Spec, d.Spec) {
		res.Action = "unchanged"
	}
	return res, nil
}

// undoApply puts back the Deployment stored before a failed apply (or
// removes a new one) and deletes the pods that apply created.
func (m *Manager) undoApply(ctx context.Context, d, prev *appsv1.Deployment, created []string) {
	if prev != nil {
		_ = m.saveDeployment(prev)
	} else {
		_ = m.store.Delete(store.Deployments, d.Namespace, d.Name)
	}
	for _, name := range created {
		_ = m.pods.DeletePod(ctx, d.Namespace, name, 0)
	}
	if prev != nil {
		_, _ = m.rollout(ctx, prev, false) // top the old template's pods up again
	}
}

func setAnnotation(o *metav1.ObjectMeta, k, v string) {
	if v == "" {
		return
	}
	if o.Annotations == nil {
		o.Annotations = map[string]string{}
	}
	o.Annotations[k] = v
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
	if rp := d.Spec.Template.Spec.RestartPolicy; rp != "" && rp != corev1.RestartPolicyAlways {
		// The API server's validation: a Deployment's pods run for ever.
		return fmt.Errorf("%w: deployment %s: spec.template.spec.restartPolicy: Unsupported value: %q: supported values: \"Always\"", sandbox.ErrInvalidPod, d.Name, rp)
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
