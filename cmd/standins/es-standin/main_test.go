package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server goroutines and the test.
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

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "elasticsearch.yml")
	writeFile(t, yml, "cluster.name: \"docker-cluster\"\nnetwork.host: 0.0.0.0\nhttp.port: 9250\nxpack:\n  security: false\n")
	s := defaultSettings()
	skipped, err := s.readYAML(yml)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 2 {
		t.Errorf("skipped YAML lines = %q, want the two nested ones", skipped)
	}
	s.readEnv(mapEnv(map[string]string{"http.port": "9201", "network.host": "127.0.0.1", "PATH": "/bin"}))
	rest, err := s.readArgs([]string{"-E", "node.name=n1", "-Ecluster.name=c1", "sh"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 1 || rest[0] != "sh" {
		t.Errorf("rest = %q", rest)
	}
	for k, want := range map[string]string{"http.port": "9201", "network.host": "127.0.0.1", "node.name": "n1", "cluster.name": "c1"} {
		if s[k] != want {
			t.Errorf("%s = %q, want %q", k, s[k], want)
		}
	}
	if p, err := s.httpPort(); err != nil || p != 9201 {
		t.Errorf("httpPort = %d, %v", p, err)
	}
	if _, err := s.readArgs([]string{"-E", "novalue"}); err == nil {
		t.Errorf("-E without = : want error")
	}
}

func TestBindHost(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0": "0.0.0.0", "_site_": "0.0.0.0", "_local_": "127.0.0.1", "localhost": "127.0.0.1",
		"127.0.0.1": "127.0.0.1", "[_local_, _site_]": "127.0.0.1", "10.1.2.3": "10.1.2.3",
	} {
		s := settings{"network.host": in}
		if got := s.bindHost("http.host"); got != want {
			t.Errorf("network.host %q: bind %q, want %q", in, got, want)
		}
	}
	s := settings{"network.host": "0.0.0.0", "http.host": "127.0.0.1"}
	if s.bindHost("http.host") != "127.0.0.1" || s.bindHost("transport.host") != "0.0.0.0" {
		t.Errorf("http.host should only change the HTTP bind")
	}
}

func TestBootstrapChecks(t *testing.T) {
	dir := t.TempDir()
	low := filepath.Join(dir, "low")
	high := filepath.Join(dir, "high")
	writeFile(t, low, "65530\n")
	writeFile(t, high, "262144\n")
	single := settings{"discovery.type": "single-node"}

	if f := bootstrapChecks(single, high); len(f) != 0 {
		t.Errorf("single-node with a big max_map_count: failures %q", f)
	}
	f := bootstrapChecks(single, low)
	if len(f) != 1 || f[0] != "max virtual memory areas vm.max_map_count [65530] is too low, increase to at least [262144]" {
		t.Errorf("low max_map_count: %q", f)
	}
	if f := bootstrapChecks(settings{}, high); len(f) != 1 || !strings.Contains(f[0], "default discovery settings are unsuitable") {
		t.Errorf("no discovery settings: %q", f)
	}
	if f := bootstrapChecks(single, filepath.Join(dir, "missing")); len(f) != 0 {
		t.Errorf("unreadable sysctl must not fail the check: %q", f)
	}
}

// logLines parses the JSON log lines and checks each has Elasticsearch's
// fields.
func logLines(t *testing.T, s string) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var m map[string]string
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not one JSON object: %q: %v", line, err)
		}
		for _, k := range []string{"type", "timestamp", "level", "component", "cluster.name", "node.name", "message"} {
			if m[k] == "" {
				t.Errorf("log line without %s: %q", k, line)
			}
		}
		out = append(out, m)
	}
	return out
}

func hasMessage(lines []map[string]string, level, substr string) bool {
	for _, l := range lines {
		if l["level"] == level && strings.Contains(l["message"], substr) {
			return true
		}
	}
	return false
}

