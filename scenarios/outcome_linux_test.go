package scenarios

import (
	"errors"
	"strings"
	"testing"
)

// A skipped check is neither a pass nor a failure: a scenario whose checks
// were all skipped is SKIP, never PASS; one failure fails it.
func TestOutcomeResult(t *testing.T) {
	pass, fail, skip := Result{Pass: true}, Result{}, Result{Skip: "no DNS"}
	for _, tc := range []struct {
		name string
		o    Outcome
		want string
	}{
		{"all pass", Outcome{Results: []Result{pass, pass}}, "PASS"},
		{"pass and skip", Outcome{Results: []Result{pass, skip}}, "PASS"},
		{"only skips", Outcome{Results: []Result{skip, skip}}, "SKIP"},
		{"a failure", Outcome{Results: []Result{pass, fail, skip}}, "FAIL"},
		{"no checks", Outcome{}, "FAIL"},
		{"error", Outcome{Results: []Result{pass}, Err: errors.New("x")}, "FAIL"},
	} {
		if got := tc.o.Result(); got != tc.want {
			t.Errorf("%s: Result() = %s, want %s", tc.name, got, tc.want)
		}
		if tc.o.Passed() != (tc.want == "PASS") {
			t.Errorf("%s: Passed() = %v with result %s", tc.name, tc.o.Passed(), tc.want)
		}
	}
	var b strings.Builder
	Summary(&b, []Outcome{{Scenario: &Scenario{Name: "s"}, Results: []Result{pass, fail, skip}}})
	if !strings.Contains(b.String(), "1/2") || !strings.Contains(b.String(), "FAIL") {
		t.Errorf("summary:\n%s", b.String())
	}
}
