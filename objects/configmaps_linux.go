package objects

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/podsim/podsim/objects/store"
)

// ConfigMaps and Secrets: podsim stores them (package store: Secrets on
// tmpfs only) and, when one changes, rewrites the volumes of the running
// pods that mount it, as kubelet does on its sync loop (here at once).

// defaultNamespace defaults and checks an object's namespace and name.
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
	action := m.store.Changed(store.ConfigMaps, &cm.ObjectMeta, cm, &old)
	if action != "created" {
		cm.CreationTimestamp = old.CreationTimestamp
		action = m.store.Changed(store.ConfigMaps, &cm.ObjectMeta, cm, &old)
	}
	if action == "unchanged" {
		return action, nil
	}
	return action, m.pods.Locked(ctx, func() error {
		if err := m.store.Save(store.ConfigMaps, &cm.ObjectMeta, cm); err != nil {
			return err
		}
		return m.pods.RefreshProjections(ctx, cm.Namespace, "configMap", cm.Name)
	})
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
	if m.store.Changed(store.Secrets, &s.ObjectMeta, s, &old) != "created" {
		s.CreationTimestamp = old.CreationTimestamp
	}
	action := m.store.Changed(store.Secrets, &s.ObjectMeta, s, &old)
	if action == "unchanged" {
		return action, nil
	}
	return action, m.pods.Locked(ctx, func() error {
		if err := m.store.Save(store.Secrets, &s.ObjectMeta, s); err != nil {
			return err
		}
		return m.pods.RefreshProjections(ctx, s.Namespace, "secret", s.Name)
	})
}

// DeleteConfigMap removes a ConfigMap (mounted copies stay, as in Kubernetes).
func (m *Manager) DeleteConfigMap(namespace, name string) error {
	return m.store.Delete(store.ConfigMaps, namespace, name)
}

// DeleteSecret removes a Secret.
func (m *Manager) DeleteSecret(namespace, name string) error {
	return m.store.Delete(store.Secrets, namespace, name)
}
