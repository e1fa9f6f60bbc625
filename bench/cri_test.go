package bench

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func translate(t *testing.T, yaml string, o CRIOptions) *CRIPod {
	t.Helper()
	pod, err := ParsePod([]byte(yaml), "test", "")
	if err != nil {
		t.Fatal(err)
	}
	if o.UID == "" {
		o.UID = "11111111-2222-4333-8444-555555555555"
	}
	if o.LogRoot == "" {
		o.LogRoot, o.PodRoot, o.CgroupRoot = "/var/log/pods", "/var/lib/kubelet/pods", "/kubepods"
	}
	cp, err := TranslateToCRI(pod, o)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func TestTranslatePodtest(t *testing.T) {
	var c *Case
	for _, x := range Cases() {
		if x.Name == "2c" {
			c = x
		}
	}
	cp := translate(t, c.Manifest("podtest", ""), CRIOptions{HostsFile: "/h/etc-hosts"})
	sb := cp.Sandbox
	if sb.Metadata.Name != "podtest" || sb.Metadata.Namespace != "default" || sb.Hostname != "podtest" {
		t.Fatalf("sandbox metadata/hostname: %+v %q", sb.Metadata, sb.Hostname)
	}
	if sb.LogDirectory != "/var/log/pods/default_podtest_11111111-2222-4333-8444-555555555555" {
		t.Fatalf("log dir %q", sb.LogDirectory)
	}
	if sb.Linux.CgroupParent != "/kubepods/besteffort/pod11111111-2222-4333-8444-555555555555" {
		t.Fatalf("cgroup parent %q", sb.Linux.CgroupParent)
	}
	nso := sb.Linux.SecurityContext.NamespaceOptions
	if nso.Network != NSModePod || nso.IPC != NSModePod || nso.PID != NSModeContainer {
		t.Fatalf("namespace options %+v: want net/ipc POD, pid CONTAINER", nso)
	}
	if len(cp.Containers) != 2 || len(cp.Init) != 0 {
		t.Fatalf("containers: %d init: %d", len(cp.Containers), len(cp.Init))
	}
	ed := cp.EmptyDirs["shared"]
	if ed != "/var/lib/kubelet/pods/11111111-2222-4333-8444-555555555555/volumes/kubernetes.io~empty-dir/shared" {
		t.Fatalf("emptyDir host path %q", ed)
	}
	for i, cc := range cp.Containers {
		name := []string{"c1", "c2"}[i]
		if cc.Metadata.Name != name || cc.Image.Image != "docker.io/library/busybox:latest" {
			t.Fatalf("container %d: %+v %+v", i, cc.Metadata, cc.Image)
		}
		if strings.Join(cc.Command, " ") != "sleep "+WorkloadArg || len(cc.Args) != 0 {
			t.Fatalf("command %q args %q", cc.Command, cc.Args)
		}
		if cc.LogPath != name+"/0.log" {
			t.Fatalf("log path %q", cc.LogPath)
		}
		if len(cc.Mounts) != 3 || cc.Mounts[0] != (CRIMount{ContainerPath: "/shared", HostPath: ed}) ||
			cc.Mounts[1] != (CRIMount{ContainerPath: "/etc/hosts", HostPath: "/h/etc-hosts"}) ||
			cc.Mounts[2] != (CRIMount{ContainerPath: "/dev/termination-log", HostPath: cp.TerminationLogs[name]}) {
			t.Fatalf("mounts %+v", cc.Mounts)
		}
		r := cc.Linux.Resources
		if r.OomScoreAdj != 1000 || r.CPUShares != 2 || r.MemoryLimitInBytes != 0 {
			t.Fatalf("BestEffort resources %+v", r)
		}
		sc := cc.Linux.SecurityContext
		if sc.NamespaceOptions.PID != NSModeContainer || !slices.Contains(sc.MaskedPaths, "/proc/interrupts") || sc.Seccomp.ProfileType != ProfileUnconfined {
			t.Fatalf("security context %+v", sc)
		}
	}
	// kubelet: the sandbox always RuntimeDefault; a BestEffort pod's cgroup
	// in the besteffort tier.
	if sc := cp.Sandbox.Linux.SecurityContext; sc.Seccomp.ProfileType != ProfileRuntimeDefault {
		t.Errorf("sandbox seccomp %+v, want RuntimeDefault", sc.Seccomp)
	}
	if p := cp.Sandbox.Linux.CgroupParent; !strings.HasPrefix(p, "/kubepods/besteffort/pod") || cp.PodCgroup != p {
		t.Errorf("cgroup parent %q (pod cgroup %q), want /kubepods/besteffort/pod<uid>", p, cp.PodCgroup)
	}
}

func TestTranslateJSONFieldNames(t *testing.T) {
	cp := translate(t, `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns1, labels: {app: x}}
spec:
  shareProcessNamespace: true
  containers:
  - name: c
    image: busybox:1.36
    args: [sh, -c, 'echo $(A)']
    env: [{name: A, value: a}, {name: B, value: '$(A)-b'}]
`, CRIOptions{})
	b, err := json.Marshal(cp.Sandbox)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"log_directory":`, `"cgroup_parent":`, `"namespace_options":{"network":0,"pid":0,"ipc":0}`, `"app":"x"`, `"io.kubernetes.pod.namespace":"ns1"`, `"seccomp":{"profile_type":0}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("sandbox JSON lacks %s: %s", want, b)
		}
	}
	b, _ = json.Marshal(cp.Containers[0])
	for _, want := range []string{`"image":{"image":"docker.io/library/busybox:1.36"}`, `"args":["sh","-c","echo $(A)"]`,
		`"envs":[{"key":"A","value":"a"},{"key":"B","value":"a-b"}]`, `"log_path":"c/0.log"`, `"masked_paths":`, `"readonly_paths":`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("container JSON lacks %s: %s", want, b)
		}
	}
	if strings.Contains(string(b), `"command"`) {
		t.Errorf("no command in the pod: the image's Entrypoint stays (%s)", b)
	}
}

