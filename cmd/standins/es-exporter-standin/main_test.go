package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podsim/podsim/cmd/standins/internal/esapi"
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

// startExporter runs the exporter with args on a free loopback port and
// returns its base URL; it is stopped when the test ends.
func startExporter(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	addr := make(chan string, 1)
	done := make(chan int, 1)
	args = append([]string{"--web.listen-address=127.0.0.1:0"}, args...)
	go func() { done <- run(ctx, args, &out, &out, func(a string) { addr <- a }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("exporter exit code %d; output:\n%s", code, out.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("exporter did not stop")
		}
	})
	select {
	case a := <-addr:
		return "http://" + a, &out
	case code := <-done:
		t.Fatalf("exporter exited %d: %s", code, out.String())
	case <-time.After(10 * time.Second):
		t.Fatal("exporter not listening after 10s")
	}
	return "", nil
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// TestScrapeESStandIn is the article's adapter pod in miniature: the
// exporter scrapes podsim's Elasticsearch stand-in (served by httptest) and
// `curl -s :9114/metrics | head` must look like the article's output.
func TestScrapeESStandIn(t *testing.T) {
	node := esapi.NewNode("docker-cluster", "elasticsearch-ss86j", "127.0.0.1:9200")
	es := httptest.NewServer(node.Handler(nil))
	defer es.Close()

	base, _ := startExporter(t, "--es.uri="+es.URL)
	body := scrape(t, base+"/metrics")

	head := strings.Join(strings.SplitN(body, "\n", 11)[:10], "\n")
	want := `# HELP elasticsearch_breakers_estimated_size_bytes Estimated size in bytes of breaker
# TYPE elasticsearch_breakers_estimated_size_bytes gauge
elasticsearch_breakers_estimated_size_bytes{breaker="accounting",name="elasticsearch-ss86j"} 0
elasticsearch_breakers_estimated_size_bytes{breaker="fielddata",name="elasticsearch-ss86j"} 0
elasticsearch_breakers_estimated_size_bytes{breaker="in_flight_requests",name="elasticsearch-ss86j"} 0
elasticsearch_breakers_estimated_size_bytes{breaker="model_inference",name="elasticsearch-ss86j"} 0
elasticsearch_breakers_estimated_size_bytes{breaker="parent",name="elasticsearch-ss86j"} 1.61106136e+08
elasticsearch_breakers_estimated_size_bytes{breaker="request",name="elasticsearch-ss86j"} 16440
# HELP elasticsearch_breakers_limit_size_bytes Limit size in bytes for breaker
# TYPE elasticsearch_breakers_limit_size_bytes gauge`
	// The parent breaker follows the simulated heap, which grows by 1 MB
	// a second from the article's value: on that line, compare the
	// labels only.
	gotLines, wantLines := strings.Split(head, "\n"), strings.Split(want, "\n")
	for i, w := range wantLines {
		g := gotLines[i]
		if strings.Contains(w, `"parent"`) {
			w, g = w[:strings.LastIndex(w, " ")], g[:strings.LastIndex(g, " ")]
		}
		if g != w {
			t.Errorf("line %d of the metrics: %q, want %q", i+1, g, w)
		}
	}

	for _, line := range []string{
		"# HELP elasticsearch_cluster_health_status Whether all primary and replica shards are allocated.",
		`elasticsearch_cluster_health_status{cluster="docker-cluster",color="green"} 1`,
		`elasticsearch_cluster_health_status{cluster="docker-cluster",color="red"} 0`,
		`elasticsearch_cluster_health_number_of_nodes{cluster="docker-cluster"} 1`,
		"elasticsearch_cluster_health_up 1",
		"elasticsearch_node_stats_up 1",
		"# HELP elasticsearch_jvm_memory_used_bytes JVM memory currently used by area",
		`elasticsearch_jvm_memory_max_bytes{area="heap",name="elasticsearch-ss86j"} 1.073741824e+09`,
		`elasticsearch_breakers_limit_size_bytes{breaker="parent",name="elasticsearch-ss86j"} 1.020054732e+09`,
		`elasticsearch_indices_docs{name="elasticsearch-ss86j"} 0`,
		`elasticsearch_exporter_build_info{branch="podsim",`,
		"# TYPE go_goroutines gauge",
	} {
		if !strings.Contains(body, line+"\n") && !strings.Contains(body, line) {
			t.Errorf("metrics lack %q", line)
		}
	}
	// Each scrape asks Elasticsearch again.
	body = scrape(t, base+"/metrics")
	if !strings.Contains(body, "elasticsearch_node_stats_total_scrapes 2") {
		t.Errorf("second scrape: total scrapes not 2")
	}
	if home := scrape(t, base+"/"); !strings.Contains(home, `<a href="/metrics">`) || !strings.Contains(home, "podsim stand-in") {
		t.Errorf("home page: %s", home)
	}
}

// TestESDown: when Elasticsearch does not answer, the exporter still
// serves, with the up gauges at 0, and logs why.
func TestESDown(t *testing.T) {
	es := httptest.NewServer(http.NotFoundHandler())
	url := es.URL
	es.Close() // nothing listens there any more

	base, out := startExporter(t, "--es.uri", url, "--es.timeout=2s", "--log.level=debug", "--es.indices")
	body := scrape(t, base+"/metrics")
	for _, line := range []string{"elasticsearch_cluster_health_up 0", "elasticsearch_node_stats_up 0"} {
		if !strings.Contains(body, line) {
			t.Errorf("metrics lack %q", line)
		}
	}
	if strings.Contains(body, "elasticsearch_breakers_estimated_size_bytes{") {
		t.Errorf("breaker metrics without Elasticsearch")
	}
	if !strings.Contains(out.String(), `level=warn`) || !strings.Contains(out.String(), "failed to fetch and decode node stats") {
		t.Errorf("log: %s", out.String())
	}
}

func TestCustomPathAndVersion(t *testing.T) {
	node := esapi.NewNode("c", "n", "127.0.0.1:9200")
	es := httptest.NewServer(node.Handler(nil))
	defer es.Close()
	base, _ := startExporter(t, "--es.uri="+es.URL, "--web.telemetry-path=/prom", "--es.all")
	if body := scrape(t, base+"/prom"); !strings.Contains(body, `elasticsearch_indices_docs{name="n"} 0`) {
		t.Errorf("/prom: %s", body)
	}

	var out bytes.Buffer
	if code := run(context.Background(), []string{"--version"}, &out, &out, nil); code != 0 || !strings.Contains(out.String(), "version 1.1.0") {
		t.Errorf("--version: %d %q", code, out.String())
	}
	if code := run(context.Background(), []string{"--no-such-flag"}, &out, &out, nil); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
}
