package podgraph

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsim/podsim/namespaces"
	"github.com/podsim/podsim/sandbox"
)

func ns(typ string, ino uint64) namespaces.ID { return namespaces.ID{Type: typ, Inode: ino} }

// podtestInspection is what `podsim inspect podtest` reads for the article's
// pod, written by hand: pause holds net/ipc/uts, c1 and c2 join them and
// have their own pid, mnt and cgroup namespaces; user is the host's.
func podtestInspection(sharePID bool) *sandbox.Inspection {
	host := map[string]namespaces.ID{"net": ns("net", 4026531840), "ipc": ns("ipc", 4026531839), "uts": ns("uts", 4026531838),
		"pid": ns("pid", 4026531836), "mnt": ns("mnt", 4026531841), "cgroup": ns("cgroup", 4026531835), "user": ns("user", 4026531837)}
	mounts := []corev1.VolumeMount{{Name: "shared", MountPath: "/shared"}}
	pod := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "podtest", Namespace: "default", UID: "5f0c2a8e-1111-4222-8333-444455556666"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{
				{Name: "c1", Image: "busybox", Command: []string{"sleep", "5000"}, VolumeMounts: mounts},
				{Name: "c2", Image: "busybox", Command: []string{"sleep", "5000"}, VolumeMounts: mounts},
			},
			Volumes: []corev1.Volume{{Name: "shared", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		},
	}
	if sharePID {
		t := true
		pod.Spec.ShareProcessNamespace = &t
	}
	rec := &sandbox.Record{ID: "a0cf2d3e4f5a", Pod: pod, NetNS: "/run/netns/podsim-podtest-a0cf2d",
		Cgroup: "/podsim/pod5f0c2a8e_1111_4222_8333_444455556666", IP: "10.88.0.7", MAC: "46:4c:58:6c:da:37",
		HostIf: "veth3a1b2c4d", Bridge: "podsim0"}
	st := &sandbox.PodState{Record: rec,
		Pause: sandbox.ContainerState{Name: "POD", ID: rec.ID, Role: sandbox.RoleSandbox, Image: sandbox.PauseImage, PID: 31401, Status: "running", Cgroup: rec.Cgroup + "/" + rec.ID},
		Containers: []sandbox.ContainerState{
			{Name: "c1", ID: rec.ID + "-c1", Role: sandbox.RoleApp, Image: "busybox", PID: 31440, Status: "running", Cgroup: rec.Cgroup + "/" + rec.ID + "-c1"},
			{Name: "c2", ID: rec.ID + "-c2", Role: sandbox.RoleApp, Image: "busybox", PID: 31476, Status: "running", Cgroup: rec.Cgroup + "/" + rec.ID + "-c2"},
		},
	}
	pidC1, pidC2 := ns("pid", 4026532254), ns("pid", 4026532256)
	if sharePID {
		pidC1, pidC2 = ns("pid", 4026532252), ns("pid", 4026532252)
	}
	return &sandbox.Inspection{State: st, NetNSID: ns("net", 4026532177), Host: host,
		Rows: []sandbox.NSRow{
			{Name: "POD", PID: 31401, NS: map[string]namespaces.ID{"net": ns("net", 4026532177), "ipc": ns("ipc", 4026532251), "uts": ns("uts", 4026532250),
				"pid": ns("pid", 4026532252), "mnt": ns("mnt", 4026532249), "cgroup": ns("cgroup", 4026532260), "user": host["user"]}},
			{Name: "c1", PID: 31440, NS: map[string]namespaces.ID{"net": ns("net", 4026532177), "ipc": ns("ipc", 4026532251), "uts": ns("uts", 4026532250),
				"pid": pidC1, "mnt": ns("mnt", 4026532253), "cgroup": ns("cgroup", 4026532261), "user": host["user"]}},
			{Name: "c2", PID: 31476, NS: map[string]namespaces.ID{"net": ns("net", 4026532177), "ipc": ns("ipc", 4026532251), "uts": ns("uts", 4026532250),
				"pid": pidC2, "mnt": ns("mnt", 4026532255), "cgroup": ns("cgroup", 4026532262), "user": host["user"]}},
		}}
}

