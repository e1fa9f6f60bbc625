package sandbox

import (
	"strings"
	"testing"
)

// The isolation switches: what podsim builds, and the combinations the API
// server refuses, each refused with the field named.
func TestValidateIsolation(t *testing.T) {
	for _, tc := range []struct{ name, spec, want string }{
		{"hostNetwork", "  hostNetwork: true\n", ""},
		{"hostPID and hostIPC", "  hostPID: true\n  hostIPC: true\n", ""},
		{"hostNetwork, hostPort = containerPort", "  hostNetwork: true\n", ""},
		{"runtimeClassName runc", "  runtimeClassName: runc\n", ""},
		{"hostPID with shareProcessNamespace", "  hostPID: true\n  shareProcessNamespace: true\n", "spec.shareProcessNamespace: true cannot be combined with spec.hostPID"},
		{"hostNetwork with a net sysctl", "  hostNetwork: true\n  securityContext:\n    sysctls:\n    - name: net.ipv4.ip_unprivileged_port_start\n      value: '0'\n", "may not be set with spec.hostNetwork"},
		{"hostIPC with an ipc sysctl", "  hostIPC: true\n  securityContext:\n    sysctls:\n    - name: kernel.shmmax\n      value: '1000000'\n", "may not be set with spec.hostIPC"},
		{"ephemeralContainers on create", "  ephemeralContainers:\n  - name: dbg\n    image: busybox\n", "podsim debug"},
		{"runtimeClassName gvisor (resolved when the pod is created)", "  runtimeClassName: gvisor\n", ""},
		{"runtimeClassName not a DNS subdomain", "  runtimeClassName: Not_A_Name\n", `spec.runtimeClassName "Not_A_Name"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := strings.Replace(base, "  containers:\n", tc.spec+"  containers:\n", 1)
			if strings.Contains(tc.name, "hostPort") {
				y = strings.Replace(y, "    image: busybox\n", "    image: busybox\n    ports:\n    - containerPort: 8080\n      hostPort: 8080\n", 1)
			}
			_, err := Validate(parsePod(t, y).Pod)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	y := strings.Replace(base, "  containers:\n", "  hostNetwork: true\n  containers:\n", 1)
	y = strings.Replace(y, "    image: busybox\n", "    image: busybox\n    ports:\n    - containerPort: 8080\n      hostPort: 9090\n", 1)
	if _, err := Validate(parsePod(t, y).Pod); err == nil || !strings.Contains(err.Error(), "spec.containers[c1].ports: hostPort 9090 must equal containerPort 8080") {
		t.Fatalf("hostNetwork with hostPort != containerPort: err = %v", err)
	}
}
