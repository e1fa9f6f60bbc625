// Package esapi is the HTTP API of podsim's Elasticsearch 7.9.3 stand-in: the
// few read-only endpoints the article's pods use (the root document that
// `curl http://elasticsearch:9200` prints, cluster health, and the node stats
// that the Prometheus exporter scrapes). It stores no documents and has no
// search.
//
// It lives in its own package so the exporter stand-in's tests can scrape a
// real instance of it through httptest.
package esapi

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// What the stand-in reports as its version: the build of the official
// docker.elastic.co/elasticsearch/elasticsearch:7.9.3 image.
const (
	Version         = "7.9.3"
	BuildFlavor     = "default"
	BuildType       = "docker"
	BuildHash       = "c4138e51121ef06a6404866cddc601906fe5c868"
	BuildDate       = "2020-10-16T10:36:16.141335Z"
	LuceneVersion   = "8.6.2"
	MinWireCompat   = "6.8.0"
	MinIndexCompat  = "6.0.0-beta1"
	Tagline         = "You Know, for Search"
	DefaultCluster  = "docker-cluster"
	DefaultHTTPPort = 9200
)

// The simulated JVM: the official image starts Elasticsearch with a 1 GiB
// heap (-Xms1g -Xmx1g). Memory figures are synthetic; see Node.heapUsed.
const (
	heapMax       int64 = 1 << 30
	heapBase      int64 = 161106136 // what the article's exporter output shows for the parent breaker
	nonHeapUsed   int64 = 118_435_120
	nonHeapCommit int64 = 127_926_272
)

// Node is one stand-in Elasticsearch node (and so a one-node cluster).
type Node struct {
	ClusterName      string
	ClusterUUID      string
	NodeName         string
	NodeID           string
	PublishAddress   string // host:port other nodes/clients would use, e.g. 10.88.0.5:9200
	TransportAddress string // host:9300

	started time.Time
	now     func() time.Time
}

// NewNode returns a node with fresh random IDs, like a new Elasticsearch
// data directory gets. publish is the HTTP publish address (host:port).
func NewNode(cluster, name, publish string) *Node {
	host, _, err := net.SplitHostPort(publish)
	if err != nil {
		host = publish
	}
	n := &Node{
		ClusterName:      cluster,
		ClusterUUID:      randomID(),
		NodeName:         name,
		NodeID:           randomID(),
		PublishAddress:   publish,
		TransportAddress: net.JoinHostPort(host, "9300"),
		now:              time.Now,
	}
	n.started = n.now()
	return n
}

// randomID makes an ID in Elasticsearch's format: 16 random bytes, URL-safe
// base64 without padding (22 characters, e.g. "z98oL-w-SLKJBhh5KVG4kg").
func randomID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// RequestLogger is told about every request the handler served.
type RequestLogger func(r *http.Request, status int, bytes int, took time.Duration)

// Handler serves the stand-in's REST API. logReq may be nil.
func (n *Node) Handler(logReq RequestLogger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", n.root)
	mux.HandleFunc("/_cluster/health", n.clusterHealth)
	mux.HandleFunc("/_cluster/health/", n.clusterHealth)
	mux.HandleFunc("/_cat/health", n.catHealth)
	mux.HandleFunc("/_nodes/", n.nodes)
	if logReq == nil {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		mux.ServeHTTP(rec, r)
		logReq(r, rec.status, rec.bytes, time.Since(start))
	})
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// pretty reports whether the request asks for human-formatted JSON
// (`?pretty` or `?pretty=true`, as in Elasticsearch).
func pretty(r *http.Request) bool {
	v, ok := r.URL.Query()["pretty"]
	return ok && (len(v) == 0 || v[0] == "" || v[0] == "true")
}

func reply(w http.ResponseWriter, r *http.Request, status int, v any, pretty bool) {
	body := Encode(v, pretty)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// readOnly rejects methods other than GET and HEAD the way Elasticsearch
// rejects a method an endpoint does not have.
func readOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET,HEAD")
	reply(w, r, http.StatusMethodNotAllowed, Obj{
		{"error", fmt.Sprintf("Incorrect HTTP method for uri [%s] and method [%s], allowed: [GET, HEAD] (podsim's Elasticsearch stand-in is read-only)", r.URL.RequestURI(), r.Method)},
		{"status", 405},
	}, pretty(r))
	return false
}

// notFound answers requests for anything the stand-in does not implement,
// in Elasticsearch's format for an unknown endpoint.
func (n *Node) notFound(w http.ResponseWriter, r *http.Request) {
	reply(w, r, http.StatusBadRequest, Obj{
		{"error", fmt.Sprintf("no handler found for uri [%s] and method [%s] (podsim's Elasticsearch stand-in only serves /, /_cluster/health, /_cat/health and /_nodes/stats)", r.URL.RequestURI(), r.Method)},
	}, pretty(r))
}

