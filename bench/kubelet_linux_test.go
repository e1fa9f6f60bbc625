package bench

import (
	"os"
	"strings"
	"testing"
)

// TestFidelityDocExplainsKubeletDifferences: the kubelet section of
// docs/fidelity.md and bench.KubeletExplanations list the same items.
func TestFidelityDocExplainsKubeletDifferences(t *testing.T) {
	doc, err := os.ReadFile("../docs/fidelity.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(doc), "## Against a real kubelet")
	if !ok {
		t.Fatal("docs/fidelity.md lacks its section \"Against a real kubelet\"")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	rows := map[string]bool{}
	for _, l := range strings.Split(sec, "\n") {
		if strings.HasPrefix(l, "| `") {
			item, _, _ := strings.Cut(strings.TrimPrefix(l, "| `"), "`")
			rows[item] = true
		}
	}
	for _, e := range KubeletExplanations {
		if !rows[e.Prefix] {
			t.Errorf("docs/fidelity.md's kubelet section has no row for %q", e.Prefix)
		}
		delete(rows, e.Prefix)
	}
	for item := range rows {
		t.Errorf("docs/fidelity.md's kubelet section explains %q, which bench.KubeletExplanations does not", item)
	}
}

func TestVolumeLayout(t *testing.T) {
	for src, want := range map[string]string{
		"/var/lib/kubelet/pods/6f1c-9a/volumes/kubernetes.io~empty-dir/shared":                    "<pod>/volumes/kubernetes.io~empty-dir/shared",
		"/var/lib/podsim-cluster/kubelet/pods/6f1c-9a/volumes/kubernetes.io~projected/kube-api-x": "<pod>/volumes/kubernetes.io~projected/kube-api-x",
		"/var/lib/podsim/pods/a0cf2d4e/volumes/kubernetes.io~empty-dir/shared":                    "<pod>/volumes/kubernetes.io~empty-dir/shared",
		"/run/podsim/pods/a0cf2d4e/volumes/kubernetes.io~secret/tls":                              "<pod>/volumes/kubernetes.io~secret/tls",
		"/srv/data": "/srv/data",
		"/var/lib/podsim/pods/a0cf2d4e/containers/c1/termination-log": "/var/lib/podsim/pods/a0cf2d4e/containers/c1/termination-log",
		"/var/lib/podsim/pods/a0cf2d4e/extra/volumes/x":               "/var/lib/podsim/pods/a0cf2d4e/extra/volumes/x",
	} {
		if got := VolumeLayout(src); got != want {
			t.Errorf("VolumeLayout(%q) = %q, want %q", src, got, want)
		}
	}
}
