package esapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func testNode() *Node {
	n := NewNode("docker-cluster", "elasticsearch-5469857795-nddbn", "10.88.0.5:9200")
	n.ClusterUUID = "XPW9Z8XGTxa7snoUYzeqgg"
	n.NodeID = "a1b2c3d4e5f6g7h8i9j0kl"
	return n
}

func get(t *testing.T, h http.Handler, method, url string) (*http.Response, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest(method, srv.URL+url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestRootDocument checks GET / byte for byte against the article's
// output (with the article's node name and cluster UUID).
func TestRootDocument(t *testing.T) {
	const want = `{
  "name" : "elasticsearch-5469857795-nddbn",
  "cluster_name" : "docker-cluster",
  "cluster_uuid" : "XPW9Z8XGTxa7snoUYzeqgg",
  "version" : {
    "number" : "7.9.3",
    "build_flavor" : "default",
    "build_type" : "docker",
    "build_hash" : "c4138e51121ef06a6404866cddc601906fe5c868",
    "build_date" : "2020-10-16T10:36:16.141335Z",
    "build_snapshot" : false,
    "lucene_version" : "8.6.2",
    "minimum_wire_compatibility_version" : "6.8.0",
    "minimum_index_compatibility_version" : "6.0.0-beta1"
  },
  "tagline" : "You Know, for Search"
}
`
	resp, body := get(t, testNode().Handler(nil), "GET", "/")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if body != want {
		t.Errorf("GET / body:\n%s\nwant:\n%s", body, want)
	}
	// The article's nginx access log shows 559 bytes for this document.
	if len(body) != 559 {
		t.Errorf("GET / is %d bytes, the article's nginx logged 559", len(body))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("GET / is not JSON: %v", err)
	}

	resp, body = get(t, testNode().Handler(nil), "HEAD", "/")
	if resp.StatusCode != 200 || body != "" {
		t.Errorf("HEAD / = %d %q, want 200 and no body", resp.StatusCode, body)
	}
}

func TestClusterHealth(t *testing.T) {
	h := testNode().Handler(nil)
	_, body := get(t, h, "GET", "/_cluster/health")
	var health struct {
		ClusterName string  `json:"cluster_name"`
		Status      string  `json:"status"`
		Nodes       int     `json:"number_of_nodes"`
		Percent     float64 `json:"active_shards_percent_as_number"`
	}
	if err := json.Unmarshal([]byte(body), &health); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if health.ClusterName != "docker-cluster" || health.Status != "green" || health.Nodes != 1 || health.Percent != 100 {
		t.Errorf("health = %+v", health)
	}
	if strings.Contains(body, "\n") {
		t.Errorf("without ?pretty the answer should be compact: %q", body)
	}
	if _, body := get(t, h, "GET", "/_cluster/health?pretty"); !strings.Contains(body, `"status" : "green"`) {
		t.Errorf("?pretty: %s", body)
	}
}

func TestCatHealth(t *testing.T) {
	n := testNode()
	n.now = func() time.Time { return time.Date(2020, 11, 29, 23, 1, 42, 0, time.UTC) }
	_, body := get(t, n.Handler(nil), "GET", "/_cat/health")
	if want := "1606690902 23:01:42 docker-cluster green 1 1 0 0 0 0 0 0 - 100.0%\n"; body != want {
		t.Errorf("_cat/health = %q, want %q", body, want)
	}
	_, body = get(t, n.Handler(nil), "GET", "/_cat/health?v")
	if lines := strings.Split(strings.TrimSpace(body), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "epoch ") {
		t.Errorf("_cat/health?v = %q", body)
	}
}

func TestNodesStats(t *testing.T) {
	n := testNode()
	start := n.started
	n.now = func() time.Time { return start.Add(30 * time.Second) }
	for _, path := range []string{"/_nodes/stats", "/_nodes/_local/stats", "/_nodes/stats/jvm,breaker", "/_nodes/" + n.NodeID + "/stats"} {
		resp, body := get(t, n.Handler(nil), "GET", path)
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", path, resp.StatusCode)
			continue
		}
		var stats struct {
			ClusterName string `json:"cluster_name"`
			Nodes       map[string]struct {
				Name    string `json:"name"`
				Indices struct {
					Docs struct{ Count int64 } `json:"docs"`
				} `json:"indices"`
				JVM struct {
					Mem struct {
						HeapUsed int64 `json:"heap_used_in_bytes"`
						HeapMax  int64 `json:"heap_max_in_bytes"`
					} `json:"mem"`
				} `json:"jvm"`
				Breakers map[string]struct {
					Limit     int64   `json:"limit_size_in_bytes"`
					Estimated int64   `json:"estimated_size_in_bytes"`
					Overhead  float64 `json:"overhead"`
				} `json:"breakers"`
			} `json:"nodes"`
		}
		if err := json.Unmarshal([]byte(body), &stats); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		node, ok := stats.Nodes[n.NodeID]
		if !ok || len(stats.Nodes) != 1 || node.Name != n.NodeName || stats.ClusterName != "docker-cluster" {
			t.Fatalf("%s: nodes = %+v", path, stats.Nodes)
		}
		if want := heapBase + 30*1_048_576; node.JVM.Mem.HeapUsed != want || node.JVM.Mem.HeapMax != 1<<30 {
			t.Errorf("%s: heap used %d max %d, want %d and 1 GiB", path, node.JVM.Mem.HeapUsed, node.JVM.Mem.HeapMax, want)
		}
		for _, b := range []string{"accounting", "fielddata", "in_flight_requests", "model_inference", "parent", "request"} {
			if br, ok := node.Breakers[b]; !ok || br.Limit <= 0 {
				t.Errorf("%s: breaker %s = %+v", path, b, br)
			}
		}
		if node.Breakers["parent"].Estimated != node.JVM.Mem.HeapUsed {
			t.Errorf("%s: parent breaker should track the heap", path)
		}
	}
}

func TestErrors(t *testing.T) {
	h := testNode().Handler(nil)
	resp, body := get(t, h, "GET", "/myindex/_search")
	if resp.StatusCode != 400 || !strings.Contains(body, "no handler found for uri [/myindex/_search]") {
		t.Errorf("unknown path: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, h, "DELETE", "/")
	if resp.StatusCode != 405 || !strings.Contains(body, "read-only") {
		t.Errorf("DELETE /: %d %s", resp.StatusCode, body)
	}
}

func TestRequestLogger(t *testing.T) {
	var got []string
	h := testNode().Handler(func(r *http.Request, status, n int, _ time.Duration) {
		got = append(got, r.Method+" "+r.URL.Path+" "+http.StatusText(status))
		if n == 0 {
			t.Errorf("logged 0 bytes for %s", r.URL.Path)
		}
	})
	get(t, h, "GET", "/")
	get(t, h, "GET", "/nope")
	if strings.Join(got, ", ") != "GET / OK, GET /nope Bad Request" {
		t.Errorf("logged %q", got)
	}
}

func TestHumanBytes(t *testing.T) {
	for in, want := range map[int64]string{
		0: "0b", 16440: "16kb", 161106136: "153.6mb", 1 << 30: "1gb",
		1020054732: "972.7mb", 429496729: "409.5mb", 536870912: "512mb",
	} {
		if got := HumanBytes(in); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestEncode(t *testing.T) {
	v := Obj{{"a", []string{"x", "y"}}, {"b", Obj{}}, {"c", 1.5}, {"d", 100.0}, {"e", nil}}
	if got, want := string(Encode(v, false)), `{"a":["x","y"],"b":{},"c":1.5,"d":100.0,"e":null}`; got != want {
		t.Errorf("compact = %s, want %s", got, want)
	}
	want := "{\n  \"a\" : [ \"x\", \"y\" ],\n  \"b\" : { },\n  \"c\" : 1.5,\n  \"d\" : 100.0,\n  \"e\" : null\n}\n"
	if got := string(Encode(v, true)); got != want {
		t.Errorf("pretty = %q, want %q", got, want)
	}
}
