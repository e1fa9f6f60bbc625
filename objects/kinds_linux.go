package objects

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/podsim/podsim/objects/store"
	"github.com/podsim/podsim/sandbox"
)

// Kind is one kind of object podsim knows: how kubectl names it, when
// apply and delete handle it relative to the others, and how to find and
// delete one. Kinds is the only place these facts live: apply, delete,
// `podsim get`, the scenarios' cleanup and the tour all read it.
type Kind struct {
	Kind     string   // as in a manifest: "Deployment"
	Resource string   // what kubectl prints: "deployment.apps/web created"
	Plural   string   // for 'podsim get deployments'
	Aliases  []string // what kubectl accepts on its command line, besides Resource and Plural
	// ApplyOrder: what pods mount (ConfigMaps, Secrets) first — podsim
	// has no kubelet retry loop to wait for them — then workloads, then
	// Services, which resolve to the pods just made.
	ApplyOrder int
	// DeleteOrder is apply's, reversed: Services first, so no pod's hosts
	// file names a pod that is going away (and each pod deleted after the
	// last Service rewrites only its own hosts file), then workloads, then
	// what they mounted.
	DeleteOrder int

	exists func(m *Manager, ctx context.Context, namespace, name string) bool
	delete func(m *Manager, ctx context.Context, namespace, name string, grace *time.Duration) error
	names  func(m *Manager, ctx context.Context, namespace string) ([]string, error)
}

// Kinds are the kinds podsim knows, in the order `podsim get` names them.
var Kinds = []*Kind{
	{Kind: "Pod", Resource: "pod", Plural: "pods", Aliases: []string{"po"}, ApplyOrder: 1, DeleteOrder: 1,
		exists: func(m *Manager, ctx context.Context, ns, name string) bool {
			_, err := m.pods.Get(ctx, ns, name)
			return err == nil
		},
		delete: (*Manager).deletePod,
		names: func(m *Manager, ctx context.Context, ns string) ([]string, error) {
			pods, err := m.pods.List(ctx, ns)
			var out []string
			for _, p := range pods {
				out = append(out, p.Pod.Name)
			}
			return out, err
		}},
	{Kind: "Deployment", Resource: "deployment.apps", Plural: "deployments", Aliases: []string{"deployment", "deploy", "deployments.apps"},
		ApplyOrder: 1, DeleteOrder: 1,
		exists: func(m *Manager, ctx context.Context, ns, name string) bool {
			return m.store.Exists(store.Deployments, ns, name)
		},
		delete: (*Manager).DeleteDeployment,
		names: func(m *Manager, ctx context.Context, ns string) ([]string, error) {
			return names(m.store.ListDeployments(ns))
		}},
	{Kind: "Service", Resource: "service", Plural: "services", Aliases: []string{"svc"}, ApplyOrder: 2, DeleteOrder: 0,
		exists: func(m *Manager, ctx context.Context, ns, name string) bool {
			return m.store.Exists(store.Services, ns, name)
		},
		delete: func(m *Manager, ctx context.Context, ns, name string, _ *time.Duration) error {
			return m.DeleteService(ctx, ns, name)
		},
		names: func(m *Manager, ctx context.Context, ns string) ([]string, error) {
			return names(m.store.ListServices(ns))
		}},
	{Kind: "ConfigMap", Resource: "configmap", Plural: "configmaps", Aliases: []string{"cm"}, ApplyOrder: 0, DeleteOrder: 2,
		exists: func(m *Manager, ctx context.Context, ns, name string) bool {
			return m.store.Exists(store.ConfigMaps, ns, name)
		},
		delete: func(m *Manager, ctx context.Context, ns, name string, _ *time.Duration) error {
			return m.DeleteConfigMap(ns, name)
		},
		names: func(m *Manager, ctx context.Context, ns string) ([]string, error) {
			return names(m.store.ListConfigMaps(ns))
		}},
	{Kind: "Secret", Resource: "secret", Plural: "secrets", ApplyOrder: 0, DeleteOrder: 2,
		exists: func(m *Manager, ctx context.Context, ns, name string) bool {
			return m.store.Exists(store.Secrets, ns, name)
		},
		delete: func(m *Manager, ctx context.Context, ns, name string, _ *time.Duration) error {
			return m.DeleteSecret(ns, name)
		},
		names: func(m *Manager, ctx context.Context, ns string) ([]string, error) {
			return names(m.store.ListSecrets(ns))
		}},
	runtimeClassKind, // runtimeclasses_linux.go
}

