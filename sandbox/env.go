package sandbox

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// envContext is what a container's env.valueFrom and envFrom can refer to:
// the pod's own fields (the downward API), the node's capacity (for
// resourceFieldRef without a limit) and the namespace's ConfigMaps and
// Secrets.
type envContext struct {
	Pod           *corev1.Pod
	PodIP, HostIP string
	NodeName      string
	NodeCPUMilli  int64        // the node's CPUs, in millicores
	NodeMemory    int64        // the node's memory, in bytes
	NodeEphemeral func() int64 // the node's ephemeral storage (the file system of podsim's state), in bytes: asked only by a resourceFieldRef that needs it
	ConfigMap     func(name string) (*corev1.ConfigMap, error)
	Secret        func(name string) (*corev1.Secret, error)
}

// resolveEnv turns a container's envFrom and env into the plain name=value
// pairs kubelet's makeEnvironmentVariables sends to CRI:
//
//   - every key of each envFrom source first (with its prefix; keys that
//     are not valid variable names are skipped, as kubelet does), taken as
//     they are;
//   - then env in order: a literal value has its $(VAR) references
//     expanded over the variables defined so far (envFrom's and earlier
//     env's; never the image's, which the runtime merges later), and $$
//     unescaped (step 1a); a valueFrom is read from the pod, the node, a
//     ConfigMap or a Secret and taken as it is (step 1b).
//
// A name defined twice keeps its first place and its last value (kubelet's
// tmpEnv map). A missing source or key is an error unless it is optional.
func resolveEnv(c *corev1.Container, ec envContext) ([]corev1.EnvVar, error) {
	var out []corev1.EnvVar
	vals := map[string]string{} // kubelet's tmpEnv
	index := map[string]int{}
	set := func(name, v string) {
		vals[name] = v
		if i, ok := index[name]; ok {
			out[i].Value = v
			return
		}
		index[name] = len(out)
		out = append(out, corev1.EnvVar{Name: name, Value: v})
	}
	for _, from := range c.EnvFrom {
		kv, err := envFromSource(from, ec)
		if err != nil {
			return nil, err
		}
		for _, e := range kv {
			set(e.Name, e.Value)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, ExpandVars(e.Value, vals))
			continue
		}
		v, ok, err := envValueFrom(c, e.ValueFrom, ec)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		if ok {
			set(e.Name, v)
		}
	}
	return out, nil
}

// ExpandLiteralEnv is resolveEnv for a container whose env has only
// literal values (the bench's CRI translation, which has no pod to read
// valueFrom from): kubelet's $(VAR) expansion, a name defined twice kept
// once with its last value.
func ExpandLiteralEnv(env []corev1.EnvVar) ([]corev1.EnvVar, error) {
	for _, e := range env {
		if e.ValueFrom != nil {
			return nil, fmt.Errorf("env %s: valueFrom needs the pod, the node and the store (resolveEnv)", e.Name)
		}
	}
	return resolveEnv(&corev1.Container{Env: env}, envContext{})
}

func envFromSource(from corev1.EnvFromSource, ec envContext) ([]corev1.EnvVar, error) {
	var data map[string]string
	switch {
	case from.ConfigMapRef != nil:
		cm, err := ec.ConfigMap(from.ConfigMapRef.Name)
		if err != nil {
			if optional(from.ConfigMapRef.Optional) {
				return nil, nil
			}
			return nil, fmt.Errorf("envFrom: configmap %q not found (create it first, or mark it optional)", from.ConfigMapRef.Name)
		}
		data = cm.Data
	case from.SecretRef != nil:
		s, err := ec.Secret(from.SecretRef.Name)
		if err != nil {
			if optional(from.SecretRef.Optional) {
				return nil, nil
			}
			return nil, fmt.Errorf("envFrom: secret %q not found (create it first, or mark it optional)", from.SecretRef.Name)
		}
		data = map[string]string{}
		for k, v := range s.Data {
			data[k] = string(v)
		}
		for k, v := range s.StringData {
			data[k] = v
		}
	default:
		return nil, fmt.Errorf("envFrom: an entry names neither a configMapRef nor a secretRef")
	}
	var out []corev1.EnvVar
	for _, k := range slices.Sorted(maps.Keys(data)) {
		name := from.Prefix + k
		if len(validation.IsEnvVarName(name)) > 0 {
			continue // kubelet skips it too (and reports an event)
		}
		out = append(out, corev1.EnvVar{Name: name, Value: data[k]})
	}
	return out, nil
}

