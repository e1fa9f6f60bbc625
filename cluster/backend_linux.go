package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podsim/podsim/sandbox"
	"github.com/podsim/podsim/scenarios"
)

// ScenarioLabel marks the namespaces podsim makes for scenarios.
const ScenarioLabel = "podsim.io/scenario"

// Backend runs one scenario on a cluster: its objects in one namespace,
// exec through the API server, the kernel read through a node-reader pod.
type Backend struct {
	c         *Cluster
	ns        string
	createdNS bool
	created   []ref
	bg        []func()

	mu      sync.Mutex
	readers map[string]*nodeReader // by node name
	procs   map[string]map[string]int
}

// ref is an object the scenario made.
type ref struct {
	gvr  schema.GroupVersionResource
	kind string
	name string
	sel  labels.Selector // a workload's pods
}

var _ scenarios.Backend = (*Backend)(nil)

// ForScenario makes (or takes) the namespace a scenario runs in and waits
// for its default ServiceAccount, which pods need.
func (c *Cluster) ForScenario(ctx context.Context, scenario string) (*Backend, error) {
	b := &Backend{c: c, ns: c.opts.Namespace, readers: map[string]*nodeReader{}, procs: map[string]map[string]int{}}
	if b.ns == "" {
		suffix := make([]byte, 3)
		_, _ = rand.Read(suffix)
		b.ns = "podsim-" + scenario + "-" + hex.EncodeToString(suffix)
	}
	_, err := c.cs.CoreV1().Namespaces().Get(ctx, b.ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: b.ns, Labels: map[string]string{ScenarioLabel: scenario}}}
		if _, err = c.cs.CoreV1().Namespaces().Create(ctx, nsObj, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("creating namespace %s: %w", b.ns, err)
		}
		b.createdNS = true
	} else if err != nil {
		return nil, fmt.Errorf("namespace %s: %w", b.ns, err)
	}
	err = poll(ctx, 60*time.Second, func() (bool, error) {
		_, err := c.cs.CoreV1().ServiceAccounts(b.ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		return b, errors.Join(fmt.Errorf("waiting for ServiceAccount default in %s (is kube-controller-manager running?): %w", b.ns, err), b.Finish(ctx))
	}
	return b, nil
}

func (b *Backend) Name() string      { return b.c.Name() }
func (b *Backend) Namespace() string { return b.ns }

// Has: what this cluster cannot do, with the reason printed on the SKIP.
func (b *Backend) Has(c scenarios.Capability) (bool, string) {
	switch c {
	case scenarios.CapServices:
		if !b.c.dns {
			return false, "the cluster has no DNS Service (kube-system/kube-dns), so Service names do not resolve; make cluster-up's cluster also runs no kube-proxy (no NAT on this machine), so Service IPs are not routed either — on a cluster with DNS and kube-proxy this check runs"
		}
		return true, ""
	case scenarios.CapPodsimRecord:
		return false, "this reads podsim's own record of the pod (CNI result, netns pin, runtime state); a cluster's API does not expose the kubelet's and the CRI's equivalents"
	case scenarios.CapDebug:
		return false, "ephemeral debug containers are added with podsim's runtime here; through the API they need the pods/ephemeralcontainers subresource, which podsim does not drive yet"
	case scenarios.CapUserNamespaces:
		if b.c.rt.userNamespaces() {
			return true, ""
		}
		return false, fmt.Sprintf("the cluster's runtime (node %s: %s) reports no user namespace support (node status runtimeHandlers[].features.userNamespaces: %s), so a hostUsers: false pod cannot get a user namespace there%s — on a node whose runtime reports it this scenario runs",
			b.c.rt.node, b.c.rt.version, b.c.rt.handlers(), b.c.rt.containerd1())
	case scenarios.CapRuntimeClass:
		if b.c.rt.gvisorClass {
			return true, ""
		}
		return false, fmt.Sprintf("the cluster has no RuntimeClass gvisor (node.k8s.io/v1), and its runtime (node %s: %s) reports no runsc handler (node status runtimeHandlers: %s)%s — on a cluster with gVisor's runsc and a RuntimeClass gvisor this scenario runs",
			b.c.rt.node, b.c.rt.version, b.c.rt.handlers(), b.c.rt.containerd1())
	}
	return false, "unknown capability " + string(c)
}

// Apply applies each object with server-side apply (field manager podsim)
// and waits for the pods it makes.
func (b *Backend) Apply(ctx context.Context, manifest string, out io.Writer) error {
	objs, err := parseManifest(manifest)
	if err != nil {
		return err
	}
	var wait []ref
	for _, o := range objs {
		r, err := b.applyOne(ctx, o)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s/%s applied (%s, namespace %s)\n", strings.ToLower(o.GetKind()), o.GetName(), b.Name(), b.ns)
		if _, ok := podSpecPath[o.GetKind()]; ok {
			wait = append(wait, r)
		}
	}
	for _, r := range wait {
		if err := b.waitUp(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

func (b *Backend) applyOne(ctx context.Context, o *unstructured.Unstructured) (ref, error) {
	if err := adapt(o, b.c.node, b.c.opts.PullPolicy); err != nil {
		return ref{}, fmt.Errorf("%s/%s: %w", o.GetKind(), o.GetName(), err)
	}
	gvk := o.GroupVersionKind()
	m, err := b.c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return ref{}, fmt.Errorf("%s %s: the cluster does not serve this kind: %w", gvk, o.GetName(), err)
	}
	o.SetNamespace(b.ns)
	r := ref{gvr: m.Resource, kind: o.GetKind(), name: o.GetName()}
	if sel, found, _ := unstructured.NestedMap(o.Object, "spec", "selector", "matchLabels"); found {
		set := labels.Set{}
		for k, v := range sel {
			set[k] = fmt.Sprint(v)
		}
		r.sel = set.AsSelector()
	}
	res := b.c.dyn.Resource(m.Resource).Namespace(b.ns)
	_, getErr := res.Get(ctx, o.GetName(), metav1.GetOptions{})
	if _, err := res.Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: "podsim", Force: true}); err != nil {
		return r, fmt.Errorf("applying %s/%s to %s: %w", o.GetKind(), o.GetName(), b.ns, err)
	}
	// Objects that were there before are not the scenario's to delete.
	if apierrors.IsNotFound(getErr) && !slices.ContainsFunc(b.created, func(c ref) bool { return c.gvr == r.gvr && c.name == r.name }) {
		b.created = append(b.created, r)
	}
	return r, nil
}

func (b *Backend) ApplySecret(ctx context.Context, s *corev1.Secret) error {
	s = s.DeepCopy()
	s.Namespace = b.ns
	s.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(s)
	if err != nil {
		return err
	}
	_, err = b.applyOne(ctx, &unstructured.Unstructured{Object: obj})
	return err
}

func (b *Backend) Track(kind, name string) {
	gvr := corev1.SchemeGroupVersion.WithResource(strings.ToLower(kind) + "s")
	b.created = append(b.created, ref{gvr: gvr, kind: kind, name: name})
}

// Procs finds the host PIDs of the pod's sandbox and containers on its
// node, from the container IDs in the pod's status (see nodeReader.pids).
func (b *Backend) Procs(ctx context.Context, pod string) (*scenarios.Procs, error) {
	p, err := b.c.cs.CoreV1().Pods(b.ns).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	ids := map[string]string{} // container ID -> name
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses, p.Status.EphemeralContainerStatuses} {
		for _, s := range list {
			if s.State.Running != nil && s.ContainerID != "" {
				_, id, _ := strings.Cut(s.ContainerID, "://")
				ids[id] = s.Name
			}
		}
	}
	key := string(p.UID)
	for id := range ids {
		key += "," + id
	}
	b.mu.Lock()
	cached := b.procs[key]
	b.mu.Unlock()
	if cached == nil && p.Spec.NodeName != "" {
		r, err := b.reader(ctx, p.Spec.NodeName)
		if err == nil {
			cached, err = r.pids(ctx, p.UID, ids)
		}
		if err != nil {
			// The pod is there; its processes are not readable: PIDs stay 0
			// and kernel checks say why through Node().
			cached = map[string]int{}
		} else {
			b.mu.Lock()
			b.procs[key] = cached
			b.mu.Unlock()
		}
	}
	pids := map[string]int{}
	for k, v := range cached {
		pids[k] = v
	}
	return &scenarios.Procs{Pod: p, PID: pids}, nil
}

