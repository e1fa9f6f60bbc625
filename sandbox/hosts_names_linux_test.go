package sandbox

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodHostnameAndHostsFile(t *testing.T) {
	yes := true
	pod := func(spec corev1.PodSpec) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "shop"}, Spec: spec}
	}
	for _, tc := range []struct {
		name, wantHost, wantLine string
		pod                      *corev1.Pod
	}{
		{"the pod's name", "web-0", "10.88.0.5\tweb-0\n", pod(corev1.PodSpec{})},
		{"spec.hostname", "db", "10.88.0.5\tdb\n", pod(corev1.PodSpec{Hostname: "db"})},
		{"hostname and subdomain: the FQDN line", "db", "10.88.0.5\tdb.replicas.shop.svc.cluster.local\tdb\n", pod(corev1.PodSpec{Hostname: "db", Subdomain: "replicas"})},
		{"setHostnameAsFQDN", "db.replicas.shop.svc.cluster.local", "10.88.0.5\tdb.replicas.shop.svc.cluster.local\tdb\n",
			pod(corev1.PodSpec{Hostname: "db", Subdomain: "replicas", SetHostnameAsFQDN: &yes})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PodHostname(tc.pod, "node-a"); got != tc.wantHost {
				t.Errorf("hostname = %q, want %q", got, tc.wantHost)
			}
			if hosts := podHostsBase(tc.pod, "10.88.0.5"); !strings.HasSuffix(hosts, tc.wantLine) {
				t.Errorf("hosts file ends %q, want the line %q", hosts, tc.wantLine)
			}
		})
	}
	p := pod(corev1.PodSpec{HostAliases: []corev1.HostAlias{{IP: "10.1.2.3", Hostnames: []string{"foo.local", "bar.local"}}}})
	if hosts := podHostsBase(p, "10.88.0.5"); !strings.HasSuffix(hosts, "10.88.0.5\tweb-0\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n") {
		t.Errorf("hostAliases section missing or misplaced:\n%s", hosts)
	}
}
