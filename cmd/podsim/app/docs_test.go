package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `podsim docs` writes one Markdown page per visible command (not itself).
func TestDocsCommand(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), []string{"docs", "--dir", dir}, nil, &out, &errOut); code != 0 {
		t.Fatalf("podsim docs: exit %d: %s", code, errOut.String())
	}
	for _, page := range []string{"podsim.md", "podsim_apply.md", "podsim_tour.md", "podsim_inspect.md", "podsim_wait.md", "podsim_system_status.md"} {
		if _, err := os.Stat(filepath.Join(dir, page)); err != nil {
			t.Errorf("missing %s: %v", page, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "podsim_docs.md")); err == nil {
		t.Errorf("the hidden docs command documented itself")
	}
	if _, err := os.Stat(filepath.Join(dir, "podsim_system_agent.md")); err == nil {
		t.Errorf("the hidden agent command is documented")
	}
	b, _ := os.ReadFile(filepath.Join(dir, "podsim_inspect.md"))
	if !strings.Contains(string(b), "-o, --output") {
		t.Errorf("inspect page lacks -o:\n%s", b)
	}
	root, _ := os.ReadFile(filepath.Join(dir, "podsim.md"))
	if !strings.Contains(string(root), "--trace") || strings.Contains(string(root), "Auto generated") {
		t.Errorf("root page: want --trace and no date footer:\n%s", root)
	}
}
