package sandbox

import (
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// fieldWalkTypes are the structs whose fields the table names one by one;
// other struct fields (probes, affinity, lifecycle, ...) are one row each,
// and so are refused or warned ones (pod.spec.resources).
func fieldWalkTypes() map[reflect.Type]bool {
	m := map[reflect.Type]bool{}
	for _, v := range []any{
		corev1.PodSpec{}, corev1.Container{}, corev1.PodSecurityContext{}, corev1.SecurityContext{},
		corev1.Volume{}, corev1.EmptyDirVolumeSource{}, corev1.ConfigMapVolumeSource{}, corev1.SecretVolumeSource{},
		corev1.KeyToPath{}, corev1.VolumeMount{}, corev1.ContainerPort{}, corev1.EnvVar{},
		corev1.ResourceRequirements{}, corev1.PodOS{},
		corev1.DownwardAPIVolumeSource{}, corev1.DownwardAPIVolumeFile{}, corev1.ProjectedVolumeSource{},
		corev1.VolumeProjection{}, corev1.ConfigMapProjection{}, corev1.SecretProjection{},
		corev1.DownwardAPIProjection{}, corev1.HostPathVolumeSource{},
		appsv1.DeploymentSpec{}, appsv1.DeploymentStrategy{},
		corev1.ServiceSpec{}, corev1.ServicePort{},
	} {
		m[reflect.TypeOf(v)] = true
	}
	return m
}

// elemStruct is the struct type behind a field: T, *T or []T.
func elemStruct(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t
}

// TestFieldTableCoversAPI walks the k8s.io/api types of go.mod by their
// JSON names and fails for every field the table does not name, so a new
// Kubernetes version cannot slip a field past validation. With the row of
// pod.spec.hostname removed from fieldTable it fails with:
//
//	fields_test.go:57: pod.spec.hostname (string) is not in the field table (sandbox/fields.go): add it as supported, warned or refused
func TestFieldTableCoversAPI(t *testing.T) {
	known := map[string]Field{}
	for _, f := range Fields() {
		known[f.Path] = f
	}
	walk := fieldWalkTypes()
	var rec func(path string, typ reflect.Type)
	rec = func(path string, typ reflect.Type) {
		eachJSONField(typ, func(name string, idx []int) {
			ft := typ.FieldByIndex(idx).Type
			p := path + "." + name
			f, ok := known[p]
			if !ok {
				t.Errorf("%s (%s) is not in the field table (sandbox/fields.go): add it as supported, warned or refused", p, ft)
				return
			}
			// A refused or warned struct is one row: its fields never reach podsim.
			if walk[elemStruct(ft)] && f.Status == FieldSupported {
				rec(p, elemStruct(ft))
			}
		})
	}
	for root, typ := range fieldRoots() {
		rec(root, typ)
	}
}

// TestFieldTableHasNoStaleEntries fails for a row whose path is not a field
// of the k8s.io/api types (a typo, or a field Kubernetes removed), and for
// rows without text.
func TestFieldTableHasNoStaleEntries(t *testing.T) {
	roots := fieldRoots()
	seen := map[string]bool{}
	for _, f := range Fields() {
		if seen[f.Path] {
			t.Errorf("%s is in the table twice", f.Path)
		}
		seen[f.Path] = true
		if f.Kubernetes == "" || f.Podsim == "" {
			t.Errorf("%s: Kubernetes and Podsim text are required", f.Path)
		}
		switch f.Status {
		case FieldSupported, FieldWarned, FieldRefused:
		default:
			t.Errorf("%s: status %q", f.Path, f.Status)
		}
		if _, ok := roots[f.Path]; ok {
			continue
		}
		var typ reflect.Type
		var rest string
		for root, rt := range roots {
			if r, ok := strings.CutPrefix(f.Path, root+"."); ok {
				typ, rest = rt, r
			}
		}
		if typ == nil {
			t.Errorf("%s: not under pod.spec, deployment.spec or service.spec", f.Path)
			continue
		}
		for _, seg := range strings.Split(rest, ".") {
			var next reflect.Type
			if typ.Kind() == reflect.Struct {
				eachJSONField(typ, func(name string, idx []int) {
					if name == seg {
						next = elemStruct(typ.FieldByIndex(idx).Type)
					}
				})
			}
			if next == nil {
				t.Errorf("%s: %q is not a field of %s", f.Path, seg, typ)
				break
			}
			typ = next
		}
	}
}

func TestNearestFieldPath(t *testing.T) {
	for in, want := range map[string]string{
		"pod.spec.runAsNonRoot":                       "pod.spec.securityContext.runAsNonRoot",
		"pod.spec.hostnam":                            "pod.spec.hostname",
		"deploy.spec.template.spec.containers.imagee": "pod.spec.containers.image",
		"svc.spec.sessionAfinity":                     "service.spec.sessionAffinity",
	} {
		if got := NearestFieldPath(in); got != want {
			t.Errorf("NearestFieldPath(%q) = %q, want %q", in, got, want)
		}
	}
	if _, ok := LookupField("deployment.spec.template.spec.hostname"); !ok {
		t.Error("a Deployment's template fields are the pod's")
	}
	if len(FieldChildren("pod.spec.securityContext")) < 10 {
		t.Errorf("children of pod.spec.securityContext: %v", FieldChildren("pod.spec.securityContext"))
	}
}

// The fields that used to pass without a word: each is now refused or
// warned about by name (or, for runAsNonRoot, checked).
func TestValidateNamesEveryIgnoredField(t *testing.T) {
	for _, tc := range []struct {
		name, from, to    string
		wantErr, wantWarn string // "" = none
	}{
		// Without runAsUser the image's USER decides, once the images are known (VerifyRunAsNonRoot).
		{"runAsNonRoot without runAsUser", "  containers:\n", "  securityContext:\n    runAsNonRoot: true\n  containers:\n", "", ""},
		{"runAsNonRoot with uid 0", "    image: busybox\n", "    image: busybox\n    securityContext:\n      runAsNonRoot: true\n      runAsUser: 0\n", "container's runAsUser breaks non-root policy", ""},
		{"runAsNonRoot with uid 1000", "  containers:\n", "  securityContext:\n    runAsNonRoot: true\n    runAsUser: 1000\n  containers:\n", "", ""},
		{"runAsNonRoot false", "  containers:\n", "  securityContext:\n    runAsNonRoot: false\n  containers:\n", "", ""},
		{"fsGroup", "  containers:\n", "  securityContext:\n    fsGroup: 2000\n    fsGroupChangePolicy: OnRootMismatch\n    supplementalGroupsPolicy: Strict\n  containers:\n", "", ""},
		{"emptyDir.sizeLimit on disk (the agent evicts past it)", "    emptyDir: {}\n", "    emptyDir:\n      sizeLimit: 1Gi\n", "", ""},
		{"emptyDir.sizeLimit negative", "    emptyDir: {}\n", "    emptyDir:\n      sizeLimit: -1Gi\n", "spec.volumes[shared].emptyDir.sizeLimit -1Gi must not be negative", ""},
		{"pod-level resources", "  containers:\n", "  resources:\n    limits: {memory: 64Mi}\n  containers:\n", "pod-level resources are not supported yet", ""},
		{"emptyDir.sizeLimit in memory", "    emptyDir: {}\n", "    emptyDir:\n      medium: Memory\n      sizeLimit: 1Gi\n", "", ""},
		{"clusterTrustBundle", "    emptyDir: {}\n", "    projected:\n      sources:\n      - clusterTrustBundle: {name: x, path: ca.pem}\n", "spec.volumes[shared].projected.sources[0].clusterTrustBundle: clusterTrustBundle projections are not supported", ""},
		{"downwardAPI defaultUser", "    emptyDir: {}\n", "    downwardAPI:\n      defaultUser: 1000\n      items:\n      - {path: podname, fieldRef: {fieldPath: metadata.name}}\n", "spec.volumes[shared].downwardAPI.defaultUser", ""},
		// hostname, subdomain and hostAliases are built (hosts file, UTS namespace); bad values are refused.
		{"hostname", "  containers:\n", "  hostname: web\n  containers:\n", "", ""},
		{"hostname not a DNS label", "  containers:\n", "  hostname: Web_1\n  containers:\n", `spec.hostname "Web_1" is not a valid DNS label`, ""},
		{"subdomain", "  containers:\n", "  subdomain: web\n  containers:\n", "", ""},
		{"hostAliases", "  containers:\n", "  hostAliases:\n  - ip: 10.0.0.1\n    hostnames: [x]\n  containers:\n", "", ""},
		{"hostAliases with a bad IP", "  containers:\n", "  hostAliases:\n  - ip: 10.0.0.300\n    hostnames: [x]\n  containers:\n", `spec.hostAliases[0].ip "10.0.0.300" is not an IP address`, ""},
		{"dnsPolicy Default", "  containers:\n", "  dnsPolicy: Default\n  containers:\n", "", ""},
		{"dnsPolicy bogus", "  containers:\n", "  dnsPolicy: Cluster\n  containers:\n", `spec.dnsPolicy "Cluster" is not valid`, ""},
		{"dnsPolicy None without nameservers", "  containers:\n", "  dnsPolicy: None\n  containers:\n", "must provide at least one DNS nameserver", ""},
		{"dnsPolicy ClusterFirst", "  containers:\n", "  dnsPolicy: ClusterFirst\n  containers:\n", "", ""},
		{"dnsConfig", "  containers:\n", "  dnsConfig:\n    nameservers: [1.1.1.1]\n  containers:\n", "", ""},
		{"dnsConfig four nameservers", "  containers:\n", "  dnsConfig:\n    nameservers: [1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4]\n  containers:\n", "must not have more than 3 nameservers", ""},
		{"dnsConfig nameserver not an IP", "  containers:\n", "  dnsConfig:\n    nameservers: [dns.example]\n  containers:\n", `nameservers[0] "dns.example" is not an IP address`, ""},
		{"dnsConfig bad search", "  containers:\n", "  dnsConfig:\n    searches: [Bad_Domain]\n  containers:\n", `searches[0] "Bad_Domain" is not a valid domain`, ""},
		{"seccomp RuntimeDefault", "  containers:\n", "  securityContext:\n    seccompProfile:\n      type: RuntimeDefault\n  containers:\n", "", ""},
		{"seccomp Localhost without a name", "    image: busybox\n", "    image: busybox\n    securityContext:\n      seccompProfile:\n        type: Localhost\n", "localhostProfile is required", ""},
		{"seccomp Localhost outside the root", "    image: busybox\n", "    image: busybox\n    securityContext:\n      seccompProfile:\n        type: Localhost\n        localhostProfile: ../x.json\n", "relative path below the seccomp profile root", ""},
		{"seccomp bogus type", "  containers:\n", "  securityContext:\n    seccompProfile:\n      type: Strict\n  containers:\n", `seccompProfile.type "Strict" is not valid`, ""},
		{"procMount Unmasked with host users", "    image: busybox\n", "    image: busybox\n    securityContext:\n      procMount: Unmasked\n", "`hostUsers` must be false to use `Unmasked`", ""},
		{"procMount Default", "    image: busybox\n", "    image: busybox\n    securityContext:\n      procMount: Default\n", "", ""},
		{"appArmor annotation for a missing container", "  name: podtest\n", "  name: podtest\n  annotations:\n    container.apparmor.security.beta.kubernetes.io/nope: runtime/default\n", `container "nope" not found`, ""},
		{"activeDeadlineSeconds", "  containers:\n", "  activeDeadlineSeconds: 30\n  containers:\n", "", ""},
		{"runtimeClassName", "  containers:\n", "  runtimeClassName: gvisor\n  containers:\n", "", ""},
		{"runtimeClassName not a name", "  containers:\n", "  runtimeClassName: G_Visor\n  containers:\n", `spec.runtimeClassName "G_Visor"`, ""},
		{"schedulingGates", "  containers:\n", "  schedulingGates:\n  - name: wait\n  containers:\n", "spec.schedulingGates", ""},
		{"enableServiceLinks true", "  containers:\n", "  enableServiceLinks: true\n  containers:\n", "", "spec.enableServiceLinks"},
		{"enableServiceLinks false", "  containers:\n", "  enableServiceLinks: false\n  containers:\n", "", ""},
		{"terminationMessagePolicy", "    image: busybox\n", "    image: busybox\n    terminationMessagePolicy: FallbackToLogsOnError\n", "", ""},
		{"terminationMessagePolicy not valid", "    image: busybox\n", "    image: busybox\n    terminationMessagePolicy: Sometimes\n", `spec.containers[0].terminationMessagePolicy "Sometimes" is not valid`, ""},
		{"ephemeral-storage limit", "    image: busybox\n", "    image: busybox\n    resources:\n      limits:\n        ephemeral-storage: 1Gi\n", "limits.ephemeral-storage is not supported", ""},
		{"ephemeral-storage request", "    image: busybox\n", "    image: busybox\n    resources:\n      requests:\n        ephemeral-storage: 1Gi\n", "", "requests.ephemeral-storage is ignored"},
		{"init sidecar", "  containers:\n", "  initContainers:\n  - name: side\n    image: busybox\n    restartPolicy: Always\n  containers:\n", "", ""},
		{"init restartPolicy Never", "  containers:\n", "  initContainers:\n  - name: side\n    image: busybox\n    restartPolicy: Never\n  containers:\n", `spec.initContainers[0].restartPolicy "Never" is not valid`, ""},
		{"app container restartPolicy", "    image: busybox\n", "    image: busybox\n    restartPolicy: Always\n", "spec.containers[c1].restartPolicy", ""},
		{"postStart exec", "    image: busybox\n", "    image: busybox\n    lifecycle:\n      postStart:\n        exec:\n          command: [\"true\"]\n", "", ""},
		{"preStop httpGet to another host", "    image: busybox\n", "    image: busybox\n    lifecycle:\n      preStop:\n        httpGet:\n          host: example.com\n          port: 80\n", "preStop.httpGet.host \"example.com\" is not supported", ""},
		{"preStop tcpSocket", "    image: busybox\n", "    image: busybox\n    lifecycle:\n      preStop:\n        tcpSocket:\n          port: 80\n", "preStop.tcpSocket is not supported", ""},
		{"postStart httpGet with an unknown port name", "    image: busybox\n", "    image: busybox\n    lifecycle:\n      postStart:\n        httpGet:\n          port: web\n", `has no port named "web"`, ""},
		{"stopSignal", "    image: busybox\n", "    image: busybox\n    lifecycle:\n      stopSignal: SIGUSR1\n", "lifecycle.stopSignal is not supported", ""},
		{"hooks on a regular init container", "  containers:\n", "  initContainers:\n  - name: i\n    image: busybox\n    lifecycle:\n      preStop:\n        sleep:\n          seconds: 1\n  containers:\n", "only app containers and native sidecars", ""},
		{"probe", "    image: busybox\n", "    image: busybox\n    readinessProbe:\n      exec:\n        command: [\"true\"]\n", "", ""},
		{"probe without handler", "    image: busybox\n", "    image: busybox\n    livenessProbe:\n      periodSeconds: 1\n", "spec.containers[c1].livenessProbe needs exactly one handler", ""},
		{"probe on init container", "  containers:\n", "  initContainers:\n  - name: setup\n    image: busybox\n    readinessProbe:\n      exec:\n        command: [\"true\"]\n  containers:\n", "spec.initContainers[setup]: probes are only allowed", ""},
		{"hostNetwork false", "  containers:\n", "  hostNetwork: false\n  containers:\n", "", ""},
		{"nfs volume", "    emptyDir: {}\n", "    nfs:\n      server: x\n      path: /\n", "spec.volumes[shared].nfs: nfs volumes are not supported", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := strings.Replace(base, tc.from, tc.to, 1)
			if y == base {
				t.Fatalf("test bug: %q not found", tc.from)
			}
			w, err := Validate(parsePod(t, y).Pod)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("err = %v, want it to contain %q", err, tc.wantErr)
			}
			joined := strings.Join(w, "\n")
			switch {
			case tc.wantWarn == "" && len(w) > 0:
				t.Errorf("unexpected warnings: %q", w)
			case tc.wantWarn != "" && !strings.Contains(joined, tc.wantWarn):
				t.Errorf("warnings %q, want one containing %q", w, tc.wantWarn)
			}
		})
	}
}

