// Command es-exporter-standin is podsim's stand-in for the
// justwatch/elasticsearch_exporter:1.1.0 image, the "adapter" container of
// the article: it turns Elasticsearch's JSON statistics into Prometheus
// metrics on :9114/metrics.
//
// Like the real exporter it scrapes Elasticsearch at every Prometheus scrape
// (GET /_cluster/health and /_nodes/_local/stats, or /_nodes/stats with
// --es.all) and serves the result with the Prometheus client library, so the
// output is real Prometheus text format with the real exporter's metric
// names and HELP texts, e.g.
//
//	# HELP elasticsearch_breakers_estimated_size_bytes Estimated size in bytes of breaker
//	# TYPE elasticsearch_breakers_estimated_size_bytes gauge
//	elasticsearch_breakers_estimated_size_bytes{breaker="parent",name="elasticsearch-ss86j"} 1.61106136e+08
//
// It exports only a subset of the real exporter's families (cluster health,
// breakers, JVM memory and GC, document counts, file descriptors, up and
// scrape counters) and labels them by node name only, as the article's output
// shows. Index, shard and snapshot metrics are not implemented.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// version is what --version and elasticsearch_exporter_build_info report.
const version = "1.1.0"

// options are the real exporter's command line flags that the stand-in
// honours; others it accepts and ignores (see newFlagSet).
type options struct {
	esURI         string
	listenAddress string
	telemetryPath string
	timeout       time.Duration
	all           bool
	skipVerify    bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// newFlagSet declares the flags. Go's flag package accepts both the
// `--es.uri=http://...` and `--es.uri http://...` forms the article uses.
func newFlagSet(o *options, stderr io.Writer) (*flag.FlagSet, *bool) {
	fs := flag.NewFlagSet("elasticsearch_exporter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.esURI, "es.uri", "http://localhost:9200", "HTTP API address of an Elasticsearch node.")
	fs.StringVar(&o.listenAddress, "web.listen-address", ":9114", "Address to listen on for web interface and telemetry.")
	fs.StringVar(&o.telemetryPath, "web.telemetry-path", "/metrics", "Path under which to expose metrics.")
	fs.DurationVar(&o.timeout, "es.timeout", 5*time.Second, "Timeout for trying to get stats from Elasticsearch.")
	fs.BoolVar(&o.all, "es.all", false, "Export stats for all nodes in the cluster (/_nodes/stats instead of /_nodes/_local/stats).")
	fs.BoolVar(&o.skipVerify, "es.ssl-skip-verify", false, "Skip TLS verification of the Elasticsearch server's certificate.")
	showVersion := fs.Bool("version", false, "Show the version and exit.")
	// Accepted for compatibility with the real exporter's command lines;
	// the stand-in does not implement them.
	for _, name := range []string{"es.indices", "es.indices_settings", "es.shards", "es.snapshots", "es.cluster_settings"} {
		fs.Bool(name, false, "Not implemented by podsim's stand-in (accepted and ignored).")
	}
	for _, name := range []string{"log.level", "log.format", "log.output", "es.ca", "es.client-private-key", "es.client-cert", "es.clusterinfo.interval"} {
		fs.String(name, "", "Not implemented by podsim's stand-in (accepted and ignored).")
	}
	return fs, showVersion
}

// run is main without the process: ready, when set, is told the listening
// address (tests).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) int {
	var o options
	fs, showVersion := newFlagSet(&o, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "elasticsearch_exporter, version %s (podsim stand-in, written in Go)\n", version)
		return 0
	}
	log := newLogger(stdout)
	esURL, err := url.Parse(o.esURI)
	if err != nil || esURL.Host == "" {
		log.print("error", "failed to parse es.uri", "err", fmt.Sprint(err), "uri", o.esURI)
		return 1
	}

	reg, err := newRegistry(newCollector(o, esURL, log))
	if err != nil {
		log.print("error", "registering collectors", "err", err.Error())
		return 1
	}
	mux := http.NewServeMux()
	mux.Handle(o.telemetryPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `<html>
<head><title>Elasticsearch Exporter</title></head>
<body>
<h1>Elasticsearch Exporter</h1>
<p><a href="%s">Metrics</a></p>
<p>podsim stand-in for justwatch/elasticsearch_exporter:%s, scraping %s</p>
</body>
</html>
`, o.telemetryPath, version, redact(esURL))
	})

	log.print("info", "starting elasticsearch_exporter", "version", version, "podsim", "stand-in: cluster health, breakers, JVM, docs and fd metrics only")
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", o.listenAddress)
	if err != nil {
		log.print("error", "http server quit", "err", err.Error())
		return 1
	}
	log.print("info", "starting server", "addr", ln.Addr().String(), "es_uri", redact(esURL), "telemetry_path", o.telemetryPath)
	if ready != nil {
		ready(ln.Addr().String())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		log.print("error", "http server quit", "err", err.Error())
		return 1
	case <-ctx.Done():
	}
	log.print("info", "shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return 0
}

// newRegistry is what the exporter serves: its Elasticsearch collector plus,
// as the real exporter, the Go runtime and process collectors and a
// build_info metric.
func newRegistry(c prometheus.Collector) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "elasticsearch_exporter_build_info",
		Help: "A metric with a constant '1' value labeled by version, revision, branch, and goversion from which elasticsearch_exporter was built.",
		ConstLabels: prometheus.Labels{
			"version": version, "revision": "podsim-standin", "branch": "podsim", "goversion": runtime.Version(),
		},
	})
	build.Set(1)
	for _, col := range []prometheus.Collector{
		c, build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// newHTTPClient is the client used to scrape Elasticsearch.
func newHTTPClient(o options) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if o.skipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	return &http.Client{Timeout: o.timeout, Transport: tr}
}

// redact hides a password in es.uri (http://user:pass@host) in logs.
func redact(u *url.URL) string {
	return u.Redacted()
}
