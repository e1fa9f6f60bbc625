package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

const ns = "elasticsearch"

// The metric families. Names and HELP texts are the real exporter's; the
// labels are the ones the article's output shows (breaker/area/... and the
// node name).
var (
	descHealthUp = prometheus.NewDesc(ns+"_cluster_health_up",
		"Was the last scrape of the ElasticSearch cluster health endpoint successful.", nil, nil)
	descHealthScrapes = prometheus.NewDesc(ns+"_cluster_health_total_scrapes",
		"Current total ElasticSearch cluster health scrapes.", nil, nil)
	descHealthParseFailures = prometheus.NewDesc(ns+"_cluster_health_json_parse_failures",
		"Number of errors while parsing JSON.", nil, nil)
	descHealthStatus = prometheus.NewDesc(ns+"_cluster_health_status",
		"Whether all primary and replica shards are allocated.", []string{"cluster", "color"}, nil)

	descNodesUp = prometheus.NewDesc(ns+"_node_stats_up",
		"Was the last scrape of the ElasticSearch nodes endpoint successful.", nil, nil)
	descNodesScrapes = prometheus.NewDesc(ns+"_node_stats_total_scrapes",
		"Current total ElasticSearch node scrapes.", nil, nil)
	descNodesParseFailures = prometheus.NewDesc(ns+"_node_stats_json_parse_failures",
		"Number of errors while parsing JSON.", nil, nil)

	descBreakerEstimated = prometheus.NewDesc(ns+"_breakers_estimated_size_bytes",
		"Estimated size in bytes of breaker", []string{"breaker", "name"}, nil)
	descBreakerLimit = prometheus.NewDesc(ns+"_breakers_limit_size_bytes",
		"Limit size in bytes for breaker", []string{"breaker", "name"}, nil)
	descBreakerTripped = prometheus.NewDesc(ns+"_breakers_tripped",
		"tripped for breaker", []string{"breaker", "name"}, nil)

	descJVMUsed = prometheus.NewDesc(ns+"_jvm_memory_used_bytes",
		"JVM memory currently used by area", []string{"area", "name"}, nil)
	descJVMCommitted = prometheus.NewDesc(ns+"_jvm_memory_committed_bytes",
		"JVM memory currently committed by area", []string{"area", "name"}, nil)
	descJVMMax = prometheus.NewDesc(ns+"_jvm_memory_max_bytes",
		"JVM memory max", []string{"area", "name"}, nil)
	descGCCount = prometheus.NewDesc(ns+"_jvm_gc_collection_seconds_count",
		"Count of JVM GC runs", []string{"gc", "name"}, nil)
	descGCSum = prometheus.NewDesc(ns+"_jvm_gc_collection_seconds_sum",
		"GC run time in seconds", []string{"gc", "name"}, nil)

	descDocs = prometheus.NewDesc(ns+"_indices_docs",
		"Count of documents on this node", []string{"name"}, nil)
	descDocsDeleted = prometheus.NewDesc(ns+"_indices_docs_deleted",
		"Count of deleted documents on this node", []string{"name"}, nil)
	descStoreSize = prometheus.NewDesc(ns+"_indices_store_size_bytes",
		"Current size of stored index data in bytes", []string{"name"}, nil)

	descOpenFiles = prometheus.NewDesc(ns+"_process_open_files_count",
		"Open file descriptors", []string{"name"}, nil)
	descMaxFiles = prometheus.NewDesc(ns+"_process_max_files_descriptors",
		"Max file descriptors", []string{"name"}, nil)
)

// clusterHealth is the part of GET /_cluster/health the exporter reads.
type clusterHealth struct {
	ClusterName         string  `json:"cluster_name"`
	Status              string  `json:"status"`
	NumberOfNodes       float64 `json:"number_of_nodes"`
	NumberOfDataNodes   float64 `json:"number_of_data_nodes"`
	ActivePrimaryShards float64 `json:"active_primary_shards"`
	ActiveShards        float64 `json:"active_shards"`
	RelocatingShards    float64 `json:"relocating_shards"`
	InitializingShards  float64 `json:"initializing_shards"`
	UnassignedShards    float64 `json:"unassigned_shards"`
	DelayedUnassigned   float64 `json:"delayed_unassigned_shards"`
	PendingTasks        float64 `json:"number_of_pending_tasks"`
}

