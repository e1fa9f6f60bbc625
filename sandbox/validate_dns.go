package sandbox

import (
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// checkDNS is the API server's validation of dnsPolicy and dnsConfig
// (validatePodDNSConfig): what it refuses, podsim refuses, naming the
// field. What passes here kubelet may still cut to the resolver's limits
// once merged with the node's file (PodDNS warns then).
func (v *validator) checkDNS() {
	s := &v.pod.Spec
	switch s.DNSPolicy {
	case "", corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet, corev1.DNSDefault, corev1.DNSNone:
	default:
		v.fail("spec.dnsPolicy %q is not valid: use ClusterFirst, ClusterFirstWithHostNet, Default or None", s.DNSPolicy)
		return
	}
	dc := s.DNSConfig
	if s.DNSPolicy == corev1.DNSNone && (dc == nil || len(dc.Nameservers) == 0) {
		v.fail("spec.dnsConfig.nameservers: must provide at least one DNS nameserver when dnsPolicy is None (add spec.dnsConfig.nameservers, or use another dnsPolicy)")
	}
	if dc == nil {
		return
	}
	if len(dc.Nameservers) > maxDNSNameservers {
		v.fail("spec.dnsConfig.nameservers: must not have more than %d nameservers (the resolver reads no more): has %d", maxDNSNameservers, len(dc.Nameservers))
	}
	for i, ns := range dc.Nameservers {
		if net.ParseIP(ns) == nil {
			v.fail("spec.dnsConfig.nameservers[%d] %q is not an IP address", i, ns)
		}
	}
	if len(dc.Searches) > maxDNSSearchPaths {
		v.fail("spec.dnsConfig.searches: must not have more than %d search paths: has %d", maxDNSSearchPaths, len(dc.Searches))
	}
	if n := len(strings.Join(dc.Searches, " ")); n > maxDNSSearchListChars {
		v.fail("spec.dnsConfig.searches: must not have more than %d characters (including spaces) in the search list: has %d", maxDNSSearchListChars, n)
	}
	for i, d := range dc.Searches {
		if msgs := validation.IsDNS1123Subdomain(strings.TrimSuffix(d, ".")); len(msgs) > 0 {
			v.fail("spec.dnsConfig.searches[%d] %q is not a valid domain: %s", i, d, strings.Join(msgs, ", "))
		}
	}
	for i, o := range dc.Options {
		if o.Name == "" {
			v.fail("spec.dnsConfig.options[%d].name is required", i)
		}
	}
}