func (b *Backend) Logs(ctx context.Context, pod, container string) (string, error) {
	raw, err := b.c.cs.CoreV1().Pods(b.ns).GetLogs(pod, &corev1.PodLogOptions{Container: container}).DoRaw(ctx)
	return string(raw), err
}

func (b *Backend) PreviousLogs(ctx context.Context, pod, container string) (string, error) {
	raw, err := b.c.cs.CoreV1().Pods(b.ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, Previous: true}).DoRaw(ctx)
	return string(raw), err
}

// Events lists the events about the pod, found by name, oldest first: a
// scenario's namespace is its own and new, so no earlier pod of the same
// name can have left events there.
func (b *Backend) Events(ctx context.Context, pod string) ([]corev1.Event, error) {
	list, err := b.c.cs.CoreV1().Events(b.ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=Pod,involvedObject.name=" + pod})
	if err != nil {
		return nil, err
	}
	evs := list.Items
	sort.SliceStable(evs, func(i, j int) bool { return eventTime(evs[i]).Before(eventTime(evs[j])) })
	return evs, nil
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	}
	return e.EventTime.Time
}

// Label is `kubectl label --overwrite`: a merge patch of the labels.
func (b *Backend) Label(ctx context.Context, pod string, set map[string]string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": set}})
	if err != nil {
		return err
	}
	_, err = b.c.cs.CoreV1().Pods(b.ns).Patch(ctx, pod, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "podsim"})
	return err
}

