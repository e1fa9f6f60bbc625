package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeDifferencesUpToDate: the README's list of refused and warned
// fields is the field table's (regenerate with 'go run ./cmd/podsim docs').
// With pod.spec.dnsConfig turned back to refused in sandbox/fields.go and
// the README not regenerated, it fails with:
//
//	README.md's field differences are not the field table's: regenerate with 'go run ./cmd/podsim docs'
func TestReadmeDifferencesUpToDate(t *testing.T) {
	readme := filepath.Join("..", "..", "..", "README.md")
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	want := readmeBegin + "\n\n" + readmeDifferences() + "\n" + readmeEnd
	if !strings.Contains(string(b), want) {
		t.Errorf("README.md's field differences are not the field table's: regenerate with 'go run ./cmd/podsim docs'")
	}
	for _, must := range []string{"`schedulingGates`", "`clusterIP`", "`nodeSelector`"} {
		if !strings.Contains(readmeDifferences(), must) {
			t.Errorf("the generated list lacks %s", must)
		}
	}
	if strings.Contains(readmeDifferences(), "`dnsConfig`") {
		t.Error("dnsConfig is supported, yet listed as a difference")
	}
}
