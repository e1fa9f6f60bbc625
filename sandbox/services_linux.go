package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Services. A cluster gives a Service a virtual ClusterIP that kube-proxy
// forwards to the pods its selector matches, and a DNS name. podsim has no
// kube-proxy and no DNS server: it resolves a Service's names straight to
// the IPs of its ready pods, in the /etc/hosts file every container of a
// pod shares (kubelet writes that file too), and keeps those files current
// when pods or Services come and go. Because there is no forwarding, a
// Service port must equal the pod's target port.

// ApplyService stores a Service and updates every pod's hosts file.
func (m *Manager) ApplyService(ctx context.Context, svc *corev1.Service) (action string, warnings []string, err error) {
	svc = svc.DeepCopy()
	if err := defaultNamespace(&svc.ObjectMeta); err != nil {
		return "", nil, fmt.Errorf("service: %w", err)
	}
	if msgs := labelsValidDNS(svc.Name); msgs != "" {
		return "", nil, fmt.Errorf("service name %q must be a DNS label (it becomes a host name): %s", svc.Name, msgs)
	}
	switch svc.Spec.Type {
	case "", corev1.ServiceTypeClusterIP:
	default:
		return "", nil, fmt.Errorf("service %s: type %s is not supported: podsim never exposes pods outside the machine (use ClusterIP)", svc.Name, svc.Spec.Type)
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

	unlock, err := m.lock(ctx)
	if err != nil {
		return "", nil, err
	}
	defer unlock()
	var old corev1.Service
	if m.applyAction("services", &svc.ObjectMeta, svc, &old) != "created" {
		svc.CreationTimestamp = old.CreationTimestamp
	}
	action = m.applyAction("services", &svc.ObjectMeta, svc, &old)
	// Named target ports resolve per pod; they must land on the same number.
	pods, _ := m.selectedPods(ctx, svc)
	for _, p := range pods {
		if err := checkTargetPorts(svc, &p.Pod); err != nil {
			return "", nil, err
		}
	}
	if len(pods) == 0 {
		warnings = append(warnings, fmt.Sprintf("service %s selects no pods yet (selector %s): its name will not resolve until a matching pod runs",
			svc.Name, labels.SelectorFromSet(svc.Spec.Selector)))
	}
	if action != "unchanged" {
		if err := m.saveObject("services", &svc.ObjectMeta, svc); err != nil {
			return "", nil, err
		}
	}
	return action, warnings, m.refreshHosts(ctx)
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

// Services lists Services ("" = all namespaces).
func (m *Manager) Services(namespace string) ([]*corev1.Service, error) {
	l, err := listObjects[corev1.Service](m, "services", namespace)
	sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	return l, err
}

// DeleteService removes a Service and its names from every pod.
func (m *Manager) DeleteService(ctx context.Context, namespace, name string) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := m.deleteObject("services", namespace, name); err != nil {
		return err
	}
	return m.refreshHosts(ctx)
}

// selectedPods are the running pods a Service's selector matches.
func (m *Manager) selectedPods(ctx context.Context, svc *corev1.Service) ([]*PodState, error) {
	recs, err := m.Records()
	if err != nil {
		return nil, err
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var out []*PodState
	for _, r := range recs {
		if r.Pod.Namespace != svc.Namespace || r.IP == "" || !sel.Matches(labels.Set(r.Pod.Labels)) {
			continue
		}
		st := m.state(ctx, r)
		if st.StatusText() == "Running" {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// Endpoints returns the pod IPs a Service resolves to.
func (m *Manager) Endpoints(ctx context.Context, svc *corev1.Service) []string {
	pods, _ := m.selectedPods(ctx, svc)
	var ips []string
	for _, p := range pods {
		ips = append(ips, p.IP)
	}
	return ips
}

// serviceHosts are the hosts lines for Services, for pods of namespace ns:
// the short name only resolves inside the Service's own namespace, as with
// the cluster DNS search path.
func serviceHosts(ns string, svcs []*corev1.Service, eps map[string][]string) string {
	var b strings.Builder
	for _, s := range svcs {
		names := []string{s.Name + "." + s.Namespace, s.Name + "." + s.Namespace + ".svc", s.Name + "." + s.Namespace + ".svc.cluster.local"}
		if s.Namespace == ns {
			names = append([]string{s.Name}, names...)
		}
		for _, ip := range eps[s.Namespace+"/"+s.Name] {
			fmt.Fprintf(&b, "%s\t%s\n", ip, strings.Join(names, " "))
		}
	}
	return b.String()
}

// podHostsBase is the start of a pod's hosts file: kubelet's managed file
// with the pod's own line, or for a hostNetwork pod the node's /etc/hosts,
// as kubelet writes it (nodeHostsFileContent).
func podHostsBase(pod *corev1.Pod, ip string) string {
	if !pod.Spec.HostNetwork {
		return hostsBase(pod.Name, ip)
	}
	b, _ := os.ReadFile("/etc/hosts")
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	return "# Kubernetes-managed hosts file (host network).\n" + string(b)
}

func hostsBase(name, ip string) string {
	h := "# Kubernetes-managed hosts file (written by podsim, shared by every container of the pod).\n" +
		"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n" +
		"fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
	if ip != "" {
		h += fmt.Sprintf("%s\t%s\n", ip, name)
	}
	return h
}

// refreshHosts rewrites the hosts file of every pod with the current
// Service endpoints. The file is bind-mounted into the containers, so it
// is rewritten in place (same inode); a rename would leave the containers
// looking at the old file. The caller holds the lock.
func (m *Manager) refreshHosts(ctx context.Context) error {
	svcs, err := m.Services("")
	if err != nil {
		return err
	}
	eps := map[string][]string{}
	for _, s := range svcs {
		eps[s.Namespace+"/"+s.Name] = m.Endpoints(ctx, s)
	}
	recs, err := m.Records()
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range recs {
		p := filepath.Join(m.paths.podDir(r.ID), "etc-hosts")
		if _, err := os.Stat(p); err != nil {
			continue
		}
		content := podHostsBase(&r.Pod, r.IP) + serviceHosts(r.Pod.Namespace, svcs, eps)
		if err := rewriteHosts(p, content); err != nil {
			errs = append(errs, fmt.Errorf("hosts file of pod %s: %w", r.Pod.Name, err))
		}
	}
	return errors.Join(errs...)
}

// rewriteHosts puts content into the hosts file p in place (same inode:
// it is bind-mounted into the containers), unless it already says that.
func rewriteHosts(p, content string) error {
	if old, err := os.ReadFile(p); err == nil && string(old) == content {
		return nil
	}
	// Overwrite, then cut the tail: a reader never sees an empty file.
	f, err := os.OpenFile(p, os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err = f.WriteAt([]byte(content), 0); err != nil {
		return err
	}
	return f.Truncate(int64(len(content)))
}

// refreshHostsOf brings the hosts files up to date after pod r came (r is
// its record) or went (gone set). With no Service on the host no other
// pod's file can change, so only r's own file is written — the common
// case, without reading every pod's record as refreshHosts does.
func (m *Manager) refreshHostsOf(ctx context.Context, r *Record, gone bool) error {
	svcs, err := m.Services("")
	if err != nil {
		return err
	}
	if len(svcs) > 0 {
		return m.refreshHosts(ctx)
	}
	if gone {
		return nil
	}
	return rewriteHosts(filepath.Join(m.paths.podDir(r.ID), "etc-hosts"), podHostsBase(&r.Pod, r.IP))
}
