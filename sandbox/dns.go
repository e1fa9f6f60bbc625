package sandbox

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The pod's /etc/resolv.conf, as kubelet's dns.Configurer.GetPodDNS
// composes it (pkg/kubelet/network/dns) and containerd's CRI writes it:
// a base from the dnsPolicy, then spec.dnsConfig merged in, then kubelet's
// limits, which cut and warn (DNSConfigForming) instead of failing.

// The resolver's and the API's limits (core validation's MaxDNSNameservers,
// MaxDNSSearchPaths and MaxDNSSearchListChars, the ExpandedDNSConfig ones,
// GA since 1.28), and the longest name a search domain may be.
const (
	maxDNSNameservers     = 3
	maxDNSSearchPaths     = 32
	maxDNSSearchListChars = 2048
	maxDNSSearchLength    = 253
)

// DNSConfig is what kubelet hands the runtime (CRI's DNSConfig) and the
// runtime writes into resolv.conf.
type DNSConfig struct {
	Servers, Searches, Options []string
}

// NodeResolvConf is the node's resolver configuration kubelet starts from
// (its --resolv-conf): /run/systemd/resolve/resolv.conf where
// systemd-resolved keeps the real upstream servers (what kubeadm configures,
// since the 127.0.0.53 stub of /etc/resolv.conf is unreachable from a pod's
// network namespace), else /etc/resolv.conf.
func NodeResolvConf() string {
	const resolved = "/run/systemd/resolve/resolv.conf"
	if _, err := os.Stat(resolved); err == nil {
		return resolved
	}
	return "/etc/resolv.conf"
}

// ReadResolvConf parses a resolv.conf as kubelet's parseResolvConf does:
// nameserver lines accumulate, the last search and options lines win, a
// search domain's trailing dot is dropped.
func ReadResolvConf(r io.Reader) DNSConfig {
	var c DNSConfig
	s := bufio.NewScanner(r)
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) >= 2 {
				c.Servers = append(c.Servers, f[1])
			}
		case "search":
			c.Searches = nil
			for _, d := range f[1:] {
				c.Searches = append(c.Searches, strings.TrimSuffix(d, "."))
			}
		case "options":
			c.Options = append([]string(nil), f[1:]...)
		}
	}
	return c
}

// PodDNS is kubelet's GetPodDNS on podsim's node, from the node's resolver
// configuration. podsim has no cluster DNS server (Services resolve
// through /etc/hosts), so ClusterFirst keeps kubelet's cluster search path
// and ndots:5 but stands the node's nameservers in for the cluster DNS
// (which would forward to them); a loopback nameserver is left out, as no
// pod network namespace can reach it. Default copies the node's file, as
// kubelet does; ClusterFirst on a hostNetwork pod is Default, unless the
// pod says ClusterFirstWithHostNet. None starts empty. The warnings are
// kubelet's DNSConfigForming events.
func PodDNS(pod *corev1.Pod, node DNSConfig) (DNSConfig, []string) {
	var c DNSConfig
	switch podDNSType(pod) {
	case corev1.DNSNone:
	case corev1.DNSDefault:
		c = DNSConfig{Servers: node.Servers, Searches: node.Searches, Options: node.Options}
	default:
		for _, s := range node.Servers {
			if ip := net.ParseIP(s); ip != nil && !ip.IsLoopback() {
				c.Servers = append(c.Servers, s)
			}
		}
		c.Searches = omitDuplicates(append(ClusterSearches(pod.Namespace), node.Searches...))
		c.Options = []string{"ndots:5"}
	}
	if dc := pod.Spec.DNSConfig; dc != nil {
		c.Servers = omitDuplicates(append(append([]string(nil), c.Servers...), dc.Nameservers...))
		c.Searches = omitDuplicates(append(append([]string(nil), c.Searches...), dc.Searches...))
		c.Options = mergeDNSOptions(c.Options, dc.Options)
	}
	var warns []string
	if len(c.Servers) > maxDNSNameservers {
		c.Servers = c.Servers[:maxDNSNameservers]
		warns = append(warns, "Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: "+strings.Join(c.Servers, " "))
	}
	var cut bool
	if c.Searches, cut = searchesWithinLimits(c.Searches); cut {
		warns = append(warns, "Search Line limits were exceeded, some search paths have been omitted, the applied search line is: "+strings.Join(c.Searches, " "))
	}
	return c, warns
}

// ClusterSearches is ClusterFirst's search path: the pod's namespace's
// Services, all Services, the cluster domain.
func ClusterSearches(namespace string) []string {
	return []string{namespace + ".svc." + ClusterDomain, "svc." + ClusterDomain, ClusterDomain}
}

// podDNSType is kubelet's getPodDNSType: the base a pod's resolv.conf
// starts from (the API server defaults an empty dnsPolicy to ClusterFirst).
func podDNSType(pod *corev1.Pod) corev1.DNSPolicy {
	switch pod.Spec.DNSPolicy {
	case corev1.DNSNone:
		return corev1.DNSNone
	case corev1.DNSDefault:
		return corev1.DNSDefault
	case corev1.DNSClusterFirstWithHostNet:
		return corev1.DNSClusterFirst
	}
	if pod.Spec.HostNetwork {
		return corev1.DNSDefault // ClusterFirst falls back to Default on the host's network
	}
	return corev1.DNSClusterFirst
}

// searchesWithinLimits is kubelet's formDNSSearchFitsLimits: at most 32
// domains, none longer than 253 characters, the line at most 2048
// characters (domains cut from the end); cut reports whether any went.
func searchesWithinLimits(s []string) (out []string, cut bool) {
	if len(s) > maxDNSSearchPaths {
		s, cut = s[:maxDNSSearchPaths], true
	}
	for _, d := range s {
		if len(d) > maxDNSSearchLength {
			cut = true
			continue
		}
		out = append(out, d)
	}
	for len(out) > 0 && len(strings.Join(out, " ")) > maxDNSSearchListChars {
		out, cut = out[:len(out)-1], true
	}
	return out, cut
}

// mergeDNSOptions is kubelet's: dnsConfig's options override the base's
// of the same name ("ndots:2" over "ndots:5"), new ones are added. Unlike
// kubelet's map, the order is kept (base first), so the file is stable.
func mergeDNSOptions(base []string, add []corev1.PodDNSConfigOption) []string {
	var names []string
	vals := map[string]string{}
	set := func(name, val string) {
		if _, ok := vals[name]; !ok {
			names = append(names, name)
		}
		vals[name] = val
	}
	for _, o := range base {
		n, v, _ := strings.Cut(o, ":")
		set(n, v)
	}
	for _, o := range add {
		v := ""
		if o.Value != nil {
			v = *o.Value
		}
		set(o.Name, v)
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if vals[n] != "" {
			n += ":" + vals[n]
		}
		out = append(out, n)
	}
	return out
}

func omitDuplicates(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// String is the resolv.conf containerd's CRI writes from a DNSConfig
// (parseDNSOptions): the search line, one nameserver line each, the
// options line.
func (c DNSConfig) String() string {
	var b strings.Builder
	if len(c.Searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(c.Searches, " "))
	}
	for _, s := range c.Servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(c.Options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(c.Options, " "))
	}
	return b.String()
}
