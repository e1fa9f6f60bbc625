package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestIntegrationEnvFrom: env.valueFrom and envFrom are read as kubelet
// reads them — ConfigMap and Secret keys, the downward API's fields and
// resources, envFrom with a prefix, $(VAR) expanded in literal values only
// — and the container's process has them:
// checked in `env` inside and, independently, in /proc/<pid>/environ of the
// process found through the pod cgroup.
func TestIntegrationEnvFrom(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	objs := writeManifest(t, `apiVersion: v1
kind: ConfigMap
metadata: {name: envcfg}
data: {color: teal, size: XL, raw: 'a$$b$(POD_NAME)'}
---
apiVersion: v1
kind: Secret
metadata: {name: envsec}
stringData: {token: t0k3n}
`)
	t.Cleanup(func() { podsim(t, "", "delete", "-f", objs) })
	mustPodsim(t, "apply", "-f", objs)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: envpod, labels: {tier: back}}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: busybox
    command: ['sleep', '3600']
    resources: {limits: {memory: 48Mi}}
    envFrom:
    - prefix: CFG_
      configMapRef: {name: envcfg}
    env:
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: TIER, valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}}
    - {name: MEM_MI, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    - {name: TOKEN, valueFrom: {secretKeyRef: {name: envsec, key: token}}}
    - {name: GREETING, value: "hi $(POD_NAME) in $(CFG_color)"}
    - {name: LITERAL, value: "$(PATH)|$$(POD_NAME)"}
`, "envpod")
	p := getPod(t, "envpod")
	want := map[string]string{"CFG_color": "teal", "CFG_size": "XL", "POD_NAME": "envpod", "POD_IP": p.Status.PodIP,
		"TIER": "back", "MEM_MI": "48", "TOKEN": "t0k3n", "GREETING": "hi envpod in teal",
		// kubelet expands only literal values, over the variables it made
		// (not the image's PATH); a ConfigMap's value is taken as it is.
		"CFG_raw": "a$$b$(POD_NAME)", "LITERAL": "$(PATH)|$(POD_NAME)"}
	inside := mustPodsim(t, "exec", "envpod", "--", "env")
	pid := containerPIDs(t, string(p.UID))[strings.TrimPrefix(containerStatus(p, "app").ContainerID, "containerd://")]
	if pid == 0 {
		t.Fatalf("app's process not found in the pod cgroup")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	environ := "\n" + strings.ReplaceAll(string(b), "\x00", "\n")
	for k, v := range want {
		if !strings.Contains("\n"+inside, "\n"+k+"="+v+"\n") {
			t.Errorf("env inside lacks %s=%s:\n%s", k, v, inside)
		}
		if !strings.Contains(environ, "\n"+k+"="+v+"\n") {
			t.Errorf("/proc/%d/environ lacks %s=%s", pid, k, v)
		}
	}
}

// TestIntegrationHostnameAndAliases: spec.hostname, subdomain and
// hostAliases as kubelet applies them: the nodename of the container's UTS
// namespace (inside, and from the host with nsenter into the process found
// through the pod cgroup), $HOSTNAME, the FQDN line and the HostAliases
// section of /etc/hosts.
func TestIntegrationHostnameAndAliases(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: named-pod}
spec:
  restartPolicy: Never
  hostname: cache
  subdomain: tier
  hostAliases:
  - {ip: 10.9.8.7, hostnames: [legacy.example, old.example]}
  containers:
  - name: app
    image: busybox
    command: ['sleep', '3600']
`, "named-pod")
	if out := strings.TrimSpace(mustPodsim(t, "exec", "named-pod", "--", "hostname")); out != "cache" {
		t.Errorf("UTS hostname inside = %q, want cache", out)
	}
	p := getPod(t, "named-pod")
	pid := containerPIDs(t, string(p.UID))[strings.TrimPrefix(containerStatus(p, "app").ContainerID, "containerd://")]
	if pid == 0 {
		t.Fatalf("app's process not found in the pod cgroup")
	}
	// The kernel's view, checked with a host tool: enter only the
	// process's UTS namespace and ask for its nodename.
	out, err := exec.Command("nsenter", "-t", fmt.Sprint(pid), "-u", "hostname").Output()
	if err != nil {
		t.Fatalf("nsenter -t %d -u hostname: %v", pid, err)
	}
	if got := strings.TrimSpace(string(out)); got != "cache" {
		t.Errorf("nodename of the container's UTS namespace = %q, want cache", got)
	}
	hosts := mustPodsim(t, "exec", "named-pod", "--", "cat", "/etc/hosts")
	for _, line := range []string{p.Status.PodIP + "\tcache.tier.default.svc.cluster.local\tcache\n", "# Entries added by HostAliases.\n10.9.8.7\tlegacy.example\told.example\n"} {
		if !strings.Contains(hosts, line) {
			t.Errorf("/etc/hosts lacks %q:\n%s", line, hosts)
		}
	}
	if out := strings.TrimSpace(mustPodsim(t, "exec", "named-pod", "--", "sh", "-c", "echo $HOSTNAME")); out != "cache" {
		t.Errorf("$HOSTNAME = %q, want cache", out)
	}

	// setHostnameAsFQDN: the UTS nodename is the FQDN (read from the host
	// with nsenter again), the hosts line is unchanged.
	applyPod(t, `apiVersion: v1
kind: Pod
metadata: {name: fqdn-pod}
spec:
  restartPolicy: Never
  hostname: db
  subdomain: tier
  setHostnameAsFQDN: true
  containers:
  - name: app
    image: busybox
    command: ['sleep', '3600']
`, "fqdn-pod")
	p = getPod(t, "fqdn-pod")
	pid = containerPIDs(t, string(p.UID))[strings.TrimPrefix(containerStatus(p, "app").ContainerID, "containerd://")]
	out, err = exec.Command("nsenter", "-t", fmt.Sprint(pid), "-u", "hostname").Output()
	if got := strings.TrimSpace(string(out)); err != nil || got != "db.tier.default.svc.cluster.local" {
		t.Errorf("setHostnameAsFQDN: nodename of the container's UTS namespace = %q (%v), want db.tier.default.svc.cluster.local", got, err)
	}
}