func TestTranslateSecurityAndResources(t *testing.T) {
	cp := translate(t, `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostNetwork: true
  securityContext: {runAsUser: 1000, runAsGroup: 2000, supplementalGroups: [3000], sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: '80'}]}
  initContainers:
  - name: init
    image: busybox
    command: ['true']
  containers:
  - name: c
    image: busybox
    resources:
      requests: {cpu: 250m, memory: 64Mi}
      limits: {cpu: 500m, memory: 128Mi}
    securityContext:
      runAsUser: 0
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
      capabilities: {add: [NET_ADMIN], drop: [ALL]}
  - name: p
    image: busybox
    securityContext: {privileged: true}
`, CRIOptions{HostsFile: "/h", MemoryCapacity: 1 << 30})
	if cp.Sandbox.Hostname != "" || cp.Sandbox.Linux.SecurityContext.NamespaceOptions.Network != NSModeNode {
		t.Fatalf("hostNetwork: hostname %q, ns %+v", cp.Sandbox.Hostname, cp.Sandbox.Linux.SecurityContext.NamespaceOptions)
	}
	if cp.Sandbox.Linux.Sysctls["net.ipv4.ip_unprivileged_port_start"] != "80" {
		t.Fatalf("sysctls %+v", cp.Sandbox.Linux.Sysctls)
	}
	if len(cp.Init) != 1 || cp.Init[0].Metadata.Name != "init" {
		t.Fatalf("init %+v", cp.Init)
	}
	c := cp.Containers[0]
	for _, m := range c.Mounts {
		if m.ContainerPath == "/etc/hosts" {
			t.Fatal("kubelet does not mount its hosts file into hostNetwork pods")
		}
	}
	r := c.Linux.Resources
	if r.CPUShares != 256 || r.CPUQuota != 50000 || r.CPUPeriod != 100000 || r.MemoryLimitInBytes != 128<<20 {
		t.Fatalf("resources %+v", r)
	}
	// Burstable: 1000 - 1000*64Mi/1Gi = 938.
	if r.OomScoreAdj != 938 {
		t.Fatalf("oom_score_adj %d, want 938", r.OomScoreAdj)
	}
	sc := c.Linux.SecurityContext
	if sc.RunAsUser == nil || sc.RunAsUser.Value != 0 || sc.RunAsGroup.Value != 2000 || len(sc.SupplementalGroups) != 1 {
		t.Fatalf("user %+v %+v %v", sc.RunAsUser, sc.RunAsGroup, sc.SupplementalGroups)
	}
	if !sc.ReadonlyRootfs || !sc.NoNewPrivs || sc.Capabilities.AddCapabilities[0] != "NET_ADMIN" || sc.Capabilities.DropCapabilities[0] != "ALL" {
		t.Fatalf("security context %+v caps %+v", sc, sc.Capabilities)
	}
	p := cp.Containers[1].Linux.SecurityContext
	if !p.Privileged || p.MaskedPaths != nil || p.ReadonlyPaths != nil {
		t.Fatalf("privileged: %+v", p)
	}
}

func TestTranslateRejectsUnsupported(t *testing.T) {
	pod, err := ParsePod([]byte(`apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c, image: busybox, volumeMounts: [{name: cfg, mountPath: /cfg}]}]
  volumes: [{name: cfg, configMap: {name: x}}]
`), "t", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TranslateToCRI(pod, CRIOptions{UID: "u"}); err == nil || !strings.Contains(err.Error(), "only emptyDir and hostPath") {
		t.Fatalf("want an error for a configMap volume, got %v", err)
	}
	if _, err := TranslateToCRI(pod, CRIOptions{}); err == nil {
		t.Fatal("want an error without a UID")
	}
}

func TestKubeletHosts(t *testing.T) {
	h := KubeletHosts("10.0.0.5", "podtest")
	if !strings.HasPrefix(h, "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n") || !strings.HasSuffix(h, "10.0.0.5\tpodtest\n") {
		t.Fatalf("%q", h)
	}
}

func TestCasesParse(t *testing.T) {
	for _, c := range Cases() {
		for _, pp := range []string{"", "IfNotPresent"} {
			pod, err := ParsePod([]byte(c.Manifest("bench-"+c.Name+"-1", pp)), c.Name, "podsim-bench")
			if err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			if pod.Namespace != "podsim-bench" || pod.Name != "bench-"+c.Name+"-1" || len(pod.Spec.Containers) == 0 {
				t.Fatalf("%s: %+v", c.Name, pod.ObjectMeta)
			}
			if pp != "" && pod.Spec.Containers[0].ImagePullPolicy != corev1.PullIfNotPresent {
				t.Fatalf("%s: pull policy not set", c.Name)
			}
		}
	}
	if cs, err := FindCases([]string{"2c"}); err != nil || len(cs) != 1 {
		t.Fatal(cs, err)
	}
	if _, err := FindCases([]string{"nope"}); err == nil {
		t.Fatal("unknown case accepted")
	}
}