// names lists the names of a list of objects that have ObjectMeta.
func names[T interface{ GetName() string }](l []T, err error) ([]string, error) {
	var out []string
	for _, o := range l {
		out = append(out, o.GetName())
	}
	return out, err
}

// KindOf finds a kind by any name kubectl accepts for it ("po", "pods",
// "deployment.apps", "svc") or by its manifest kind ("Deployment").
func KindOf(name string) (*Kind, error) {
	n := strings.ToLower(name)
	var known []string
	for _, k := range Kinds {
		if n == strings.ToLower(k.Kind) || n == k.Resource || n == k.Plural {
			return k, nil
		}
		for _, a := range k.Aliases {
			if n == a {
				return k, nil
			}
		}
		known = append(known, k.Plural)
	}
	return nil, fmt.Errorf("the server doesn't have a resource type %q: podsim knows %s and %s",
		name, strings.Join(known[:len(known)-1], ", "), known[len(known)-1])
}

// mustKind is KindOf for a manifest kind, which ParseManifests has checked.
func mustKind(kind string) *Kind {
	k, err := KindOf(kind)
	if err != nil {
		panic(err)
	}
	return k
}

// Ref names one object of a namespace.
type Ref struct {
	Kind *Kind
	Name string
}

func (r Ref) String() string { return r.Kind.Resource + "/" + r.Name }

// RefOf is the Ref of a parsed manifest object.
func RefOf(o sandbox.Object) Ref { return Ref{Kind: mustKind(o.Kind()), Name: o.Name()} }

// Exists reports whether the object exists.
func (m *Manager) Exists(ctx context.Context, namespace string, r Ref) bool {
	return r.Kind.exists(m, ctx, namespace, r.Name)
}

// Names lists the names of every object of a kind in the namespace.
func (m *Manager) Names(ctx context.Context, namespace string, k *Kind) ([]string, error) {
	return k.names(m, ctx, namespace)
}

// DeleteOptions are delete's flags.
type DeleteOptions struct {
	// Grace replaces the pods' terminationGracePeriodSeconds (nil: keep it).
	Grace *time.Duration
	// IgnoreNotFound counts an object that does not exist as deleted
	// (kubectl delete --ignore-not-found).
	IgnoreNotFound bool
}

// IsNotFound reports whether err says an object (a pod or another kind)
// does not exist.
func IsNotFound(err error) bool {
	return errors.Is(err, sandbox.ErrPodNotFound) || errors.Is(err, store.ErrNotFound)
}

// Delete deletes objects in the kinds' delete order (objects of one kind
// keep the order given), going on after an error; report (may be nil) is
// called for each with its outcome, nil when it was deleted. It returns
// every error.
func (m *Manager) Delete(ctx context.Context, namespace string, refs []Ref, o DeleteOptions, report func(Ref, error)) error {
	refs = append([]Ref(nil), refs...)
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].Kind.DeleteOrder < refs[j].Kind.DeleteOrder })
	var errs []error
	for _, r := range refs {
		err := r.Kind.delete(m, ctx, namespace, r.Name, o.Grace)
		if o.IgnoreNotFound && IsNotFound(err) {
			continue
		}
		if report != nil {
			report(r, err)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deletePod deletes a pod with its own grace period unless grace is given.
func (m *Manager) deletePod(ctx context.Context, namespace, name string, grace *time.Duration) error {
	g := 30 * time.Second
	owned := false
	if st, err := m.pods.Get(ctx, namespace, name); err == nil {
		g = sandbox.GracePeriod(&st.Pod)
		owned = st.Pod.Annotations[AnnotationDeployment] != ""
	}
	if grace != nil {
		g = *grace
	}
	if err := m.pods.DeletePod(ctx, namespace, name, g); err != nil {
		return err
	}
	if owned {
		// Its Deployment replaces it: the node agent runs the controller.
		m.pods.EnsureAgent()
	}
	return nil
}
