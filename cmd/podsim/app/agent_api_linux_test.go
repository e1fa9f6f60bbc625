package app

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/podsim/podsim/sandbox/agentapi"
)

// The commands handed to the agent: those that build or remove objects.
func TestServedByAgent(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		served bool
	}{
		{[]string{"apply", "-f", "x.yaml"}, true},
		{[]string{"-n", "prod", "apply", "-f", "-"}, true},
		{[]string{"delete", "pod", "x"}, true},
		{[]string{"create", "configmap", "c", "--from-literal=a=b"}, true},
		{[]string{"create", "secret", "generic", "s", "--from-literal=a=b"}, true},
		{[]string{"create"}, false}, // help only
		{[]string{"get", "pods"}, false},
		{[]string{"exec", "p", "c", "--", "true"}, false},
		{[]string{"system", "agent"}, false},
		{[]string{"gc"}, false},
	} {
		cmd, _, err := newRootCommand(&env{}).Find(tc.args)
		got := err == nil && servedByAgent(cmd)
		if got != tc.served {
			t.Errorf("%v: served by the agent = %v, want %v", tc.args, got, tc.served)
		}
		if why := servedRequest(agentapi.Request{Args: tc.args}); (why == "") != tc.served {
			t.Errorf("%v: the agent's check says %q", tc.args, why)
		}
	}
}

// A path the CLI gave is resolved against its directory in the agent, and
// an error names it as the user wrote it.
func TestPathsOfTheCLI(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "m.yaml"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := &env{cwd: dir}
	if b, err := e.readFile("m.yaml"); err != nil || string(b) != "x" {
		t.Fatalf("readFile relative to the CLI's directory: %q %v", b, err)
	}
	_, err := e.stat("missing.yaml")
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != "missing.yaml" {
		t.Errorf("error %v should name the path as given", err)
	}
	if got := (&env{}).path("m.yaml"); got != "m.yaml" {
		t.Errorf("in-process paths stay as given, got %q", got)
	}
}
