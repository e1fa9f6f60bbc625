package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// podsim keeps the API objects pods refer to (Services, ConfigMaps,
// Secrets) as JSON files, one per object: what etcd is to a cluster.
// Secrets live under the run directory, which is a tmpfs (/run): like
// kubelet, podsim never writes secret data to disk.

// ErrObjectNotFound means a Service, ConfigMap or Secret does not exist.
var ErrObjectNotFound = errors.New("object not found")

func (m *Manager) objectDir(kind string) string {
	if kind == "secrets" {
		return filepath.Join(m.paths.Run, "objects", kind)
	}
	return filepath.Join(m.paths.State, "objects", kind)
}

func (m *Manager) objectFile(kind, namespace, name string) string {
	return filepath.Join(m.objectDir(kind), namespace+"_"+name+".json")
}

func (m *Manager) saveObject(kind string, meta *metav1.ObjectMeta, obj any) error {
	dir := m.objectDir(kind)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if meta.CreationTimestamp.IsZero() {
		meta.CreationTimestamp = metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	}
	b, err := json.MarshalIndent(obj, "", "  ")
	if err != nil {
		return err
	}
	p := m.objectFile(kind, meta.Namespace, meta.Name)
	if err := os.WriteFile(p+".tmp", b, 0o600); err != nil {
		return err
	}
	return os.Rename(p+".tmp", p)
}

func (m *Manager) loadObject(kind, namespace, name string, into any) error {
	b, err := os.ReadFile(m.objectFile(kind, namespace, name))
	if err != nil {
		if os.IsNotExist(err) {
			return fmt.Errorf("%w: %s %q in namespace %q", ErrObjectNotFound, strings.TrimSuffix(kind, "s"), name, namespace)
		}
		return err
	}
	return json.Unmarshal(b, into)
}

func listObjects[T any](m *Manager, kind, namespace string) ([]*T, error) {
	ents, err := os.ReadDir(m.objectDir(kind))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var out []*T
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") || (namespace != "" && !strings.HasPrefix(e.Name(), namespace+"_")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(m.objectDir(kind), e.Name()))
		if err != nil {
			continue
		}
		v := new(T)
		if json.Unmarshal(b, v) == nil {
			out = append(out, v)
		}
	}
	return out, nil
}

func (m *Manager) deleteObject(kind, namespace, name string) error {
	err := os.Remove(m.objectFile(kind, namespace, name))
	if os.IsNotExist(err) {
		return fmt.Errorf("%w: %s %q in namespace %q", ErrObjectNotFound, strings.TrimSuffix(kind, "s"), name, namespace)
	}
	return err
}

// applyAction compares an object with what is stored.
func (m *Manager) applyAction(kind string, meta *metav1.ObjectMeta, newObj any, old any) string {
	if err := m.loadObject(kind, meta.Namespace, meta.Name, old); err != nil {
		return "created"
	}
	a, _ := json.Marshal(newObj)
	b, _ := json.Marshal(old)
	if string(a) == string(b) {
		return "unchanged"
	}
	return "configured"
}

func defaultNamespace(meta *metav1.ObjectMeta) error {
	if meta.Namespace == "" {
		meta.Namespace = "default"
	}
	if msgs := validation.IsDNS1123Label(meta.Namespace); len(msgs) > 0 {
		return fmt.Errorf("metadata.namespace %q is not valid: %s", meta.Namespace, strings.Join(msgs, ", "))
	}
	if meta.Name == "" {
		return errors.New("metadata.name is required")
	}
	if msgs := validation.IsDNS1123Subdomain(meta.Name); len(msgs) > 0 {
		return fmt.Errorf("metadata.name %q is not valid: %s", meta.Name, strings.Join(msgs, ", "))
	}
	return nil
}

// validKey checks a ConfigMap/Secret key (a file name in the volume).
func validKey(k string) error {
	if msgs := validation.IsConfigMapKey(k); len(msgs) > 0 {
		return fmt.Errorf("key %q is not valid: %s", k, strings.Join(msgs, ", "))
	}
	return nil
}

