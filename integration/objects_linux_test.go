package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestIntegrationServicesAndVolumes: a Service resolves to its pods in
// every pod, ConfigMap and Secret volumes (items, defaultMode, subPath),
// Secrets on tmpfs, an update reaching a running pod, client pods.
// Names and ports are deliberately not the article's.
func TestIntegrationServicesAndVolumes(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	manifest := `apiVersion: v1
kind: ConfigMap
metadata:
  name: site
data:
  index.html: "hello podsim\n"
  extra.conf: "k=v\n"
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
type: Opaque
data:
  password: czNjcjN0          # s3cr3t
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: search
spec:
  replicas: 2
  selector:
    matchLabels: {tier: search}
  template:
    metadata:
      labels: {tier: search}
    spec:
      containers:
      - name: web
        image: busybox
        command: ['sh', '-c', 'mkdir -p /www && cp /site/index.html /www/ && exec httpd -f -p 7070 -h /www']
        ports: [{name: web, containerPort: 7070}]
        volumeMounts:
        - {name: site, mountPath: /site}
        - {name: site, mountPath: /etc/one.conf, subPath: extra.conf}
        - {name: creds, mountPath: /creds}
      volumes:
      - name: site
        configMap:
          name: site
          items:
          - {key: index.html, path: index.html}
          - {key: extra.conf, path: extra.conf, mode: 0600}
      - name: creds
        secret:
          secretName: creds
          defaultMode: 0400
---
apiVersion: v1
kind: Service
metadata:
  name: finder
spec:
  selector: {tier: search}
  ports:
  - port: 7070
    targetPort: web
`
	p := writeManifest(t, manifest)
	t.Cleanup(func() { podsim(t, "", "delete", "-f", p, "--grace-period=1") })
	out := mustPodsim(t, "apply", "-f", p)
	for _, want := range []string{"configmap/site created", "secret/creds created", "deployment.apps/search created", "service/finder created"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output %q lacks %q", out, want)
		}
	}
	// Endpoints are the two pods' IPs.
	var ips []string
	for _, n := range strings.Fields(mustPodsim(t, "get", "pods", "-l", "tier=search", "-o", "name")) {
		ips = append(ips, getPod(t, strings.TrimPrefix(n, "pod/")).Status.PodIP)
	}
	svc := mustPodsim(t, "get", "svc", "finder")
	for _, ip := range ips {
		if !strings.Contains(svc, ip) {
			t.Errorf("get svc does not list endpoint %s:\n%s", ip, svc)
		}
	}
	// A client pod resolves the Service (short and FQDN) and fetches the ConfigMap's page.
	for _, host := range []string{"finder", "finder.default.svc.cluster.local"} {
		r := podsim(t, "", "run", "-i", "--rm", "--image=busybox", "client", "--", "wget", "-qO-", "http://"+host+":7070/index.html")
		if r.code != 0 || r.stdout != "hello podsim\n" {
			t.Errorf("client fetch from %s: %s", host, r)
		}
	}
	// The hosts file the containers see is one inode, rewritten in place.
	hosts := mustPodsim(t, "exec", "deploy/search", "--", "cat", "/etc/hosts")
	if !regexp.MustCompile(`(?m)^\d+\.\d+\.\d+\.\d+\tfinder finder\.default `).MatchString(hosts) {
		t.Errorf("/etc/hosts lacks the Service:\n%s", hosts)
	}
	// Volumes: items, modes, subPath, secret on tmpfs.
	ls := mustPodsim(t, "exec", "deploy/search", "--", "sh", "-c", "stat -L -c '%a %n' /site/extra.conf /creds/password; cat /etc/one.conf /creds/password")
	for _, want := range []string{"600 /site/extra.conf", "400 /creds/password", "k=v\n", "s3cr3t"} {
		if !strings.Contains(ls, want) {
			t.Errorf("volume contents %q lack %q", ls, want)
		}
	}
	if r := podsim(t, "", "exec", "deploy/search", "--", "sh", "-c", "echo x > /site/new"); r.code == 0 {
		t.Errorf("configMap volume is writable")
	}
	pod := getPod(t, strings.TrimPrefix(strings.Fields(mustPodsim(t, "get", "pods", "-l", "tier=search", "-o", "name"))[0], "pod/"))
	secretDirs, _ := filepath.Glob("/run/podsim/pods/*/volumes/kubernetes.io~secret/creds")
	if len(secretDirs) != 2 {
		t.Fatalf("secret volume dirs = %v", secretDirs)
	}
	for _, d := range secretDirs {
		if fs := run(t, "stat", "-f", "-c", "%T", d); strings.TrimSpace(fs) != "tmpfs" {
			t.Errorf("secret volume %s is on %s, not tmpfs", d, fs)
		}
	}
	_ = pod
	// An update to the ConfigMap reaches the running pods (not the subPath file, as in Kubernetes).
	p2 := writeManifest(t, strings.Replace(strings.Replace(manifest, `hello podsim\n`, `hello again\n`, 1), `k=v\n`, `k=w\n`, 1))
	if out := mustPodsim(t, "apply", "-f", p2); !strings.Contains(out, "configmap/site configured") || !strings.Contains(out, "deployment.apps/search unchanged") {
		t.Errorf("re-apply: %q", out)
	}
	if out := mustPodsim(t, "exec", "deploy/search", "--", "cat", "/site/index.html", "/etc/one.conf"); out != "hello again\nk=v\n" {
		t.Errorf("after update: %q (want the new index.html and the old subPath file)", out)
	}
	// -o json of a Service and a Secret (data base64 in JSON, as kubectl).
	var s map[string]any
	if err := json.Unmarshal([]byte(mustPodsim(t, "get", "secret", "creds", "-o", "json")), &s); err != nil || s["kind"] != "Secret" {
		t.Errorf("get secret -o json: %v %v", err, s)
	}
	// Deleting the Deployment removes the Service's endpoints from the hosts files of other pods.
	applyPod(t, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: watcher\nspec:\n  containers:\n  - {name: c, image: busybox, command: [sleep, '5000']}\n", "watcher")
	if h := mustPodsim(t, "exec", "watcher", "--", "cat", "/etc/hosts"); !strings.Contains(h, "finder") {
		t.Errorf("new pod's hosts file lacks the Service: %s", h)
	}
	mustPodsim(t, "delete", "deployment", "search")
	if h := mustPodsim(t, "exec", "watcher", "--", "cat", "/etc/hosts"); strings.Contains(h, "finder") {
		t.Errorf("hosts file still resolves the Service after its pods are gone: %s", h)
	}
}

