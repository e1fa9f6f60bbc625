package sandbox

import (
	"strings"
	"testing"

	"github.com/podsim/podsim/cgroups"
)

func parsePod(t *testing.T, y string) *Object {
	t.Helper()
	objs, err := ParseManifests(strings.NewReader(y), "test.yaml")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return &objs[0]
}

const base = `apiVersion: v1
kind: Pod
metadata:
  name: podtest
spec:
  containers:
  - name: c1
    image: busybox
    volumeMounts:
    - name: shared
      mountPath: /shared
  volumes:
  - name: shared
    emptyDir: {}
`

func TestValidateAcceptsArticlePod(t *testing.T) {
	o := parsePod(t, base)
	if _, err := Validate(o.Pod); err != nil {
		t.Fatal(err)
	}
	if o.Pod.Namespace != "default" {
		t.Errorf("namespace not defaulted: %q", o.Pod.Namespace)
	}
}

func TestValidateRejects(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"missing image", "    image: busybox\n", "", "image is required"},
		{"missing container name", "  - name: c1\n", "  - name: \"\"\n", "name is required"},
		{"undefined volume", "    - name: shared\n      mountPath", "    - name: nope\n      mountPath", `volume "nope" is not defined`},
		{"bad pod name", "name: podtest", "name: Pod_Test", "not a valid name"},
		{"relative mountPath", "mountPath: /shared", "mountPath: shared", "must be an absolute path"},
		{"dot-dot mountPath", "mountPath: /shared", "mountPath: /shared/../../etc", "must not contain '..'"},
		{"relative hostPath", "    emptyDir: {}\n", "    hostPath:\n      path: tmp\n", "must be an absolute path"},
		{"bad hostPath type", "    emptyDir: {}\n", "    hostPath:\n      path: /tmp\n      type: Dir\n", `hostPath.type "Dir" is not valid`},
		{"downwardAPI podIP in a volume", "    emptyDir: {}\n", "    downwardAPI:\n      items:\n      - path: ip\n        fieldRef: {fieldPath: status.podIP}\n", `fieldPath "status.podIP" is not supported in a volume`},
		{"downwardAPI resource without container", "    emptyDir: {}\n", "    downwardAPI:\n      items:\n      - path: mem\n        resourceFieldRef: {resource: limits.memory}\n", "containerName \"\" must name one of the pod's containers"},
		{"projected token", "    emptyDir: {}\n", "    projected:\n      sources:\n      - serviceAccountToken: {path: token}\n", "serviceAccountToken projections are not supported"},
		{"projected duplicate path", "    emptyDir: {}\n", "    projected:\n      sources:\n      - downwardAPI:\n          items:\n          - {path: a, fieldRef: {fieldPath: metadata.name}}\n      - downwardAPI:\n          items:\n          - {path: a, fieldRef: {fieldPath: metadata.uid}}\n", "projected twice"},
		{"fsGroupChangePolicy value", "  containers:\n", "  securityContext:\n    fsGroupChangePolicy: Sometimes\n  containers:\n", `fsGroupChangePolicy "Sometimes" is not valid`},
		{"port out of range", "    image: busybox\n", "    image: busybox\n    ports:\n    - containerPort: 70000\n", "out of range"},
		{"negative memory", "    image: busybox\n", "    image: busybox\n    resources:\n      limits:\n        memory: -1Mi\n", "must not be negative"},
		{"host sysctl", "  containers:\n", "  securityContext:\n    sysctls:\n    - name: vm.max_map_count\n      value: '1'\n  containers:\n", "not a namespaced sysctl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := strings.Replace(base, tc.from, tc.to, 1)
			if y == base {
				t.Fatalf("test bug: %q not found", tc.from)
			}
			o := parsePod(t, y)
			_, err := Validate(o.Pod)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestValidateDuplicateContainer(t *testing.T) {
	y := strings.Replace(base, "  volumes:\n", "  - name: c1\n    image: busybox\n  volumes:\n", 1)
	_, err := Validate(parsePod(t, y).Pod)
	if err == nil || !strings.Contains(err.Error(), `"c1" is used twice`) {
		t.Fatalf("err = %v", err)
	}
}

func TestValidateWarnsAboutIgnoredFields(t *testing.T) {
	y := strings.Replace(base, "  containers:\n", "  nodeName: n1\n  containers:\n", 1)
	w, err := Validate(parsePod(t, y).Pod)
	if err != nil || len(w) != 1 || !strings.Contains(w[0], "nodeName") {
		t.Fatalf("warnings %v, err %v", w, err)
	}
	// restartPolicy is enforced by the node agent: no warning.
	y = strings.Replace(base, "  containers:\n", "  restartPolicy: OnFailure\n  containers:\n", 1)
	if w, err := Validate(parsePod(t, y).Pod); err != nil || len(w) != 0 {
		t.Fatalf("restartPolicy: warnings %v, err %v", w, err)
	}
}

func TestParseManifestErrors(t *testing.T) {
	for _, tc := range []struct{ name, y, want string }{
		{"unknown field", strings.Replace(base, "    image: busybox\n", "    image: busybox\n    imagee: x\n", 1), `unknown field "spec.containers[0].imagee"`},
		{"unknown kind", "apiVersion: v1\nkind: Servicez\nmetadata:\n  name: x\n", `kind "Servicez"`},
		{"wrong apiVersion", "apiVersion: apps/v1\nkind: Pod\nmetadata:\n  name: x\n", "use apiVersion: v1"},
		{"no kind", "apiVersion: v1\nmetadata:\n  name: x\n", "no kind"},
		{"malformed yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [x\n", "line"},
		{"wrong type", strings.Replace(base, "name: podtest", "name: [a, b]", 1), "cannot unmarshal"},
		{"empty", "# nothing\n", "no objects"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseManifests(strings.NewReader(tc.y), "f.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseMultiDocument(t *testing.T) {
	y := base + "---\n" + `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: busybox
`
	objs, err := ParseManifests(strings.NewReader(y), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].Kind() != "Pod" || objs[1].Kind() != "Deployment" {
		t.Fatalf("objs = %+v", objs)
	}
}

func TestNaming(t *testing.T) {
	id, uid := newIDs()
	if len(id) != 12 || len(uid) != 36 || uid[14] != '4' {
		t.Errorf("id %q uid %q", id, uid)
	}
	p := parsePod(t, base).Pod
	p.Namespace = "default"
	if n := netnsName(p, id); n != "podsim-podtest-"+id[:6] {
		t.Errorf("netns name %q", n)
	}
	if got := cgroups.ContainerPath(cgroups.PodPath(uid, QOSGuaranteed), ContainerID(id, "c1")); !strings.HasPrefix(got, "/podsim/pod") || !strings.HasSuffix(got, "/"+id+"-c1") {
		t.Errorf("container cgroup %q", got)
	}
	if strings.Contains(cgroups.PodPath(uid, QOSGuaranteed), "-") {
		t.Errorf("pod cgroup %q: kubelet's cgroupfs names use _ for -", cgroups.PodPath(uid, QOSGuaranteed))
	}
}