const hostDir = "/var/lib/podsim/pods/a0cf2d3e4f5a/volumes/kubernetes.io~empty-dir/shared"

func TestFromInspection(t *testing.T) {
	p := FromInspection(podtestInspection(false), Options{VolumeDirs: map[string]string{"shared": hostDir}, CgroupMode: "v2"})
	if got := fmt.Sprint(p.Shared); got != "[net:[4026532177] ipc:[4026532251] uts:[4026532250]]" {
		t.Errorf("pod namespaces = %s", got)
	}
	if len(p.Containers) != 2 || p.Pause.Name != "POD" {
		t.Fatalf("containers: %+v", p.All())
	}
	c1 := p.Containers[0]
	if got := fmt.Sprint(c1.Own); got != "[pid:[4026532254] mnt:[4026532253] cgroup:[4026532261]]" {
		t.Errorf("c1 own = %s", got)
	}
	if got := strings.Join(c1.Joined, " "); got != "net ipc uts" {
		t.Errorf("c1 joined = %s", got)
	}
	if got := strings.Join(c1.Host, " "); got != "user" {
		t.Errorf("c1 host = %s", got)
	}
	if got := strings.Join(p.Pause.Joined, " "); got != "net ipc uts" {
		t.Errorf("pause holds %s", got)
	}
	if len(c1.Mounts) != 1 || c1.Mounts[0].Path != "/shared" || c1.Mounts[0].Volume != "shared" {
		t.Errorf("c1 mounts = %+v", c1.Mounts)
	}
	if len(p.Volumes) != 1 || p.Volumes[0].HostPath != hostDir || p.Volumes[0].Kind != "emptyDir" {
		t.Errorf("volumes = %+v", p.Volumes)
	}
	if uses := p.MountsOf("shared"); len(uses) != 2 || uses[0].Container != "c1" || uses[1].Container != "c2" {
		t.Errorf("uses of shared = %+v", uses)
	}

	// shareProcessNamespace: pid becomes a pod namespace.
	sp := FromInspection(podtestInspection(true), Options{})
	if got := fmt.Sprint(sp.Shared); got != "[net:[4026532177] ipc:[4026532251] uts:[4026532250] pid:[4026532252]]" {
		t.Errorf("shared-pid pod namespaces = %s", got)
	}
	if got := strings.Join(sp.Containers[1].Joined, " "); got != "net ipc uts pid" {
		t.Errorf("c2 joined = %s", got)
	}
}

// svgText parses an SVG with encoding/xml (so it must be well-formed) and
// returns all its character data.
func svgText(t *testing.T, b []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var text strings.Builder
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not valid XML: %v\n%s", err, b)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = x.Name.Local
				if x.Name.Space != "http://www.w3.org/2000/svg" {
					t.Errorf("root element namespace = %q", x.Name.Space)
				}
			}
		case xml.CharData:
			text.Write(x)
			text.WriteByte('\n')
		}
	}
	if root != "svg" {
		t.Fatalf("root element = %q, want svg", root)
	}
	return text.String()
}

func TestSVGHasEveryObject(t *testing.T) {
	for _, share := range []bool{false, true} {
		in := podtestInspection(share)
		p := FromInspection(in, Options{VolumeDirs: map[string]string{"shared": hostDir}, CgroupMode: "v2"})
		var b bytes.Buffer
		if err := SVG(&b, p); err != nil {
			t.Fatal(err)
		}
		text := svgText(t, b.Bytes())
		want := []string{"POD", "c1", "c2", "volume shared", "eth0  10.88.0.7", "46:4c:58:6c:da:37", "veth3a1b2c4d", "podsim0",
			"/podsim/pod5f0c2a8e_1111_4222_8333_444455556666", "/run/netns/podsim-podtest-a0cf2d", "mount /shared <- shared (rw)"}
		// Every namespace inode of every process except the host's (user).
		for _, r := range in.Rows {
			for typ, id := range r.NS {
				if typ != "user" {
					want = append(want, id.String())
				}
			}
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("share=%v: SVG text lacks %q", share, w)
			}
		}
		// The host directory is wrapped over lines; its parts are all there.
		for _, part := range wrapPath(hostDir, 56) {
			if !strings.Contains(text, part) {
				t.Errorf("SVG lacks host dir part %q", part)
			}
		}
		if !share {
			if os.Getenv("PODGRAPH_WRITE") != "" {
				_ = os.WriteFile(os.Getenv("PODGRAPH_WRITE"), b.Bytes(), 0o644)
			}
		}
		// Deterministic: the same pod gives the same bytes.
		var b2 bytes.Buffer
		_ = SVG(&b2, FromInspection(in, Options{VolumeDirs: map[string]string{"shared": hostDir}, CgroupMode: "v2"}))
		if !bytes.Equal(b.Bytes(), b2.Bytes()) {
			t.Errorf("SVG output is not deterministic")
		}
	}
}