// envValueFrom reads one valueFrom; ok is false for an optional key that
// is missing (the variable is then not set, as in Kubernetes).
func envValueFrom(c *corev1.Container, vf *corev1.EnvVarSource, ec envContext) (v string, ok bool, err error) {
	switch {
	case vf.FieldRef != nil:
		v, err = podFieldValue(vf.FieldRef.FieldPath, ec)
		return v, err == nil, err
	case vf.ResourceFieldRef != nil:
		v, err = resourceFieldValue(c, vf.ResourceFieldRef, ec)
		return v, err == nil, err
	case vf.ConfigMapKeyRef != nil:
		r := vf.ConfigMapKeyRef
		cm, err := ec.ConfigMap(r.Name)
		if err == nil {
			if v, found := cm.Data[r.Key]; found {
				return v, true, nil
			}
		}
		if optional(r.Optional) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("key %q of configmap %q not found (create it first, or mark it optional)", r.Key, r.Name)
	case vf.SecretKeyRef != nil:
		r := vf.SecretKeyRef
		s, err := ec.Secret(r.Name)
		if err == nil {
			if b, found := s.Data[r.Key]; found {
				return string(b), true, nil
			}
			if v, found := s.StringData[r.Key]; found {
				return v, true, nil
			}
		}
		if optional(r.Optional) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("key %q of secret %q not found (create it first, or mark it optional)", r.Key, r.Name)
	case vf.FileKeyRef != nil:
		return "", false, fmt.Errorf("valueFrom.fileKeyRef (a key of an env file in a volume: Kubernetes 1.34's alpha EnvFiles feature, off by default) is not supported: use configMapKeyRef or secretKeyRef")
	}
	return "", false, fmt.Errorf("valueFrom: only fieldRef, resourceFieldRef, configMapKeyRef and secretKeyRef are supported")
}

// podFieldValue is the downward API's fieldRef, for the paths kubelet
// supports in env.
func podFieldValue(path string, ec envContext) (string, error) {
	p := ec.Pod
	if k, ok := bracketKey(path, "metadata.labels"); ok {
		return p.Labels[k], nil
	}
	if k, ok := bracketKey(path, "metadata.annotations"); ok {
		return p.Annotations[k], nil
	}
	switch path {
	case "metadata.name":
		return p.Name, nil
	case "metadata.namespace":
		return p.Namespace, nil
	case "metadata.uid":
		return string(p.UID), nil
	case "spec.nodeName":
		return ec.NodeName, nil
	case "spec.serviceAccountName":
		if p.Spec.ServiceAccountName == "" {
			return "default", nil // the API server's default
		}
		return p.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return ec.PodIP, nil
	case "status.hostIP", "status.hostIPs":
		return ec.HostIP, nil
	}
	return "", fmt.Errorf("fieldRef %q is not a field the downward API offers to env (metadata.name, metadata.namespace, metadata.uid, metadata.labels['K'], metadata.annotations['K'], spec.nodeName, spec.serviceAccountName, status.podIP(s), status.hostIP(s))", path)
}

// bracketKey reads "metadata.labels['k']" (or "metadata.labels[\"k\"]").
func bracketKey(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"[")
	if !ok || !strings.HasSuffix(rest, "]") || len(rest) < 3 {
		return "", false
	}
	rest = strings.TrimSuffix(rest, "]")
	q := rest[0]
	if (q != '\'' && q != '"') || rest[len(rest)-1] != q {
		return "", false
	}
	return rest[1 : len(rest)-1], true
}

// resourceFieldValue is the downward API's resourceFieldRef as kubelet
// computes it (containerResourceRuntimeValue): the resources of the named
// container, else of this one; its limit, or the node's capacity when it
// has none (defaultPodLimitsForDownwardAPI); a request, or its limit (the
// API server's defaulting), else 0; divided by the divisor and rounded up.
func resourceFieldValue(c *corev1.Container, r *corev1.ResourceFieldSelector, ec envContext) (string, error) {
	if r.ContainerName != "" && r.ContainerName != c.Name {
		other := podContainer(ec.Pod, r.ContainerName)
		if other == nil {
			return "", fmt.Errorf("resourceFieldRef.containerName %q: the pod has no such container", r.ContainerName)
		}
		c = other
	}
	var q resource.Quantity
	var node int64
	cpu := strings.HasSuffix(r.Resource, ".cpu")
	name := corev1.ResourceName(strings.TrimPrefix(strings.TrimPrefix(r.Resource, "limits."), "requests."))
	switch r.Resource {
	case "limits.cpu", "limits.memory", "limits.ephemeral-storage":
		q = c.Resources.Limits[name]
	case "requests.cpu", "requests.memory", "requests.ephemeral-storage":
		var ok bool
		if q, ok = c.Resources.Requests[name]; !ok {
			q = c.Resources.Limits[name]
		}
	default:
		return "", fmt.Errorf("resourceFieldRef %q is not supported (limits.cpu, limits.memory, requests.cpu, requests.memory, ...)", r.Resource)
	}
	switch {
	case cpu:
		node = ec.NodeCPUMilli
	case name == corev1.ResourceMemory:
		node = ec.NodeMemory
	case name == corev1.ResourceEphemeralStorage:
		if ec.NodeEphemeral != nil {
			node = ec.NodeEphemeral()
		}
	}
	div := r.Divisor
	if div.IsZero() {
		div = resource.MustParse("1")
	}
	if cpu {
		milli := q.MilliValue()
		if milli == 0 && strings.HasPrefix(r.Resource, "limits.") {
			milli = node
		}
		return fmt.Sprint(int64(math.Ceil(float64(milli) / float64(div.MilliValue())))), nil
	}
	v := q.Value()
	if v == 0 && strings.HasPrefix(r.Resource, "limits.") {
		v = node
	}
	return fmt.Sprint(int64(math.Ceil(float64(v) / float64(div.Value())))), nil
}

func optional(b *bool) bool { return b != nil && *b }
