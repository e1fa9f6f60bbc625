package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestSecretWrittenLater: the file appears while myapp waits (as if the
// init container were slow); myapp logs its size, serves, and stops on
// SIGTERM with status 0.
func TestSecretWrittenLater(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "my-secret")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	addr := make(chan string, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, envOf(map[string]string{"SECRET_FILE": secret, "SECRET_WAIT": "10s", "LISTEN_ADDR": "127.0.0.1:0"}),
			&out, func(a string) { addr <- a })
	}()
	time.Sleep(300 * time.Millisecond)
	if err := os.WriteFile(secret, []byte("s3cr3t-0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var a string
	select {
	case a = <-addr:
	case code := <-done:
		t.Fatalf("exited %d: %s", code, out.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("not serving after 10s: %s", out.String())
	}
	resp, err := http.Get("http://" + a + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "loaded (12 bytes)") {
		t.Errorf("status page: %q", body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
	if !strings.Contains(out.String(), "found secret (12 bytes)") || strings.Contains(out.String(), "s3cr3t-0123") {
		t.Errorf("log must give the size, never the secret:\n%s", out.String())
	}
}

func TestSecretMissing(t *testing.T) {
	var out syncBuffer
	start := time.Now()
	code := run(context.Background(), envOf(map[string]string{
		"SECRET_FILE": filepath.Join(t.TempDir(), "nope"), "SECRET_WAIT": "300ms", "LISTEN_ADDR": "",
	}), &out, nil)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("gave up before SECRET_WAIT")
	}
	if !strings.Contains(out.String(), "ERROR: no secret") {
		t.Errorf("log: %s", out.String())
	}
	if code := run(context.Background(), envOf(map[string]string{"SECRET_WAIT": "soon"}), &out, nil); code != 2 {
		t.Errorf("bad SECRET_WAIT: exit %d", code)
	}
}

// TestNoListen: LISTEN_ADDR set but empty runs without a status page.
func TestNoListen(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "s")
	os.WriteFile(secret, []byte("x"), 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var out syncBuffer
	code := run(ctx, envOf(map[string]string{"SECRET_FILE": secret, "LISTEN_ADDR": ""}), &out,
		func(string) { t.Error("listened although LISTEN_ADDR is empty") })
	if code != 0 || !strings.Contains(out.String(), "found secret (1 bytes)") {
		t.Errorf("exit %d: %s", code, out.String())
	}
}
