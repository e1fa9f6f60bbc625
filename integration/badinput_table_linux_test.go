package integration

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIntegrationBadInputTable runs every malformed or hostile manifest in
// testdata/badinput (its first line says "# want: <text>") and every bad
// command line in testdata/badinput/commands.txt: each must exit non-zero
// with one "error: ..." line naming the problem, and leave nothing behind.
func TestIntegrationBadInputTable(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	files, _ := filepath.Glob("../testdata/badinput/*.yaml")
	if len(files) < 40 {
		t.Fatalf("only %d bad manifests in testdata/badinput", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(b), "\n")
			want := strings.TrimSpace(strings.TrimPrefix(first, "# want:"))
			t.Cleanup(func() { podsim(t, "", "delete", "-f", f) }) // for files with a valid first object
			r := podsim(t, "", "apply", "-f", f)
			// Progress lines (an image built for the first time) may come
			// before the error line.
			isErr := strings.HasPrefix(r.stderr, "error: ") || strings.Contains(r.stderr, "\nerror: ")
			if r.code == 0 || !isErr || !strings.Contains(r.stderr, want) {
				t.Errorf("want exit != 0 and 'error: ...%s...', got %s", want, r)
			}
		})
	}
	t.Run("huge-document", func(t *testing.T) {
		p := writeManifest(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  big: \""+strings.Repeat("x", 3<<20+10)+"\"\n")
		r := podsim(t, "", "apply", "-f", p)
		if r.code == 0 || !strings.Contains(r.stderr, "more than the") {
			t.Errorf("got exit %d, stderr %.300s", r.code, r.stderr)
		}
	})
	f, err := os.Open("../testdata/badinput/commands.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		args, want, _ := strings.Cut(line, " | ")
		t.Run("cmd "+args, func(t *testing.T) {
			r := podsim(t, "", strings.Fields(args)...)
			if r.code == 0 || !strings.Contains(r.stderr, strings.TrimSpace(want)) {
				t.Errorf("podsim %s: want exit != 0 and %q, got %s", args, want, r)
			}
		})
	}
	t.Run("bad subnet", func(t *testing.T) {
		for sub, want := range map[string]string{"10.0.0.0/30": "too small", "8.8.0.0/16": "must be a private", "nonsense": "is not a CIDR"} {
			cmd := podsimCmd("get", "pods")
			cmd.Env = append(os.Environ(), "PODSIM_POD_SUBNET="+sub)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), want) {
				t.Errorf("subnet %s: err %v, output %q", sub, err, out)
			}
		}
	})
}
