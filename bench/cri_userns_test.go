package bench

import (
	"strings"
	"testing"
)

// A hostUsers: false pod is not translated: this host's containerd CRI
// (1.6) would build it in the host's user namespace without a word.
func TestTranslateRefusesHostUsersFalse(t *testing.T) {
	pod, err := ParsePod([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostUsers: false\n  containers:\n  - {name: c, image: busybox}\n"), "test", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = TranslateToCRI(pod, CRIOptions{UID: "11111111-2222-4333-8444-555555555555"})
	if err == nil || !strings.Contains(err.Error(), "hostUsers: false cannot be compared") {
		t.Fatalf("err = %v", err)
	}
}