// RootDoc is the document GET / returns.
func (n *Node) RootDoc() Obj {
	return Obj{
		{"name", n.NodeName},
		{"cluster_name", n.ClusterName},
		{"cluster_uuid", n.ClusterUUID},
		{"version", Obj{
			{"number", Version},
			{"build_flavor", BuildFlavor},
			{"build_type", BuildType},
			{"build_hash", BuildHash},
			{"build_date", BuildDate},
			{"build_snapshot", false},
			{"lucene_version", LuceneVersion},
			{"minimum_wire_compatibility_version", MinWireCompat},
			{"minimum_index_compatibility_version", MinIndexCompat},
		}},
		{"tagline", Tagline},
	}
}

func (n *Node) root(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		n.notFound(w, r)
		return
	}
	if !readOnly(w, r) {
		return
	}
	// Elasticsearch formats this one document for people even without
	// ?pretty, which is what `curl http://elasticsearch:9200` shows.
	reply(w, r, http.StatusOK, n.RootDoc(), true)
}

// Health is the cluster health document: one node, no indices, green.
func (n *Node) Health() Obj {
	return Obj{
		{"cluster_name", n.ClusterName},
		{"status", "green"},
		{"timed_out", false},
		{"number_of_nodes", 1},
		{"number_of_data_nodes", 1},
		{"active_primary_shards", 0},
		{"active_shards", 0},
		{"relocating_shards", 0},
		{"initializing_shards", 0},
		{"unassigned_shards", 0},
		{"delayed_unassigned_shards", 0},
		{"number_of_pending_tasks", 0},
		{"number_of_in_flight_fetch", 0},
		{"task_max_waiting_in_queue_millis", 0},
		{"active_shards_percent_as_number", 100.0},
	}
}

func (n *Node) clusterHealth(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	// ?wait_for_status=... is satisfied at once: the one-node cluster
	// without indices is always green.
	reply(w, r, http.StatusOK, n.Health(), pretty(r))
}

func (n *Node) catHealth(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	now := n.now().UTC()
	if f := r.URL.Query().Get("format"); f == "json" {
		reply(w, r, http.StatusOK, []any{Obj{
			{"epoch", strconv.FormatInt(now.Unix(), 10)},
			{"timestamp", now.Format("15:04:05")},
			{"cluster", n.ClusterName}, {"status", "green"},
			{"node.total", "1"}, {"node.data", "1"},
			{"shards", "0"}, {"pri", "0"}, {"relo", "0"}, {"init", "0"}, {"unassign", "0"},
			{"pending_tasks", "0"}, {"max_task_wait_time", "-"}, {"active_shards_percent", "100.0%"},
		}}, pretty(r))
		return
	}
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 1, ' ', 0)
	if _, v := r.URL.Query()["v"]; v {
		fmt.Fprintln(tw, "epoch\ttimestamp\tcluster\tstatus\tnode.total\tnode.data\tshards\tpri\trelo\tinit\tunassign\tpending_tasks\tmax_task_wait_time\tactive_shards_percent")
	}
	fmt.Fprintf(tw, "%d\t%s\t%s\tgreen\t1\t1\t0\t0\t0\t0\t0\t0\t-\t100.0%%\n", now.Unix(), now.Format("15:04:05"), n.ClusterName)
	tw.Flush()
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	if r.Method != http.MethodHead {
		w.Write([]byte(sb.String()))
	}
}

// nodesStatsPath matches /_nodes/stats, /_nodes/_local/stats,
// /_nodes/<id>/stats and the same with a metric filter (/stats/jvm,...).
// The filter is ignored: the whole document is returned.
var nodesStatsPath = regexp.MustCompile(`^/_nodes(/[^/]+)?/stats(/[^/]*)*$`)

func (n *Node) nodes(w http.ResponseWriter, r *http.Request) {
	if !nodesStatsPath.MatchString(r.URL.Path) {
		n.notFound(w, r)
		return
	}
	if !readOnly(w, r) {
		return
	}
	reply(w, r, http.StatusOK, n.NodesStats(), pretty(r))
}

// heapUsed is the simulated JVM heap in use: it climbs by about 1 MB a
// second from heapBase and drops back every 200 s, like a JVM between young
// collections, so graphs of the exporter's metrics move. gcs is how many
// such "collections" have happened.
func (n *Node) heapUsed() (used int64, gcs int64) {
	up := n.now().Sub(n.started)
	if up < 0 {
		up = 0
	}
	sec := int64(up / time.Second)
	return heapBase + (sec%200)*1_048_576, sec / 200
}

// breaker describes one circuit breaker like _nodes/stats does.
func breaker(limit, estimated int64, overhead float64) Obj {
	return Obj{
		{"limit_size_in_bytes", limit},
		{"limit_size", HumanBytes(limit)},
		{"estimated_size_in_bytes", estimated},
		{"estimated_size", HumanBytes(estimated)},
		{"overhead", overhead},
		{"tripped", 0},
	}
}