// TestRunSingleNode starts the stand-in like the article's sidecar pod does
// (single-node, path.logs, a log4j2.properties), makes a request, stops it
// and reads the log file.
func TestRunSingleNode(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "config")
	writeFile(t, filepath.Join(conf, "log4j2.properties"), "status = error\n")
	writeFile(t, filepath.Join(conf, "elasticsearch.yml"), "cluster.name: \"docker-cluster\"\nnetwork.host: 0.0.0.0\n")
	mmc := filepath.Join(dir, "max_map_count")
	writeFile(t, mmc, "65530\n")
	logs := filepath.Join(dir, "logs")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := make(chan string, 1)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, env{
			args: []string{"eswrapper"},
			getenv: mapEnv(map[string]string{
				"ES_PATH_CONF": conf, "discovery.type": "single-node",
				"network.host": "127.0.0.1", "http.port": "0", "path.logs": logs,
			}),
			stdout: &stdout, stderr: &stderr, maxMapCount: mmc,
			hostname: func() (string, error) { return "elasticsearch-6f88d74475-jxdhl", nil },
			ready:    func(a string) { addr <- a },
		})
	}()
	var a string
	select {
	case a = <-addr:
	case code := <-done:
		t.Fatalf("run exited %d before listening: %s%s", code, stdout.String(), stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10s")
	}
	resp, err := http.Get("http://" + a + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"name" : "elasticsearch-6f88d74475-jxdhl"`) || !strings.Contains(string(body), `"number" : "7.9.3"`) {
		t.Errorf("GET / = %s", body)
	}
	cancel() // what SIGTERM does
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code after SIGTERM = %d, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop")
	}

	out := logLines(t, stdout.String())
	file, err := os.ReadFile(filepath.Join(logs, "docker-cluster_server.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(file) != stdout.String() {
		t.Errorf("log file and stdout differ:\nfile:\n%s\nstdout:\n%s", file, stdout.String())
	}
	for _, want := range []struct{ level, msg string }{
		{"INFO", "version[7.9.3], pid["},
		{"INFO", "JVM home ["},
		{"INFO", "read logging configuration [" + filepath.Join(conf, "log4j2.properties") + "]"},
		{"WARN", "max virtual memory areas vm.max_map_count [65530] is too low, increase to at least [262144]"},
		{"INFO", "publish_address {127.0.0.1:"},
		{"INFO", "started"},
		{"INFO", "GET / 200 "},
		{"INFO", "stopped"},
	} {
		if !hasMessage(out, want.level, want.msg) {
			t.Errorf("no %s log line with %q in:\n%s", want.level, want.msg, stdout.String())
		}
	}
	if out[0]["node.name"] != "elasticsearch-6f88d74475-jxdhl" || out[0]["cluster.name"] != "docker-cluster" || out[0]["type"] != "server" {
		t.Errorf("first line = %v", out[0])
	}
	if !strings.HasSuffix(out[0]["timestamp"], "Z") || !strings.Contains(out[0]["timestamp"], ",") {
		t.Errorf("timestamp %q, want Elasticsearch's 2020-11-29T23:01:42,849Z form", out[0]["timestamp"])
	}
}

// TestRunProductionModeFails: bound to a non-loopback address without
// discovery.type=single-node, failed bootstrap checks stop Elasticsearch
// with exit status 78, before it listens.
func TestRunProductionModeFails(t *testing.T) {
	dir := t.TempDir()
	mmc := filepath.Join(dir, "max_map_count")
	writeFile(t, mmc, "65530\n")
	var stdout, stderr syncBuffer
	code := run(context.Background(), env{
		getenv: mapEnv(map[string]string{"ES_PATH_CONF": dir, "network.host": "0.0.0.0", "http.port": "0"}),
		stdout: &stdout, stderr: &stderr, maxMapCount: mmc,
		hostname: func() (string, error) { return "es", nil },
		ready:    func(string) { t.Error("listened despite failed bootstrap checks") },
	})
	if code != exitBootstrap {
		t.Errorf("exit code %d, want %d", code, exitBootstrap)
	}
	if !strings.Contains(stderr.String(), "ERROR: [2] bootstrap checks failed") || !strings.Contains(stderr.String(), "vm.max_map_count [65530]") {
		t.Errorf("stderr = %q", stderr.String())
	}
	if !hasMessage(logLines(t, stdout.String()), "ERROR", "bootstrap checks failed") {
		t.Errorf("no ERROR log line: %s", stdout.String())
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), env{args: []string{"--version"}, getenv: mapEnv(nil), stdout: &out}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.HasPrefix(out.String(), "Version: 7.9.3, Build: default/docker/c4138e51121ef06a6404866cddc601906fe5c868/") || !strings.Contains(out.String(), "podsim") {
		t.Errorf("--version = %q", out.String())
	}
}