// VolumeDir is the kubelet's directory of the volume,
// <root-dir>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>, seen by the
// node reader through the kubelet's root (/proc/<kubelet>/root), the
// root-dir read from the kubelet's command line.
func (b *Backend) VolumeDir(ctx context.Context, pod, volume string) (string, error) {
	p, err := b.c.cs.CoreV1().Pods(b.ns).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	n, err := b.Node(ctx, pod)
	if err != nil {
		return "", err
	}
	r := n.(*nodeReader)
	if r.rootDir == "" {
		return "", fmt.Errorf("no kubelet process found on node %s: its root directory is unknown", r.node)
	}
	for _, v := range p.Spec.Volumes {
		if v.Name == volume {
			plugin := sandbox.VolumePluginDir(&v)
			if plugin == "" {
				return "", fmt.Errorf("volume %s of pod %s has no directory of its own under the kubelet's", volume, pod)
			}
			return fmt.Sprintf("/proc/%d/root%s", r.host, path.Join(r.rootDir, "pods", string(p.UID), "volumes", plugin, volume)), nil
		}
	}
	return "", fmt.Errorf("pod %s has no volume %s", pod, volume)
}

// PodOf returns the newest pod of a Deployment that is not being deleted.
func (b *Backend) PodOf(ctx context.Context, deployment string) (string, error) {
	d, err := b.c.cs.AppsV1().Deployments(b.ns).Get(ctx, deployment, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return "", err
	}
	pods, err := b.c.cs.CoreV1().Pods(b.ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return "", err
	}
	var best *corev1.Pod
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp == nil && (best == nil || p.CreationTimestamp.After(best.CreationTimestamp.Time)) {
			best = p
		}
	}
	if best == nil {
		return "", fmt.Errorf("deployment %s has no pod", deployment)
	}
	return best.Name, nil
}