func TestVerifyRunAsNonRoot(t *testing.T) {
	yes, uid0, uid1 := true, int64(0), int64(1000)
	pod := &corev1.Pod{}
	pod.Name, pod.Namespace = "p", "default"
	for _, tc := range []struct {
		name      string
		sc        *corev1.SecurityContext
		imageUser string
		want      string
	}{
		{"not asked", nil, "", ""},
		{"root image", &corev1.SecurityContext{RunAsNonRoot: &yes}, "", "container has runAsNonRoot and image will run as root"},
		{"image uid 0", &corev1.SecurityContext{RunAsNonRoot: &yes}, "0:0", "image will run as root"},
		{"image uid 1000", &corev1.SecurityContext{RunAsNonRoot: &yes}, "1000:1000", ""},
		{"image user name", &corev1.SecurityContext{RunAsNonRoot: &yes}, "nginx", "non-numeric user (nginx)"},
		{"runAsUser 0", &corev1.SecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid0}, "1000", "breaks non-root policy"},
		{"runAsUser 1000 over root image", &corev1.SecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid1}, "", ""},
	} {
		err := VerifyRunAsNonRoot(pod, &corev1.Container{Name: "c", SecurityContext: tc.sc}, tc.imageUser)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestDeploymentAndServiceFields(t *testing.T) {
	dep := func(spec string) *appsv1.Deployment {
		y := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n" + spec +
			"  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: c\n        image: busybox\n"
		return parsePod(t, y).Deployment
	}
	svc := func(spec string) *corev1.Service {
		return parsePod(t, "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n"+spec).Service
	}
	for _, tc := range []struct {
		name, wantErr, wantWarn string
		check                   func() ([]string, error)
	}{
		{"deployment plain", "", "", func() ([]string, error) { return CheckDeploymentFields(dep("")) }},
		{"strategy Recreate", "", "", func() ([]string, error) { return CheckDeploymentFields(dep("  strategy:\n    type: Recreate\n")) }},
		{"strategy RollingUpdate", "", "", func() ([]string, error) {
			return CheckDeploymentFields(dep("  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 1\n"))
		}},
		{"paused", "", "", func() ([]string, error) { return CheckDeploymentFields(dep("  paused: true\n")) }},
		{"revisionHistoryLimit", "", "revisionHistoryLimit is ignored", func() ([]string, error) { return CheckDeploymentFields(dep("  revisionHistoryLimit: 3\n")) }},
		{"service plain", "", "", func() ([]string, error) { return CheckServiceFields(svc("")) }},
		{"clusterIP", `service web: spec.clusterIP "10.96.0.10": clusterIP is not supported`, "", func() ([]string, error) { return CheckServiceFields(svc("  clusterIP: 10.96.0.10\n")) }},
		{"clusterIP None", "", "", func() ([]string, error) { return CheckServiceFields(svc("  clusterIP: None\n")) }},
		{"sessionAffinity", "spec.sessionAffinity \"ClientIP\"", "", func() ([]string, error) { return CheckServiceFields(svc("  sessionAffinity: ClientIP\n")) }},
		{"NodePort", `spec.type "NodePort": this type is not supported: podsim opens no node ports`, "", func() ([]string, error) { return CheckServiceFields(svc("  type: NodePort\n")) }},
		{"LoadBalancer", `spec.type "LoadBalancer"`, "", func() ([]string, error) { return CheckServiceFields(svc("  type: LoadBalancer\n")) }},
		{"ClusterIP type", "", "", func() ([]string, error) { return CheckServiceFields(svc("  type: ClusterIP\n")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := tc.check()
			if (tc.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			if (tc.wantWarn == "") != (len(w) == 0) || tc.wantWarn != "" && !strings.Contains(strings.Join(w, "\n"), tc.wantWarn) {
				t.Errorf("warnings = %q, want %q", w, tc.wantWarn)
			}
		})
	}
}
