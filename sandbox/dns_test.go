package sandbox

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestPodDNS: the pod's resolv.conf as kubelet's GetPodDNS composes it,
// for each dnsPolicy, with dnsConfig merged and kubelet's limits.
func TestPodDNS(t *testing.T) {
	node := ReadResolvConf(strings.NewReader("# node\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example. lab.example\noptions edns0 trust-ad\n"))
	two := "2"
	for _, tc := range []struct {
		name  string
		spec  corev1.PodSpec
		want  string
		warns int
	}{
		{"ClusterFirst (the default): cluster search path, the node's reachable nameservers, ndots:5", corev1.PodSpec{},
			"search ns1.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\nnameserver 10.0.0.2\noptions ndots:5\n", 0},
		{"Default: the node's file", corev1.PodSpec{DNSPolicy: corev1.DNSDefault},
			"search corp.example lab.example\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0 trust-ad\n", 0},
		{"ClusterFirst on the host's network is Default", corev1.PodSpec{HostNetwork: true},
			"search corp.example lab.example\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0 trust-ad\n", 0},
		{"ClusterFirstWithHostNet keeps the cluster's", corev1.PodSpec{HostNetwork: true, DNSPolicy: corev1.DNSClusterFirstWithHostNet},
			"search ns1.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\nnameserver 10.0.0.2\noptions ndots:5\n", 0},
		{"None: only dnsConfig", corev1.PodSpec{DNSPolicy: corev1.DNSNone, DNSConfig: &corev1.PodDNSConfig{
			Nameservers: []string{"192.0.2.1"}, Searches: []string{"a.example"}, Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &two}}}},
			"search a.example\nnameserver 192.0.2.1\noptions ndots:2\n", 0},
		{"dnsConfig merged: duplicates dropped, options overridden by name", corev1.PodSpec{DNSConfig: &corev1.PodDNSConfig{
			Nameservers: []string{"10.0.0.2", "192.0.2.1"}, Searches: []string{"cluster.local", "b.example"},
			Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &two}, {Name: "single-request"}}}},
			"search ns1.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example b.example\nnameserver 10.0.0.2\nnameserver 192.0.2.1\noptions ndots:2 single-request\n", 0},
		{"more than 3 nameservers after the merge: cut, with kubelet's warning", corev1.PodSpec{DNSConfig: &corev1.PodDNSConfig{
			Nameservers: []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}}},
			"search ns1.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\nnameserver 10.0.0.2\nnameserver 192.0.2.1\nnameserver 192.0.2.2\noptions ndots:5\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: tc.spec}
			pod.Namespace = "ns1"
			c, warns := PodDNS(pod, node)
			if got := c.String(); got != tc.want {
				t.Errorf("resolv.conf:\n%s\nwant:\n%s", got, tc.want)
			}
			if len(warns) != tc.warns {
				t.Errorf("warnings %q, want %d", warns, tc.warns)
			}
		})
	}
}

// TestPodDNSSearchLimits: kubelet keeps 32 search domains, drops ones
// longer than 253 characters and cuts the line to 2048 characters.
func TestPodDNSSearchLimits(t *testing.T) {
	var many []string
	for i := 0; i < 40; i++ {
		many = append(many, fmt.Sprintf("d%d.example", i))
	}
	pod := &corev1.Pod{Spec: corev1.PodSpec{DNSPolicy: corev1.DNSNone, DNSConfig: &corev1.PodDNSConfig{Nameservers: []string{"192.0.2.1"}, Searches: many}}}
	c, warns := PodDNS(pod, DNSConfig{})
	if len(c.Searches) != 32 || len(warns) != 1 || !strings.Contains(warns[0], "Search Line limits were exceeded") {
		t.Errorf("%d searches, warnings %q; want 32 and kubelet's warning", len(c.Searches), warns)
	}
	long := []string{strings.Repeat("a", 250) + ".x", strings.Repeat("b", 300)}
	for i := 0; i < 10; i++ {
		long = append(long, strings.Repeat(string(rune('c'+i)), 240)+".example")
	}
	out, cut := searchesWithinLimits(long)
	if !cut || len(strings.Join(out, " ")) > 2048 || out[0] != long[0] {
		t.Errorf("searchesWithinLimits kept %d domains, %d characters, cut %v", len(out), len(strings.Join(out, " ")), cut)
	}
	for _, d := range out {
		if len(d) > 253 {
			t.Errorf("kept a %d-character domain", len(d))
		}
	}
}