// Node is the reader pod on pod's node; "" is the node pods are bound to,
// or the cluster's only node.
func (b *Backend) Node(ctx context.Context, pod string) (scenarios.Node, error) {
	node := b.c.node
	if pod != "" {
		p, err := b.c.cs.CoreV1().Pods(b.ns).Get(ctx, pod, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		node = p.Spec.NodeName
	}
	if node == "" && len(b.c.nodes) == 1 {
		node = b.c.nodes[0]
	}
	if node == "" {
		return nil, fmt.Errorf("the cluster has %d nodes and the scenario's pods are not bound to one (pass --node NAME)", len(b.c.nodes))
	}
	return b.reader(ctx, node)
}

// Finish stops background execs and deletes what the scenario made: the
// pods first with a short grace period (the scenarios' sleep and nc run as
// PID 1 and ignore SIGTERM), then the objects, then the namespace if podsim
// made it, and waits until they are gone so the next scenario starts clean.
func (b *Backend) Finish(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	for _, stop := range b.bg {
		stop()
	}
	b.bg = nil
	grace := int64(1)
	del := metav1.DeleteOptions{GracePeriodSeconds: &grace}
	pods := b.c.cs.CoreV1().Pods(b.ns)
	var errs []error
	for i := len(b.created) - 1; i >= 0; i-- {
		r := b.created[i]
		err := b.c.dyn.Resource(r.gvr).Namespace(b.ns).Delete(ctx, r.name, del)
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting %s/%s: %w", r.kind, r.name, err))
		}
	}
	for _, r := range b.readers {
		if err := pods.Delete(ctx, r.pod, del); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	// Pods of the workloads (their owners' garbage collector would use the
	// pods' own 30 s grace period).
	if err := b.deleteOwnedPods(ctx, del); err != nil {
		errs = append(errs, err)
	}
	if b.createdNS {
		if err := b.c.cs.CoreV1().Namespaces().Delete(ctx, b.ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting namespace %s: %w", b.ns, err))
		}
		err := poll(ctx, 2*time.Minute, func() (bool, error) {
			_, err := b.c.cs.CoreV1().Namespaces().Get(ctx, b.ns, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("namespace %s is still there: %w", b.ns, err))
		}
	}
	b.created = nil
	return errors.Join(errs...)
}

// deleteOwnedPods deletes, with del, the pods of the scenario's workloads
// and its own pods, and waits until they are gone.
func (b *Backend) deleteOwnedPods(ctx context.Context, del metav1.DeleteOptions) error {
	pods := b.c.cs.CoreV1().Pods(b.ns)
	var names []string
	for _, r := range b.created {
		if r.kind == "Pod" {
			names = append(names, r.name)
		}
		if r.sel == nil {
			continue
		}
		list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: r.sel.String()})
		if err != nil {
			return err
		}
		for _, p := range list.Items {
			names = append(names, p.Name)
			if err := pods.Delete(ctx, p.Name, del); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
	}
	for _, r := range b.readers {
		names = append(names, r.pod)
	}
	return poll(ctx, 90*time.Second, func() (bool, error) {
		for _, n := range names {
			if _, err := pods.Get(ctx, n, metav1.GetOptions{}); err == nil {
				return false, nil
			}
		}
		return true, nil
	})
}

// waitUp waits until a pod, or every pod of a workload, is up (podUp);
// the error shows the pod's status and events.
func (b *Backend) waitUp(ctx context.Context, r ref) error {
	pods := b.c.cs.CoreV1().Pods(b.ns)
	var last *corev1.Pod
	var stuck error
	err := poll(ctx, b.c.opts.Timeout, func() (bool, error) {
		var list []corev1.Pod
		if r.kind == "Pod" {
			p, err := pods.Get(ctx, r.name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			list = []corev1.Pod{*p}
		} else {
			ok, err := b.rolledOut(ctx, r)
			if !ok || err != nil {
				return false, err
			}
			l, err := pods.List(ctx, metav1.ListOptions{LabelSelector: r.sel.String()})
			if err != nil || len(l.Items) == 0 {
				return false, nil
			}
			list = l.Items
		}
		for i := range list {
			if list[i].DeletionTimestamp != nil {
				continue
			}
			last = &list[i]
			up, err := podUp(last)
			if err != nil {
				stuck = err
				return false, err
			}
			if !up {
				return false, nil
			}
		}
		return true, nil
	})
	if err == nil {
		return nil
	}
	if stuck == nil {
		stuck = fmt.Errorf("%s/%s did not come up within %s: %w", r.kind, r.name, b.c.opts.Timeout, err)
	}
	if last != nil {
		ev, _ := b.c.cs.CoreV1().Events(b.ns).List(context.WithoutCancel(ctx), metav1.ListOptions{FieldSelector: "involvedObject.name=" + last.Name})
		var events []corev1.Event
		if ev != nil {
			events = ev.Items
		}
		stuck = fmt.Errorf("%w\n%s", stuck, describe(last, events))
	}
	return stuck
}

// rolledOut: a Deployment has made its new pods and retired the old ones
// (what `kubectl rollout status` waits for).
func (b *Backend) rolledOut(ctx context.Context, r ref) (bool, error) {
	if r.kind != "Deployment" {
		return true, nil
	}
	d, err := b.c.cs.AppsV1().Deployments(b.ns).Get(ctx, r.name, metav1.GetOptions{})
	if err != nil {
		return false, nil
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.Replicas == want, nil
}

// poll calls f every 250 ms until it is done, fails, or timeout passes.
func poll(ctx context.Context, timeout time.Duration, f func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		done, err := f()
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// uidMatch is how a pod's UID shows in its cgroup path: pod<uid> with the
// cgroupfs driver, pod<uid_with_underscores> in systemd slice names.
func uidMatch(uid types.UID) []string {
	u := string(uid)
	return []string{"pod" + u, "pod" + strings.ReplaceAll(u, "-", "_")}
}
