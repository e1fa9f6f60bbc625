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
	"k8s.io/apimachinery/pkg/labels"
)

// Services reach pods through /etc/hosts. A cluster gives a Service a
// virtual ClusterIP that kube-proxy forwards to the pods its selector
// matches, and a DNS name. podsim has no kube-proxy and no DNS server: it
// resolves a Service's names straight to the IPs of its ready pods, in the
// /etc/hosts file every container of a pod shares (kubelet writes that file
// too), and keeps those files current when pods or Services come and go.
// The Services themselves are kept by package objects, in the store.

// ServicePods are the ready pods (Ready condition True: every container
// running and passing its readiness probe) with an IP that a Service's
// selector matches, oldest first: the Service's endpoints, as the
// EndpointSlice controller lists ready addresses. With
// publishNotReadyAddresses, running pods count without their readiness.
func (m *Manager) ServicePods(ctx context.Context, svc *corev1.Service) ([]*PodState, error) {
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
		if conditionTrue(st.Conditions, corev1.PodReady) || (svc.Spec.PublishNotReadyAddresses && st.StatusText() == "Running") {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// Endpoints returns the pod IPs a Service resolves to.
func (m *Manager) Endpoints(ctx context.Context, svc *corev1.Service) []string {
	pods, _ := m.ServicePods(ctx, svc)
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
// Both end with the pod's hostAliases, as kubelet appends them.
func podHostsBase(pod *corev1.Pod, ip string) string {
	if !pod.Spec.HostNetwork {
		host, fqdn := podHostAndFQDN(pod)
		return hostsBase(host, fqdn, ip) + hostAliases(pod.Spec.HostAliases)
	}
	b, _ := os.ReadFile("/etc/hosts")
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	return "# Kubernetes-managed hosts file (host network).\n" + string(b) + hostAliases(pod.Spec.HostAliases)
}

// hostAliases is kubelet's section of /etc/hosts for spec.hostAliases.
func hostAliases(aliases []corev1.HostAlias) string {
	if len(aliases) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n# Entries added by HostAliases.\n")
	for _, a := range aliases {
		fmt.Fprintf(&b, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, "\t"))
	}
	return b.String()
}

// hostsBase is kubelet's managed hosts file: localhost lines, then the
// pod's IP with its FQDN (when it has a subdomain) and its hostname.
func hostsBase(name, fqdn, ip string) string {
	h := "# Kubernetes-managed hosts file (written by podsim, shared by every container of the pod).\n" +
		"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n" +
		"fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
	switch {
	case ip != "" && fqdn != "":
		h += fmt.Sprintf("%s\t%s\t%s\n", ip, fqdn, name)
	case ip != "":
		h += fmt.Sprintf("%s\t%s\n", ip, name)
	}
	return h
}

// RefreshHosts rewrites the hosts file of every pod with the current
// Service endpoints. The file is bind-mounted into the containers, so it
// is rewritten in place (same inode); a rename would leave the containers
// looking at the old file. The caller holds the lock (see Locked).
func (m *Manager) RefreshHosts(ctx context.Context) error {
	svcs, err := m.store.ListServices("")
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
// case, without reading every pod's record as RefreshHosts does.
func (m *Manager) refreshHostsOf(ctx context.Context, r *Record, gone bool) error {
	svcs, err := m.store.ListServices("")
	if err != nil {
		return err
	}
	if len(svcs) > 0 {
		return m.RefreshHosts(ctx)
	}
	if gone {
		return nil
	}
	return rewriteHosts(filepath.Join(m.paths.podDir(r.ID), "etc-hosts"), podHostsBase(&r.Pod, r.IP))
}
