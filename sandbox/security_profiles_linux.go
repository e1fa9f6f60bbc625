package sandbox

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/containerd/containerd/pkg/apparmor"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

// readSecurityNode reads what the host offers for AppArmor (the seccomp
// root comes from podsim's paths).
func readSecurityNode() securityNode {
	b, _ := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return securityNode{AppArmorKernel: strings.HasPrefix(string(b), "Y"), AppArmorRuntime: apparmor.HostSupports()}
}

// checkHostSecurity is kubelet's admission of the pod's AppArmor profiles
// (apparmor.Validator: refused where the kernel has no AppArmor) and what
// containerd's CRI would fail on later (no apparmor_parser, a Localhost
// AppArmor profile not loaded, a Localhost seccomp file missing), checked
// before anything of the pod is made.
func checkHostSecurity(pod *corev1.Pod, node securityNode) error {
	if req, field := appArmorRequired(pod); req {
		switch {
		case !node.AppArmorKernel:
			return fmt.Errorf("%s: AppArmor is not enabled on the host (/sys/module/apparmor/parameters/enabled is not Y), so kubelet would refuse this pod: remove the profile or set it to Unconfined", field)
		case !node.AppArmorRuntime:
			return fmt.Errorf("%s: containerd cannot apply AppArmor profiles on this host (it needs /sbin/apparmor_parser: install the apparmor package), or set the profile to Unconfined", field)
		}
		if err := checkAppArmorLoaded(pod); err != nil {
			return err
		}
	}
	return checkSeccompLocalhost(pod, node.SeccompRoot, readSeccompFile)
}

// readSeccompFile checks that a Localhost profile is an OCI seccomp profile
// containerd can read (contrib/seccomp.WithProfile).
func readSeccompFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var s specs.LinuxSeccomp
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("not a seccomp profile (OCI JSON): %w", err)
	}
	return nil
}

// checkAppArmorLoaded is CRI's appArmorProfileExists: a Localhost profile
// must be loaded in the kernel (/sys/kernel/security/apparmor/profiles).
func checkAppArmorLoaded(pod *corev1.Pod) error {
	loaded := map[string]bool{}
	if f, err := os.Open("/sys/kernel/security/apparmor/profiles"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			name, _, _ := strings.Cut(s.Text(), " (")
			loaded[name] = true
		}
		f.Close()
	}
	for _, c := range specContainers(pod) {
		if p, field := effectiveAppArmor(pod, &c); p != nil && p.Type == corev1.AppArmorProfileTypeLocalhost && !loaded[*p.LocalhostProfile] {
			return fmt.Errorf("%s: AppArmor profile %q is not loaded on this host (load it with apparmor_parser, or use RuntimeDefault)", field, *p.LocalhostProfile)
		}
	}
	return nil
}
