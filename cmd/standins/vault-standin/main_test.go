package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func vault(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	env := map[string]string{"PODSIM_VAULT_SECRETS": "secret/other, /secret/app/db/"}
	code = run(context.Background(), args, func(k string) string { return env[k] }, &o, &e)
	return code, o.String(), e.String()
}

// TestRead is the article's init container: the secret goes to stdout in
// Vault's table format, the stand-in note to stderr only.
func TestRead(t *testing.T) {
	code, out, errOut := vault(t, "read", "secret/my-secret")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 || lines[0] != "Key                 Value" || lines[1] != "---                 -----" ||
		lines[2] != "refresh_interval    768h" || !strings.HasPrefix(lines[3], "value               s3cr3t-") {
		t.Errorf("stdout:\n%s", out)
	}
	if strings.Contains(out, "podsim") || !strings.Contains(errOut, "podsim stand-in") {
		t.Errorf("stand-in note belongs on stderr only: stdout %q stderr %q", out, errOut)
	}
	// Deterministic: same path, same secret; other path, other secret.
	if _, again, _ := vault(t, "kv", "get", "/secret/my-secret/"); again != out {
		t.Errorf("kv get gave %q, read gave %q", again, out)
	}
	if _, other, _ := vault(t, "read", "secret/other"); other == out {
		t.Errorf("different paths gave the same secret")
	}
}

// TestUnknownPath: like Vault, a path without a secret fails with exit 2,
// so the article's init container fails when the secret is missing.
func TestUnknownPath(t *testing.T) {
	code, out, errOut := vault(t, "read", "secret/does-not-exist")
	if code != 2 || out != "" || !strings.Contains(errOut, "No value found at secret/does-not-exist") {
		t.Errorf("unknown path: exit %d stdout %q stderr %q", code, out, errOut)
	}
	if code, _, _ := vault(t, "kv", "get", "secret/app/db"); code != 0 {
		t.Errorf("path from PODSIM_VAULT_SECRETS: exit %d", code)
	}
}

func TestReadFieldAndJSON(t *testing.T) {
	_, table, _ := vault(t, "read", "secret/my-secret")
	code, field, _ := vault(t, "read", "-field=value", "secret/my-secret")
	if code != 0 || !strings.HasPrefix(field, "s3cr3t-") || !strings.Contains(table, strings.TrimSpace(field)) {
		t.Errorf("-field=value: %d %q", code, field)
	}
	if code, _, e := vault(t, "read", "-field=nope", "secret/my-secret"); code == 0 || !strings.Contains(e, "not present") {
		t.Errorf("-field=nope: %d %q", code, e)
	}
	code, js, _ := vault(t, "read", "-format=json", "secret/my-secret")
	var doc struct {
		Data          map[string]string `json:"data"`
		LeaseDuration int               `json:"lease_duration"`
	}
	if err := json.Unmarshal([]byte(js), &doc); code != 0 || err != nil || doc.Data["value"] != strings.TrimSpace(field) {
		t.Errorf("-format=json: %d %v %s", code, err, js)
	}
}

func TestOtherCommands(t *testing.T) {
	if code, out, _ := vault(t, "version"); code != 0 || !strings.HasPrefix(out, "Vault v1.13.3 (podsim stand-in") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, _, e := vault(t, "write", "secret/x", "value=1"); code != 1 || !strings.Contains(e, "not implemented") {
		t.Errorf("write: %d %q", code, e)
	}
	if code, _, e := vault(t, "read"); code != 1 || !strings.Contains(e, "Not enough arguments") {
		t.Errorf("read without path: %d %q", code, e)
	}
	if code, _, _ := vault(t); code != 127 {
		t.Errorf("no args: exit %d", code)
	}

	// `vault server` waits until stopped.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var o, e bytes.Buffer
	go func() { done <- run(ctx, []string{"server", "-dev"}, func(string) string { return "" }, &o, &e) }()
	select {
	case <-done:
		t.Fatal("server returned before being stopped")
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("server exit %d", code)
	}
}