// healthGauges are the cluster health numbers exported as gauges.
var healthGauges = []struct {
	name, help string
	value      func(h *clusterHealth) float64
}{
	{"active_primary_shards", "The number of primary shards in your cluster. This is an aggregate total across all indices.", func(h *clusterHealth) float64 { return h.ActivePrimaryShards }},
	{"active_shards", "Aggregate total of all shards across all indices, which includes replica shards.", func(h *clusterHealth) float64 { return h.ActiveShards }},
	{"delayed_unassigned_shards", "Shards delayed to reduce reallocation overhead", func(h *clusterHealth) float64 { return h.DelayedUnassigned }},
	{"initializing_shards", "Count of shards that are being freshly created.", func(h *clusterHealth) float64 { return h.InitializingShards }},
	{"number_of_data_nodes", "Number of data nodes in the cluster.", func(h *clusterHealth) float64 { return h.NumberOfDataNodes }},
	{"number_of_nodes", "Number of nodes in the cluster.", func(h *clusterHealth) float64 { return h.NumberOfNodes }},
	{"number_of_pending_tasks", "Cluster level changes which have not yet been executed", func(h *clusterHealth) float64 { return h.PendingTasks }},
	{"relocating_shards", "The number of shards that are currently moving from one node to another node.", func(h *clusterHealth) float64 { return h.RelocatingShards }},
	{"unassigned_shards", "The number of shards that exist in the cluster state, but cannot be found in the cluster itself.", func(h *clusterHealth) float64 { return h.UnassignedShards }},
}

var healthGaugeDescs = func() []*prometheus.Desc {
	var ds []*prometheus.Desc
	for _, g := range healthGauges {
		ds = append(ds, prometheus.NewDesc(ns+"_cluster_health_"+g.name, g.help, []string{"cluster"}, nil))
	}
	return ds
}()

// nodesStats is the part of GET /_nodes/stats the exporter reads.
type nodesStats struct {
	ClusterName string               `json:"cluster_name"`
	Nodes       map[string]nodeStats `json:"nodes"`
}

type nodeStats struct {
	Name    string `json:"name"`
	Indices struct {
		Docs struct {
			Count   float64 `json:"count"`
			Deleted float64 `json:"deleted"`
		} `json:"docs"`
		Store struct {
			Size float64 `json:"size_in_bytes"`
		} `json:"store"`
	} `json:"indices"`
	JVM struct {
		Mem struct {
			HeapUsed         float64 `json:"heap_used_in_bytes"`
			HeapCommitted    float64 `json:"heap_committed_in_bytes"`
			HeapMax          float64 `json:"heap_max_in_bytes"`
			NonHeapUsed      float64 `json:"non_heap_used_in_bytes"`
			NonHeapCommitted float64 `json:"non_heap_committed_in_bytes"`
		} `json:"mem"`
		GC struct {
			Collectors map[string]struct {
				Count  float64 `json:"collection_count"`
				TimeMS float64 `json:"collection_time_in_millis"`
			} `json:"collectors"`
		} `json:"gc"`
	} `json:"jvm"`
	Process struct {
		OpenFDs float64 `json:"open_file_descriptors"`
		MaxFDs  float64 `json:"max_file_descriptors"`
	} `json:"process"`
	Breakers map[string]struct {
		Limit     float64 `json:"limit_size_in_bytes"`
		Estimated float64 `json:"estimated_size_in_bytes"`
		Tripped   float64 `json:"tripped"`
	} `json:"breakers"`
}

// collector scrapes Elasticsearch on every Collect, like the real exporter:
// a Prometheus scrape of /metrics is one scrape of Elasticsearch.
type collector struct {
	client *http.Client
	es     *url.URL
	all    bool
	log    *logger

	healthScrapes, healthFailures atomic.Int64
	nodesScrapes, nodesFailures   atomic.Int64
}