// ApplyConfigMap stores a ConfigMap and refreshes the volumes of the pods
// that mount it, as kubelet does on its sync loop (here at once).
func (m *Manager) ApplyConfigMap(ctx context.Context, cm *corev1.ConfigMap) (string, error) {
	cm = cm.DeepCopy()
	if err := defaultNamespace(&cm.ObjectMeta); err != nil {
		return "", fmt.Errorf("configmap: %w", err)
	}
	for k := range cm.Data {
		if err := validKey(k); err != nil {
			return "", fmt.Errorf("configmap %s: %w", cm.Name, err)
		}
	}
	for k := range cm.BinaryData {
		if err := validKey(k); err != nil {
			return "", fmt.Errorf("configmap %s: %w", cm.Name, err)
		}
	}
	cm.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}
	var old corev1.ConfigMap
	action := m.applyAction("configmaps", &cm.ObjectMeta, cm, &old)
	if action != "created" {
		cm.CreationTimestamp = old.CreationTimestamp
		action = m.applyAction("configmaps", &cm.ObjectMeta, cm, &old)
	}
	if action == "unchanged" {
		return action, nil
	}
	unlock, err := m.lock(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	if err := m.saveObject("configmaps", &cm.ObjectMeta, cm); err != nil {
		return "", err
	}
	return action, m.refreshProjections(ctx, cm.Namespace, "configMap", cm.Name)
}

// ApplySecret stores a Secret (on tmpfs) and refreshes the pods' volumes.
func (m *Manager) ApplySecret(ctx context.Context, s *corev1.Secret) (string, error) {
	s = s.DeepCopy()
	if err := defaultNamespace(&s.ObjectMeta); err != nil {
		return "", fmt.Errorf("secret: %w", err)
	}
	// stringData is write-only sugar for data, merged as the API server does.
	if len(s.StringData) > 0 {
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
		s.StringData = nil
	}
	for k := range s.Data {
		if err := validKey(k); err != nil {
			return "", fmt.Errorf("secret %s: %w", s.Name, err)
		}
	}
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
	if s.Type == corev1.SecretTypeTLS {
		if len(s.Data[corev1.TLSCertKey]) == 0 || len(s.Data[corev1.TLSPrivateKeyKey]) == 0 {
			return "", fmt.Errorf("secret %s of type kubernetes.io/tls needs data keys tls.crt and tls.key", s.Name)
		}
	}
	s.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}
	var old corev1.Secret
	if m.applyAction("secrets", &s.ObjectMeta, s, &old) != "created" {
		s.CreationTimestamp = old.CreationTimestamp
	}
	action := m.applyAction("secrets", &s.ObjectMeta, s, &old)
	if action == "unchanged" {
		return action, nil
	}
	unlock, err := m.lock(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	if err := m.saveObject("secrets", &s.ObjectMeta, s); err != nil {
		return "", err
	}
	return action, m.refreshProjections(ctx, s.Namespace, "secret", s.Name)
}

// ConfigMaps lists ConfigMaps ("" = every namespace).
func (m *Manager) ConfigMaps(namespace string) ([]*corev1.ConfigMap, error) {
	l, err := listObjects[corev1.ConfigMap](m, "configmaps", namespace)
	sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	return l, err
}

// Secrets lists Secrets.
func (m *Manager) Secrets(namespace string) ([]*corev1.Secret, error) {
	l, err := listObjects[corev1.Secret](m, "secrets", namespace)
	sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	return l, err
}

// DeleteConfigMap removes a ConfigMap (mounted copies stay, as in Kubernetes).
func (m *Manager) DeleteConfigMap(namespace, name string) error {
	return m.deleteObject("configmaps", namespace, name)
}

// DeleteSecret removes a Secret.
func (m *Manager) DeleteSecret(namespace, name string) error {
	return m.deleteObject("secrets", namespace, name)
}

func (m *Manager) configMap(namespace, name string) (*corev1.ConfigMap, error) {
	var cm corev1.ConfigMap
	return &cm, m.loadObject("configmaps", namespace, name, &cm)
}

func (m *Manager) secret(namespace, name string) (*corev1.Secret, error) {
	var s corev1.Secret
	return &s, m.loadObject("secrets", namespace, name, &s)
}
