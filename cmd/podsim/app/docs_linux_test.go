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
	if code := Run(context.Background(), []string{"docs", "--dir", dir, "--fields", filepath.Join(dir, "fields.md"), "--readme", ""}, nil, &out, &errOut); code != 0 {
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

// The generated docs in the repository (docs/cli/*.md, docs/fields.md) are
// what `podsim docs` writes now: regenerate them after changing a command or
// the field table.
func TestDocsUpToDate(t *testing.T) {
	dir := t.TempDir()
	cli, fields := filepath.Join(dir, "cli"), filepath.Join(dir, "fields.md")
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), []string{"docs", "--dir", cli, "--fields", fields, "--readme", ""}, nil, &out, &errOut); code != 0 {
		t.Fatalf("podsim docs: exit %d: %s", code, errOut.String())
	}
	const fix = "regenerate with 'go run ./cmd/podsim docs' at the repository's root"
	repo := filepath.Join("..", "..", "..", "docs")
	compare := func(got, committed string) {
		want, err := os.ReadFile(committed)
		if err != nil {
			t.Errorf("%s: %v: %s", committed, err, fix)
			return
		}
		if b, _ := os.ReadFile(got); !bytes.Equal(b, want) {
			t.Errorf("%s is out of date: %s", committed, fix)
		}
	}
	compare(fields, filepath.Join(repo, "fields.md"))
	generated, _ := filepath.Glob(filepath.Join(cli, "*.md"))
	for _, g := range generated {
		compare(g, filepath.Join(repo, "cli", filepath.Base(g)))
	}
	committed, _ := filepath.Glob(filepath.Join(repo, "cli", "*.md"))
	for _, c := range committed {
		if _, err := os.Stat(filepath.Join(cli, filepath.Base(c))); err != nil {
			t.Errorf("%s documents no command: remove it (%s)", c, fix)
		}
	}
}
