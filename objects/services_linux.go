package objects

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podsim/podsim/objects/store"
	"github.com/podsim/podsim/sandbox"
)

// Services. A cluster gives a Service a virtual ClusterIP that kube-proxy
// forwards to the pods its selector matches, and a DNS name. podsim has no
// kube-proxy and no DNS server: it resolves a Service's names straight to
// the IPs of its ready pods, in the /etc/hosts file every container of a
// pod shares (the pod runtime writes those: sandbox/hosts_linux.go). Because
// there is no forwarding, a Service port must equal the pod's target port.

// ApplyService stores a Service and updates every pod's hosts file.
func (m *Manager) ApplyService(ctx context.Context, svc *corev1.Service) (action string, warnings []string, err error) {
	svc = svc.DeepCopy()
	if err := defaultNamespace(&svc.ObjectMeta); err != nil {
		return "", nil, fmt.Errorf("service: %w", err)
	}
	if msgs := labelsValidDNS(svc.Name); msgs != "" {
		return "", nil, fmt.Errorf("service name %q must be a DNS label (it becomes a host name): %s", svc.Name, msgs)
	}
	// Every set field the table refuses (type NodePort, clusterIP, ...) or warns about, by name.
	if warnings, err = sandbox.CheckServiceFields(svc); err != nil {
		return "", nil, err
	}
	if len(svc.Spec.Selector) == 0 {
		return "", nil, fmt.Errorf("service %s: spec.selector is required (podsim has no manual Endpoints)", svc.Name)
	}
	if len(svc.Spec.Ports) == 0 {
		return "", nil, fmt.Errorf("service %s: spec.ports needs at least one port", svc.Name)
	}
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.Port < 1 || p.Port > 65535 {
			return "", nil, fmt.Errorf("service %s: port %d is out of range 1-65535", svc.Name, p.Port)
		}
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal == 0 {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
		if p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal != p.Port {
			return "", nil, fmt.Errorf("service %s: port %d -> targetPort %d: podsim resolves Services to pod IPs (no ClusterIP, no kube-proxy) and cannot forward one port to another: set port equal to targetPort", svc.Name, p.Port, p.TargetPort.IntVal)
		}
	}
	svc.Spec.ClusterIP = corev1.ClusterIPNone // what podsim gives instead: names resolve to pod IPs
	svc.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}

	err = m.pods.Locked(ctx, func() error {
		var old corev1.Service
		if m.store.Changed(store.Services, &svc.ObjectMeta, svc, &old) != "created" {
			svc.CreationTimestamp = old.CreationTimestamp
		}
		action = m.store.Changed(store.Services, &svc.ObjectMeta, svc, &old)
		// Named target ports resolve per pod; they must land on the same number.
		pods, _ := m.pods.ServicePods(ctx, svc)
		for _, p := range pods {
			if err := checkTargetPorts(svc, &p.Pod); err != nil {
				return err
			}
		}
		if len(pods) == 0 {
			warnings = append(warnings, fmt.Sprintf("service %s selects no pods yet (selector %s): its name will not resolve until a matching pod runs",
				svc.Name, labels.SelectorFromSet(svc.Spec.Selector)))
		}
		if action != "unchanged" {
			if err := m.store.Save(store.Services, &svc.ObjectMeta, svc); err != nil {
				return err
			}
		}
		return m.pods.RefreshHosts(ctx)
	})
	return action, warnings, err
}

func labelsValidDNS(name string) string {
	if len(name) > 63 || strings.Contains(name, ".") {
		return "at most 63 characters, no dots"
	}
	return ""
}

// checkTargetPorts resolves named targetPorts against a pod's containers.
func checkTargetPorts(svc *corev1.Service, pod *corev1.Pod) error {
	for _, p := range svc.Spec.Ports {
		if p.TargetPort.Type != intstr.String {
			continue
		}
		found := int32(0)
		for _, c := range pod.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == p.TargetPort.StrVal {
					found = cp.ContainerPort
				}
			}
		}
		if found == 0 {
			return fmt.Errorf("service %s: targetPort %q is not a named port of pod %s", svc.Name, p.TargetPort.StrVal, pod.Name)
		}
		if found != p.Port {
			return fmt.Errorf("service %s: port %d -> targetPort %q = %d in pod %s: podsim resolves Services to pod IPs and cannot forward one port to another: use the same number", svc.Name, p.Port, p.TargetPort.StrVal, found, pod.Name)
		}
	}
	return nil
}

// DeleteService removes a Service and its names from every pod.
func (m *Manager) DeleteService(ctx context.Context, namespace, name string) error {
	return m.pods.Locked(ctx, func() error {
		if err := m.store.Delete(store.Services, namespace, name); err != nil {
			return err
		}
		return m.pods.RefreshHosts(ctx)
	})
}