// NodesStats is the _nodes/stats document for this one node. Memory and
// breaker figures are synthetic (there is no JVM); file descriptor counts
// are the stand-in process's own.
func (n *Node) NodesStats() Obj {
	now := n.now()
	ts := now.UnixMilli()
	used, gcs := n.heapUsed()
	uptime := now.Sub(n.started).Milliseconds()
	host, _, _ := net.SplitHostPort(n.TransportAddress)

	youngUsed := used / 4
	node := Obj{
		{"timestamp", ts},
		{"name", n.NodeName},
		{"transport_address", n.TransportAddress},
		{"host", host},
		{"ip", n.TransportAddress},
		{"roles", []string{"data", "ingest", "master", "ml", "remote_cluster_client", "transform"}},
		{"attributes", Obj{
			{"ml.machine_memory", strconv.FormatInt(machineMemory(), 10)},
			{"xpack.installed", "true"},
			{"transform.node", "true"},
			{"ml.max_open_jobs", "20"},
		}},
		{"indices", Obj{
			{"docs", Obj{{"count", 0}, {"deleted", 0}}},
			{"store", Obj{{"size_in_bytes", 0}, {"reserved_in_bytes", 0}}},
			{"indexing", Obj{{"index_total", 0}, {"index_time_in_millis", 0}, {"index_current", 0}, {"index_failed", 0}, {"delete_total", 0}, {"delete_time_in_millis", 0}}},
			{"get", Obj{{"total", 0}, {"time_in_millis", 0}, {"exists_total", 0}, {"missing_total", 0}, {"current", 0}}},
			{"search", Obj{{"open_contexts", 0}, {"query_total", 0}, {"query_time_in_millis", 0}, {"query_current", 0}, {"fetch_total", 0}, {"fetch_time_in_millis", 0}}},
			{"segments", Obj{{"count", 0}, {"memory_in_bytes", 0}}},
		}},
		{"process", Obj{
			{"timestamp", ts},
			{"open_file_descriptors", openFDs()},
			{"max_file_descriptors", maxFDs()},
			{"cpu", Obj{{"percent", 0}, {"total_in_millis", 0}}},
			{"mem", Obj{{"total_virtual_in_bytes", 0}}},
		}},
		{"jvm", Obj{
			{"timestamp", ts},
			{"uptime_in_millis", uptime},
			{"mem", Obj{
				{"heap_used_in_bytes", used},
				{"heap_used_percent", used * 100 / heapMax},
				{"heap_committed_in_bytes", heapMax},
				{"heap_max_in_bytes", heapMax},
				{"non_heap_used_in_bytes", nonHeapUsed},
				{"non_heap_committed_in_bytes", nonHeapCommit},
				{"pools", Obj{
					{"young", Obj{{"used_in_bytes", youngUsed}, {"max_in_bytes", 0}, {"peak_used_in_bytes", 71_303_168}, {"peak_max_in_bytes", 0}}},
					{"survivor", Obj{{"used_in_bytes", 8_912_896}, {"max_in_bytes", 0}, {"peak_used_in_bytes", 8_912_896}, {"peak_max_in_bytes", 0}}},
					{"old", Obj{{"used_in_bytes", used - youngUsed - 8_912_896}, {"max_in_bytes", heapMax}, {"peak_used_in_bytes", used - youngUsed}, {"peak_max_in_bytes", heapMax}}},
				}},
			}},
			{"threads", Obj{{"count", 35}, {"peak_count", 36}}},
			{"gc", Obj{{"collectors", Obj{
				{"young", Obj{{"collection_count", gcs + 7}, {"collection_time_in_millis", (gcs + 7) * 18}}},
				{"old", Obj{{"collection_count", 0}, {"collection_time_in_millis", 0}}},
			}}}},
		}},
		// The limits are Elasticsearch 7.9's defaults as fractions of
		// the heap: parent 95%, fielddata 40%, request 60%,
		// in_flight_requests and accounting 100%, model_inference 50%.
		// The parent breaker tracks the (simulated) heap in use.
		{"breakers", Obj{
			{"request", breaker(heapMax*60/100, 16440, 1.0)},
			{"fielddata", breaker(heapMax*40/100, 0, 1.03)},
			{"in_flight_requests", breaker(heapMax, 0, 2.0)},
			{"model_inference", breaker(heapMax/2, 0, 1.0)},
			{"accounting", breaker(heapMax, 0, 1.0)},
			{"parent", breaker(heapMax*95/100, used, 1.0)},
		}},
	}
	return Obj{
		{"_nodes", Obj{{"total", 1}, {"successful", 1}, {"failed", 0}}},
		{"cluster_name", n.ClusterName},
		{"nodes", Obj{{n.NodeID, node}}},
	}
}

// HumanBytes formats a size like Elasticsearch's ByteSizeValue: the largest
// unit that keeps the number >= 1, one decimal cut off (not rounded), ".0"
// dropped ("1gb", "972.7mb", "16kb", "0b").
func HumanBytes(b int64) string {
	units := []string{"b", "kb", "mb", "gb", "tb", "pb"}
	v := float64(b)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	s := strconv.FormatFloat(math.Floor(v*10)/10, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + units[i]
}

func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

func machineMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