func newCollector(o options, es *url.URL, log *logger) *collector {
	return &collector{client: newHTTPClient(o), es: es, all: o.all, log: log}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descHealthUp, descHealthScrapes, descHealthParseFailures, descHealthStatus,
		descNodesUp, descNodesScrapes, descNodesParseFailures,
		descBreakerEstimated, descBreakerLimit, descBreakerTripped,
		descJVMUsed, descJVMCommitted, descJVMMax, descGCCount, descGCSum,
		descDocs, descDocsDeleted, descStoreSize, descOpenFiles, descMaxFiles,
	} {
		ch <- d
	}
	for _, d := range healthGaugeDescs {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	ctx := context.Background()

	// Cluster health.
	c.healthScrapes.Add(1)
	var h clusterHealth
	if err := c.fetch(ctx, "/_cluster/health", &h, &c.healthFailures); err != nil {
		c.log.print("warn", "failed to fetch and decode cluster health", "err", err.Error())
		gauge(descHealthUp, 0)
	} else {
		gauge(descHealthUp, 1)
		for i, g := range healthGauges {
			gauge(healthGaugeDescs[i], g.value(&h), h.ClusterName)
		}
		for _, color := range []string{"green", "yellow", "red"} {
			v := 0.0
			if h.Status == color {
				v = 1
			}
			gauge(descHealthStatus, v, h.ClusterName, color)
		}
	}
	counter(descHealthScrapes, float64(c.healthScrapes.Load()))
	counter(descHealthParseFailures, float64(c.healthFailures.Load()))

	// Node stats.
	c.nodesScrapes.Add(1)
	p := "/_nodes/_local/stats"
	if c.all {
		p = "/_nodes/stats"
	}
	var s nodesStats
	if err := c.fetch(ctx, p, &s, &c.nodesFailures); err != nil {
		c.log.print("warn", "failed to fetch and decode node stats", "err", err.Error())
		gauge(descNodesUp, 0)
	} else {
		gauge(descNodesUp, 1)
		ids := make([]string, 0, len(s.Nodes))
		for id := range s.Nodes {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			n := s.Nodes[id]
			for b, br := range n.Breakers {
				gauge(descBreakerEstimated, br.Estimated, b, n.Name)
				gauge(descBreakerLimit, br.Limit, b, n.Name)
				counter(descBreakerTripped, br.Tripped, b, n.Name)
			}
			m := n.JVM.Mem
			gauge(descJVMUsed, m.HeapUsed, "heap", n.Name)
			gauge(descJVMUsed, m.NonHeapUsed, "non-heap", n.Name)
			gauge(descJVMCommitted, m.HeapCommitted, "heap", n.Name)
			gauge(descJVMCommitted, m.NonHeapCommitted, "non-heap", n.Name)
			gauge(descJVMMax, m.HeapMax, "heap", n.Name)
			for gc, st := range n.JVM.GC.Collectors {
				counter(descGCCount, st.Count, gc, n.Name)
				counter(descGCSum, st.TimeMS/1000, gc, n.Name)
			}
			gauge(descDocs, n.Indices.Docs.Count, n.Name)
			gauge(descDocsDeleted, n.Indices.Docs.Deleted, n.Name)
			gauge(descStoreSize, n.Indices.Store.Size, n.Name)
			gauge(descOpenFiles, n.Process.OpenFDs, n.Name)
			gauge(descMaxFiles, n.Process.MaxFDs, n.Name)
		}
	}
	counter(descNodesScrapes, float64(c.nodesScrapes.Load()))
	counter(descNodesParseFailures, float64(c.nodesFailures.Load()))
}

// fetch GETs p below es.uri and decodes the JSON answer into v; a body that
// does not decode counts as a parse failure.
func (c *collector) fetch(ctx context.Context, p string, v any, parseFailures *atomic.Int64) error {
	u := *c.es
	u.Path = path.Join("/", u.Path, p)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP request failed with code %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		parseFailures.Add(1)
		return err
	}
	return nil
}