// TestIntegrationObjectErrors: each gets a clear error and leaves nothing.
func TestIntegrationObjectErrors(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	pod := func(vol string, mounts string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: objpod\nspec:\n  containers:\n  - name: c\n    image: busybox\n    command: [sleep, '5000']\n" +
			"    volumeMounts:\n" + mounts + "  volumes:\n" + vol
	}
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: b\n---\n"
	for _, tc := range []struct{ name, manifest, want string }{
		{"missing configmap", pod("  - name: v\n    configMap: {name: nope}\n", "    - {name: v, mountPath: /v}\n"), `configmap "nope" (volume "v") not found`},
		{"missing secret", pod("  - name: v\n    secret: {secretName: nope}\n", "    - {name: v, mountPath: /v}\n"), `secret "nope" (volume "v") not found`},
		{"missing key in items", cm + pod("  - name: v\n    configMap:\n      name: cfg\n      items: [{key: zz, path: zz}]\n", "    - {name: v, mountPath: /v}\n"), `has no key "zz"`},
		{"subPath to a missing key", cm + pod("  - name: v\n    configMap: {name: cfg}\n", "    - {name: v, mountPath: /etc/x.conf, subPath: missing.conf}\n"), `subPath "missing.conf" of volume "v" does not exist`},
		{"subPath escaping", cm + pod("  - name: v\n    configMap: {name: cfg}\n", "    - {name: v, mountPath: /x, subPath: ../../etc}\n"), "must be a relative path without '..'"},
		{"bad base64 in a secret", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bad\ndata:\n  k: '!!notbase64'\n", "illegal base64"},
		{"service port != targetPort", "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  selector: {a: b}\n  ports: [{port: 80, targetPort: 8080}]\n", "cannot forward one port to another"},
		{"NodePort service", "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  type: NodePort\n  selector: {a: b}\n  ports: [{port: 80}]\n", "never exposes pods outside the machine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeManifest(t, tc.manifest)
			t.Cleanup(func() { podsim(t, "", "delete", "-f", p) })
			r := podsim(t, "", "apply", "-f", p)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("want an error containing %q, got %s", tc.want, r)
			}
		})
	}
	t.Run("service selecting nothing warns", func(t *testing.T) {
		p := writeManifest(t, "apiVersion: v1\nkind: Service\nmetadata:\n  name: lonely\nspec:\n  selector: {app: none}\n  ports: [{port: 80}]\n")
		t.Cleanup(func() { podsim(t, "", "delete", "-f", p) })
		r := podsim(t, "", "apply", "-f", p)
		if r.code != 0 || !strings.Contains(r.stderr, "selects no pods yet") {
			t.Errorf("got %s", r)
		}
		if out := mustPodsim(t, "get", "svc", "lonely"); !strings.Contains(out, "<none>") {
			t.Errorf("get svc: %s", out)
		}
	})
	t.Run("client pod with an unknown image", func(t *testing.T) {
		r := podsim(t, "", "run", "-i", "--rm", "--image=nosuch/image:9", "cli", "--", "true")
		if r.code == 0 || !strings.Contains(r.stderr, `image "nosuch/image:9" is not available offline`) {
			t.Errorf("got %s", r)
		}
	})
	t.Run("client pod exit code and --rm", func(t *testing.T) {
		r := podsim(t, "", "run", "-i", "--rm", "--image=busybox", "cli", "--", "sh", "-c", "echo out; exit 5")
		if r.code != 5 || r.stdout != "out\n" {
			t.Errorf("got %s", r)
		}
		if r := podsim(t, "", "get", "pod", "cli"); r.code == 0 {
			t.Errorf("--rm left the pod: %s", r)
		}
	})
	t.Run("client pod piped into head", func(t *testing.T) {
		out, err := runShell("set -o pipefail; " + podsimBin + " run -i --rm --image=busybox pipe -- seq 1 200000 | head -2")
		if out != "1\n2\n" {
			t.Errorf("output %q (err %v)", out, err)
		}
		if r := podsim(t, "", "get", "pod", "pipe"); r.code == 0 {
			t.Errorf("pod left after the reader went away: %s", r)
		}
	})
	_ = os.Getpid
}
