package integration

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func waitABit() { time.Sleep(100 * time.Millisecond) }

// TestIntegrationBadInput: each bad manifest or command line fails with a
// message naming the problem, exit code non-zero, and leaves nothing.
func TestIntegrationBadInput(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	pod := func(containers string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n" + containers
	}
	for _, tc := range []struct {
		name     string
		manifest string
		args     []string
		want     string
	}{
		{name: "malformed yaml", manifest: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [bad\n", want: "line"},
		{name: "unknown kind", manifest: "apiVersion: v1\nkind: Secretz\nmetadata:\n  name: x\n", want: `kind "Secretz"`},
		{name: "wrong apiVersion", manifest: "apiVersion: v2\nkind: Pod\nmetadata:\n  name: x\n", want: "use apiVersion: v1"},
		{name: "unknown field", manifest: pod("  - name: c\n    image: busybox\n    comand: [sleep]\n"), want: `unknown field "spec.containers[0].comand"`},
		{name: "missing container name", manifest: pod("  - image: busybox\n"), want: "name is required"},
		{name: "missing image", manifest: pod("  - name: c\n"), want: "image is required"},
		{name: "duplicate container names", manifest: pod("  - {name: c, image: busybox}\n  - {name: c, image: busybox}\n"), want: `"c" is used twice`},
		{name: "undefined volume", manifest: pod("  - name: c\n    image: busybox\n    volumeMounts: [{name: v, mountPath: /v}]\n"), want: `volume "v" is not defined`},
		{name: "unknown image", manifest: pod("  - {name: c1, image: busybox}\n  - {name: c2, image: 'nosuchimage:1.0'}\n"), want: `image "nosuchimage:1.0" is not available offline`},
		{name: "no -f", args: []string{"apply"}, want: "must specify -f"},
		{name: "missing file", args: []string{"apply", "-f", "/nonexistent.yaml"}, want: `"/nonexistent.yaml" does not exist`},
		{name: "exec without --", args: []string{"exec", "nopod", "ls"}, want: "put the command after --"},
		{name: "exec into a missing pod", args: []string{"exec", "nopod", "--", "ls"}, want: `pod "nopod" in namespace "default"`},
		{name: "unknown scenario", args: []string{"run", "nope"}, want: "unknown scenario"},
		{name: "unknown resource", args: []string{"get", "ingresses"}, want: `resource type "ingresses"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.manifest != "" {
				args = []string{"apply", "-f", writeManifest(t, tc.manifest)}
			}
			r := podsim(t, "", args...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) || !strings.HasPrefix(r.stderr, "error: ") {
				t.Errorf("want a non-zero exit and 'error: ...%s...', got %s", tc.want, r)
			}
		})
	}
	t.Run("pod name exists", func(t *testing.T) {
		applyPod(t, pod("  - {name: c, image: busybox, command: [sleep, '5000']}\n"), "bad")
		r := podsim(t, "", "apply", "-f", writeManifest(t, pod("  - {name: other, image: busybox}\n")))
		if r.code == 0 || !strings.Contains(r.stderr, `pod "bad" already exists`) {
			t.Errorf("got %s", r)
		}
	})
	t.Run("not root", func(t *testing.T) {
		if _, err := exec.LookPath("setpriv"); err != nil {
			t.Skip("setpriv not installed")
		}
		cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", podsimBin, "get", "pods")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "podsim needs root: run it with sudo") {
			t.Errorf("as nobody: err %v, output %q", err, out)
		}
	})
}

// TestIntegrationRollback: a pod whose second container cannot start is
// rolled back: the pause and c1 it had made are gone again.
func TestIntegrationRollback(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	p := writeManifest(t, `apiVersion: v1
kind: Pod
metadata:
  name: halfpod
spec:
  containers:
  - {name: c1, image: busybox, command: ['sleep', '5000']}
  - {name: c2, image: busybox, command: ['/no/such/binary']}
`)
	r := podsim(t, "", "apply", "-f", p)
	if r.code == 0 || !strings.Contains(r.stderr, "step container c2") || !strings.Contains(r.stderr, "/no/such/binary") {
		t.Fatalf("apply: %s", r)
	}
	if r := podsim(t, "", "get", "pod", "halfpod"); r.code == 0 {
		t.Errorf("half-built pod is listed: %s", r)
	}
	if _, err := os.Stat("/var/lib/podsim/pods"); err == nil {
		ents, _ := os.ReadDir("/var/lib/podsim/pods")
		for _, e := range ents {
			b, _ := os.ReadFile("/var/lib/podsim/pods/" + e.Name() + "/pod.json")
			if strings.Contains(string(b), "halfpod") {
				t.Errorf("record of the failed pod left: %s", e.Name())
			}
		}
	}
}
