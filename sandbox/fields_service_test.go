package sandbox

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestServiceFieldsRefusedByName: what a Service asks for that podsim has
// no machinery for (a virtual IP, node ports, load balancers, CNAMEs,
// client affinity) is refused naming the field, its value and the fix.
func TestServiceFieldsRefusedByName(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec corev1.ServiceSpec
		want string // "" = accepted
	}{
		{"headless", corev1.ServiceSpec{ClusterIP: "None"}, ""},
		{"type ClusterIP", corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP}, ""},
		{"a ClusterIP", corev1.ServiceSpec{ClusterIP: "10.96.0.10"}, `spec.clusterIP "10.96.0.10": clusterIP is not supported: podsim has no virtual IPs`},
		{"NodePort", corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort}, `spec.type "NodePort": this type is not supported`},
		{"LoadBalancer", corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}, `spec.type "LoadBalancer": this type is not supported`},
		{"ExternalName", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName}, `spec.type "ExternalName": this type is not supported`},
		{"sessionAffinity ClientIP", corev1.ServiceSpec{SessionAffinity: corev1.ServiceAffinityClientIP}, `spec.sessionAffinity "ClientIP": sessionAffinity ClientIP is not supported`},
		{"sessionAffinity None", corev1.ServiceSpec{SessionAffinity: corev1.ServiceAffinityNone}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := &corev1.Service{Spec: tc.spec}
			svc.Name = "web"
			_, err := CheckServiceFields(svc)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "service web")):
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
