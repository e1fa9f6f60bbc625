package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podsim/podsim/bench"
	"github.com/podsim/podsim/scenarios"
)

// TestIntegrationCompareWithCRI builds the article's podtest, and podtest
// with shareProcessNamespace, with podsim and through containerd's CRI
// plugin (crictl), and fails on a difference in the namespace matrix or on
// any difference docs/fidelity.md does not explain (compare --strict exits
// 2). It also checks the matrix itself, so a compare that saw nothing
// (both sides "-") cannot pass: net, ipc and uts are the pause's, mnt is
// each container's own, pid is own or shared as the pod asks — on both
// sides, as the kernel reports them.
func TestIntegrationCompareWithCRI(t *testing.T) {
	requireRoot(t)
	// compare finds crictl as the bench does; `make test` builds it
	// (make test-deps). The cgroup v2 VM of `make vm-test` has none.
	crictl := filepath.Join(filepath.Dir(podsimBin), "crictl")
	if p := os.Getenv("PODSIM_CRICTL"); p != "" {
		crictl = p
	}
	if _, err := os.Stat(crictl); err != nil {
		if _, err := exec.LookPath("crictl"); err != nil {
			t.Skipf("no crictl next to %s, in PODSIM_CRICTL or on PATH: run 'sudo make test-deps'", podsimBin)
		}
	}
	checkNoLeaks(t)
	for _, tc := range []struct {
		name, manifest string
		sharePID       bool
		host           bool // hostNetwork, hostPID, hostIPC
	}{
		{"podtest", podtest, false, false},
		{"podtest-sharepid", scenarios.PodTestSharedPIDYAML, true, false},
		{"podtest-host", scenarios.PodTestHostYAML, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := podsim(t, "", "compare", "--strict", "--json", writeManifest(t, tc.manifest))
			if r.code != 0 {
				t.Fatalf("podsim compare --strict (%s): %s", tc.name, r)
			}
			var out struct {
				Diffs   []bench.Diff         `json:"diffs"`
				Summary bench.CompareSummary `json:"summary"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
				t.Fatalf("compare --json output: %v\n%s", err, r.stdout)
			}
			if out.Summary.Essential != 0 || out.Summary.Unexplained != 0 || out.Summary.Items < 50 {
				t.Errorf("summary %+v: want no essential or unexplained difference over a full comparison", out.Summary)
			}
			want := map[string]string{"net": "shared", "ipc": "shared", "uts": "shared", "mnt": "own", "pid": "own"}
			if tc.sharePID {
				want["pid"] = "shared"
			}
			if tc.host {
				want = map[string]string{"net": "host", "ipc": "host", "uts": "host", "mnt": "own", "pid": "host"}
			}
			seen := map[string]bool{}
			for _, d := range out.Diffs {
				if d.Area != "namespaces" || (d.Row != "c1" && d.Row != "c2") {
					continue
				}
				w, ok := want[d.Item]
				if !ok {
					continue
				}
				seen[d.Row+" "+d.Item] = true
				if d.Podsim != w || d.CRI != w {
					t.Errorf("%s %s namespace: podsim %q, CRI %q; want %q on both sides", d.Row, d.Item, d.Podsim, d.CRI, w)
				}
			}
			if len(seen) != 2*len(want) {
				t.Errorf("namespace matrix incomplete: saw %v", seen)
			}
			for _, d := range out.Diffs {
				if !d.Equal && strings.HasPrefix(d.Explanation, "TO FIX") {
					t.Errorf("%s %s differs and is marked to fix: %s", d.Row, d.Item, d.Explanation)
				}
			}
		})
	}
}
