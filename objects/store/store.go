// Package store keeps the API objects that are not pods — Deployments,
// Services, ConfigMaps, Secrets — as JSON files, one per object: what etcd
// is to a cluster. It is plain file I/O with no Kubernetes logic, so both
// the pod runtime (package sandbox reads ConfigMaps and Secrets for volumes
// and Services for /etc/hosts) and the controllers (package objects) can
// use it without depending on each other.
//
// Secrets live under the run directory, which is a tmpfs (/run): like
// kubelet, podsim never writes secret data to disk.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ErrNotFound means a Deployment, Service, ConfigMap or Secret does not exist.
var ErrNotFound = errors.New("object not found")

// The kinds the store keeps, as the plural names of their directories.
const (
	Deployments = "deployments"
	Services    = "services"
	ConfigMaps  = "configmaps"
	Secrets     = "secrets"
)

// Store is the object store below podsim's state and run directories.
type Store struct {
	state, run string
}

// New returns the store of the state directory (persistent, /var/lib/podsim)
// and the run directory (tmpfs, /run/podsim).
func New(stateDir, runDir string) *Store { return &Store{state: stateDir, run: runDir} }

// Dir is the directory of one kind.
func (s *Store) Dir(kind string) string {
	switch kind {
	case Secrets:
		return filepath.Join(s.run, "objects", kind)
	case Deployments:
		return filepath.Join(s.state, kind)
	}
	return filepath.Join(s.state, "objects", kind)
}

// Dirs are the directories of every kind (gc's inventory lists them).
func (s *Store) Dirs() []string {
	return []string{s.Dir(Deployments), s.Dir(Services), s.Dir(ConfigMaps), s.Dir(Secrets), s.Dir(RuntimeClasses)}
}

func (s *Store) file(kind, namespace, name string) string {
	return filepath.Join(s.Dir(kind), namespace+"_"+name+".json")
}

// notFound names the object in the error: `service "web" in namespace "default"`.
func notFound(kind, namespace, name string) error {
	return fmt.Errorf("%w: %s %q in namespace %q", ErrNotFound, strings.TrimSuffix(kind, "s"), name, namespace)
}

// Put writes an object, replacing the file in one rename so a reader never
// sees half of it.
func (s *Store) Put(kind, namespace, name string, obj any) error {
	if err := os.MkdirAll(s.Dir(kind), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(obj, "", "  ")
	if err != nil {
		return err
	}
	p := s.file(kind, namespace, name)
	if err := os.WriteFile(p+".tmp", b, 0o600); err != nil {
		return err
	}
	return os.Rename(p+".tmp", p)
}

// Save writes an object and gives it a creationTimestamp if it has none,
// as the API server does on create.
func (s *Store) Save(kind string, meta *metav1.ObjectMeta, obj any) error {
	if meta.CreationTimestamp.IsZero() {
		meta.CreationTimestamp = metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	}
	return s.Put(kind, meta.Namespace, meta.Name, obj)
}

// Load reads one object into into; ErrNotFound if there is none.
func (s *Store) Load(kind, namespace, name string, into any) error {
	b, err := os.ReadFile(s.file(kind, namespace, name))
	if err != nil {
		if os.IsNotExist(err) {
			return notFound(kind, namespace, name)
		}
		return err
	}
	return json.Unmarshal(b, into)
}

// Exists reports whether an object is stored.
func (s *Store) Exists(kind, namespace, name string) bool {
	_, err := os.Stat(s.file(kind, namespace, name))
	return err == nil
}

// Delete removes an object; ErrNotFound if there is none.
func (s *Store) Delete(kind, namespace, name string) error {
	err := os.Remove(s.file(kind, namespace, name))
	if os.IsNotExist(err) {
		return notFound(kind, namespace, name)
	}
	return err
}

// list reads every object of a kind ("" = every namespace) in file order
// (namespace_name), then sorted by name if name is given.
func list[T any](s *Store, kind, namespace string, name func(*T) string) ([]*T, error) {
	ents, err := os.ReadDir(s.Dir(kind))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var out []*T
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") || (namespace != "" && !strings.HasPrefix(e.Name(), namespace+"_")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.Dir(kind), e.Name()))
		if err != nil {
			continue
		}
		v := new(T)
		if json.Unmarshal(b, v) == nil {
			out = append(out, v)
		}
	}
	if name != nil {
		sort.SliceStable(out, func(i, j int) bool { return name(out[i]) < name(out[j]) })
	}
	return out, nil
}

// Changed compares obj with the stored object of the same name, which it
// reads into old: "created" (none stored), "unchanged" or "configured" —
// the words kubectl apply prints.
func (s *Store) Changed(kind string, meta *metav1.ObjectMeta, obj, old any) string {
	if err := s.Load(kind, meta.Namespace, meta.Name, old); err != nil {
		return "created"
	}
	a, _ := json.Marshal(obj)
	b, _ := json.Marshal(old)
	if string(a) == string(b) {
		return "unchanged"
	}
	return "configured"
}

// ConfigMap reads one ConfigMap.
func (s *Store) ConfigMap(namespace, name string) (*corev1.ConfigMap, error) {
	var cm corev1.ConfigMap
	return &cm, s.Load(ConfigMaps, namespace, name, &cm)
}

// Secret reads one Secret.
func (s *Store) Secret(namespace, name string) (*corev1.Secret, error) {
	var sec corev1.Secret
	return &sec, s.Load(Secrets, namespace, name, &sec)
}

// Deployment reads one Deployment.
func (s *Store) Deployment(namespace, name string) (*appsv1.Deployment, error) {
	var d appsv1.Deployment
	return &d, s.Load(Deployments, namespace, name, &d)
}

// ListServices lists Services ("" = every namespace), by name.
func (s *Store) ListServices(namespace string) ([]*corev1.Service, error) {
	return list(s, Services, namespace, func(o *corev1.Service) string { return o.Name })
}

// ListConfigMaps lists ConfigMaps, by name.
func (s *Store) ListConfigMaps(namespace string) ([]*corev1.ConfigMap, error) {
	return list(s, ConfigMaps, namespace, func(o *corev1.ConfigMap) string { return o.Name })
}

// ListSecrets lists Secrets, by name.
func (s *Store) ListSecrets(namespace string) ([]*corev1.Secret, error) {
	return list(s, Secrets, namespace, func(o *corev1.Secret) string { return o.Name })
}

// ListDeployments lists Deployments, by namespace and name.
func (s *Store) ListDeployments(namespace string) ([]*appsv1.Deployment, error) {
	return list[appsv1.Deployment](s, Deployments, namespace, nil)
}