func TestSVGEscapesAndInitContainers(t *testing.T) {
	p := &Pod{Namespace: "default", Name: `a<b>&"c"`, UID: "u",
		Shared: []NS{{"net", 1}, {"ipc", 2}, {"uts", 3}},
		Pause:  Container{Name: "POD", Role: "sandbox", PID: 10, Status: "running", Own: []NS{{"pid", 4}, {"mnt", 5}}},
		Init:   []Container{{Name: "get-secret", Role: "init", Status: "exited 0", Mounts: []Mount{{Volume: "secrets", Path: "/secrets"}}}},
		Containers: []Container{{Name: "myapp", Role: "app", PID: 12, Status: "running", Own: []NS{{"pid", 6}, {"mnt", 7}},
			Joined: []string{"net", "ipc", "uts"}, Mounts: []Mount{{Volume: "secrets", Path: "/secrets", ReadOnly: true}}}},
		Volumes: []Volume{{Name: "secrets", Kind: "emptyDir"}, {Name: "unused", Kind: "configMap x"}},
	}
	var b bytes.Buffer
	if err := SVG(&b, p); err != nil {
		t.Fatal(err)
	}
	text := svgText(t, b.Bytes())
	for _, w := range []string{`a<b>&"c"`, "get-secret (init container)", "myapp", "mount /secrets <- secrets (ro)", "volume unused", "(mounted by no container)"} {
		if !strings.Contains(text, w) {
			t.Errorf("SVG lacks %q", w)
		}
	}
	if strings.Count(b.String(), "<polyline") != 2 {
		t.Errorf("want 2 volume edges (get-secret and myapp to secrets), got %d", strings.Count(b.String(), "<polyline"))
	}
}

func TestDOT(t *testing.T) {
	p := FromInspection(podtestInspection(false), Options{VolumeDirs: map[string]string{"shared": hostDir}})
	var b bytes.Buffer
	if err := DOT(&b, p); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, `digraph "pod default/podtest" {`) || !strings.HasSuffix(out, "}\n") {
		t.Errorf("not a digraph:\n%s", out)
	}
	for _, w := range []string{"subgraph cluster_pod", "subgraph cluster_podns", "cluster_c0", "cluster_c1", "cluster_c2",
		"net:[4026532177]", "mnt:[4026532253]", "pid:[4026532256]", "volume shared", "eth0 -> veth", "veth -> bridge",
		`v0 -> c1 [label="bind mount /shared (rw)`, `v0 -> c2 [label="bind mount /shared (rw)`} {
		if !strings.Contains(out, w) {
			t.Errorf("DOT lacks %q:\n%s", w, out)
		}
	}
	if strings.Count(out, "{") != strings.Count(out, "}") {
		t.Errorf("unbalanced braces:\n%s", out)
	}
}

func TestWrap(t *testing.T) {
	if got := wrapPath(hostDir, 30); strings.Join(got, "") != hostDir || len(got) < 2 {
		t.Errorf("wrapPath = %q", got)
	}
	if got := wrapWords("a bb ccc dddd", 6); strings.Join(got, "|") != "a bb|ccc|dddd" {
		t.Errorf("wrapWords = %q", got)
	}
}
