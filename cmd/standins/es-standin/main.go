// Command es-standin is podsim's stand-in for the elasticsearch:7.9.3 image.
//
// podsim runs the article's pods on machines without a registry, and a real
// Elasticsearch (a JVM plus ~800 MB of image) cannot be had offline. This
// small Go program takes its place where the article only needs Elasticsearch
// to look like Elasticsearch from the outside:
//
//   - it reads the docker image's settings (discovery.type, network.host,
//     http.port, path.logs, node.name, cluster.name) from the environment,
//     config/elasticsearch.yml and -E options;
//   - it serves GET / with the real root document (version 7.9.3, build hash,
//     "You Know, for Search"), /_cluster/health, /_cat/health and
//     /_nodes/stats (enough for the Prometheus exporter); it stores no
//     documents and has no search or indexing;
//   - it logs in Elasticsearch's JSON format to stdout and, when path.logs is
//     set, to <path.logs>/<cluster.name>_server.json, one object per line;
//   - it runs the vm.max_map_count bootstrap check: a warning in development
//     mode (loopback only, or discovery.type=single-node), fatal in
//     production mode, exactly when Elasticsearch would refuse to start.
//
// Its log lines say where they differ from the real thing (no JVM).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/podsim/podsim/cmd/standins/internal/esapi"
)

// esHome is where the official image installs Elasticsearch.
const esHome = "/usr/share/elasticsearch"

// minMaxMapCount is the vm.max_map_count Elasticsearch's bootstrap check
// wants: it memory-maps index files and can run out of map areas below it.
const minMaxMapCount = 262144

// exitBootstrap is Elasticsearch's exit status when bootstrap checks fail
// (EX_CONFIG).
const exitBootstrap = 78

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, env{
		args:        os.Args[1:],
		getenv:      os.Getenv,
		stdout:      os.Stdout,
		stderr:      os.Stderr,
		maxMapCount: "/proc/sys/vm/max_map_count",
		hostname:    os.Hostname,
	}))
}

// env is everything run takes from the process, so tests can fake it.
type env struct {
	args           []string
	getenv         func(string) string
	stdout, stderr io.Writer
	maxMapCount    string // path of the vm.max_map_count sysctl
	hostname       func() (string, error)
	ready          func(addr string) // called once listening (tests)
}

func run(ctx context.Context, e env) int {
	args := e.args
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-V") {
		fmt.Fprintf(e.stdout, "Version: %s, Build: %s/%s/%s/%s, JVM: none (podsim es-standin, written in Go %s)\n",
			esapi.Version, esapi.BuildFlavor, esapi.BuildType, esapi.BuildHash, esapi.BuildDate, runtime.Version())
		return 0
	}
	// The image's Cmd is "eswrapper", as in the official image.
	if len(args) > 0 && (args[0] == "eswrapper" || args[0] == "elasticsearch") {
		args = args[1:]
	}

	s := defaultSettings()
	cfgDir := configDir(e.getenv)
	skippedYAML, yamlErr := s.readYAML(filepath.Join(cfgDir, "elasticsearch.yml"))
	s.readEnv(e.getenv)
	rest, err := s.readArgs(args)
	if err != nil {
		fmt.Fprintf(e.stderr, "es-standin: %v\n", err)
		return 64
	}
	if len(rest) > 0 {
		if strings.HasPrefix(rest[0], "-") {
			fmt.Fprintf(e.stderr, "es-standin: unsupported option %s (podsim's Elasticsearch stand-in knows -E key=value and --version)\n", rest[0])
			return 64
		}
		// Like the image's docker-entrypoint.sh: any other command
		// (e.g. `sh`) is run instead of Elasticsearch.
		return execCommand(rest, e.stderr)
	}

	if s["node.name"] == "" {
		h, err := e.hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		s["node.name"] = h
	}
	log := &esLogger{cluster: s["cluster.name"], node: s["node.name"], now: time.Now}
	log.addOutput(e.stdout)
	if dir := s["path.logs"]; dir != "" {
		f, err := openLogFile(dir, s["cluster.name"])
		if err != nil {
			log.error("o.e.b.Bootstrap", fmt.Sprintf("cannot write logs to path.logs [%s]: %v", dir, err))
			return 1
		}
		defer f.Close()
		log.addOutput(f)
	}

	const nodeC = "o.e.n.Node"
	log.info(nodeC, fmt.Sprintf("version[%s], pid[%d], build[%s/%s/%s/%s], OS[%s], JVM[none: podsim es-standin, Go %s]",
		esapi.Version, os.Getpid(), esapi.BuildFlavor, esapi.BuildType, esapi.BuildHash, esapi.BuildDate, osString(), runtime.Version()))
	log.info(nodeC, "JVM home [none: this is podsim's Go stand-in for Elasticsearch, not a JVM]")
	log.info(nodeC, "JVM arguments [none: podsim stand-in]")
	log.info("podsim.StandIn", "podsim stand-in for elasticsearch:7.9.3: serves /, /_cluster/health, /_cat/health and /_nodes/stats; stores no documents, no search")
	switch {
	case yamlErr == nil:
		log.info("podsim.StandIn", fmt.Sprintf("read settings from [%s]", filepath.Join(cfgDir, "elasticsearch.yml")))
		for _, l := range skippedYAML {
			log.warn("podsim.StandIn", fmt.Sprintf("elasticsearch.yml: ignoring [%s] (the stand-in reads flat `key: value` lines only)", l))
		}
	case !errors.Is(yamlErr, os.ErrNotExist):
		log.warn("podsim.StandIn", fmt.Sprintf("cannot read elasticsearch.yml: %v", yamlErr))
	}
	logLog4j2(log, filepath.Join(cfgDir, "log4j2.properties"))
	if dir := s["path.logs"]; dir != "" {
		log.info("podsim.StandIn", fmt.Sprintf("writing JSON logs to [%s]", logFileName(dir, s["cluster.name"])))
	}

	port, err := s.httpPort()
	if err != nil {
		log.error("o.e.b.Bootstrap", err.Error())
		return 1
	}
	bind := s.bindHost("http.host")

	// Bootstrap checks: Elasticsearch enforces them in production mode,
	// which is when its transport binds a non-loopback address and it is
	// not told it is a single node; otherwise it only warns. (The
	// stand-in has no transport port, but keeps the rule.)
	enforce := !loopbackOnly(s.bindHost("transport.host")) && s["discovery.type"] != "single-node"
	if failures := bootstrapChecks(s, e.maxMapCount); len(failures) > 0 {
		if enforce {
			msg := fmt.Sprintf("node validation exception\n[%d] bootstrap checks failed", len(failures))
			fmt.Fprintf(e.stderr, "ERROR: [%d] bootstrap checks failed\n", len(failures))
			for i, f := range failures {
				msg += fmt.Sprintf("\n[%d]: %s", i+1, f)
				fmt.Fprintf(e.stderr, "[%d]: %s\n", i+1, f)
			}
			log.error("o.e.b.Bootstrap", msg)
			log.info(nodeC, "stopping ...")
			log.info(nodeC, "stopped")
			return exitBootstrap
		}
		for _, f := range failures {
			log.warn("o.e.b.BootstrapChecks", f)
		}
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(bind, strconv.Itoa(port)))
	if err != nil {
		log.error("o.e.b.ElasticsearchUncaughtExceptionHandler", fmt.Sprintf("uncaught exception in thread [main]: BindHttpException[Failed to bind to %s]; %v", net.JoinHostPort(bind, strconv.Itoa(port)), err))
		return 1
	}
	publish := net.JoinHostPort(publishHost(bind), strconv.Itoa(port))
	node := esapi.NewNode(s["cluster.name"], s["node.name"], publish)
	srv := &http.Server{
		Handler:           node.Handler(requestLogger(log)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.info("o.e.h.AbstractHttpServerTransport", fmt.Sprintf("publish_address {%s}, bound_addresses {%s}", publish, ln.Addr()))
	log.info(nodeC, "started")
	log.joined(node.ClusterUUID, node.NodeID)
	log.info("o.e.c.s.ClusterApplierService", fmt.Sprintf("cluster UUID set to [%s]", node.ClusterUUID))
	log.info("o.e.g.GatewayService", "recovered [0] indices into cluster_state")
	log.info("o.e.c.r.a.AllocationService", "Cluster health status changed from [RED] to [GREEN] (reason: [podsim stand-in has no indices]).")
	if e.ready != nil {
		e.ready(ln.Addr().String())
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		log.error(nodeC, fmt.Sprintf("HTTP server failed: %v", err))
		return 1
	case <-ctx.Done():
	}
	// SIGTERM (a pod being deleted): stop like Elasticsearch does.
	log.info(nodeC, "stopping ...")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdownCtx)
	log.info(nodeC, "stopped")
	log.info(nodeC, "closing ...")
	log.info(nodeC, "closed")
	return 0
}

// bootstrapChecks returns the failed checks, in Elasticsearch's words.
// Only the two that matter for the article's pods are run.
func bootstrapChecks(s settings, maxMapCountPath string) []string {
	var failed []string
	if b, err := os.ReadFile(maxMapCountPath); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n < minMaxMapCount {
			failed = append(failed, fmt.Sprintf("max virtual memory areas vm.max_map_count [%d] is too low, increase to at least [%d]", n, minMaxMapCount))
		}
	}
	if s["discovery.type"] != "single-node" && s["discovery.seed_hosts"] == "" &&
		s["discovery.seed_providers"] == "" && s["cluster.initial_master_nodes"] == "" {
		failed = append(failed, "the default discovery settings are unsuitable for production use; at least one of [discovery.seed_hosts, discovery.seed_providers, cluster.initial_master_nodes] must be configured")
	}
	return failed
}

func logFileName(dir, cluster string) string {
	return filepath.Join(dir, cluster+"_server.json")
}

func openLogFile(dir, cluster string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(logFileName(dir, cluster), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

// logLog4j2 reports the logging configuration. The article mounts its own
// log4j2.properties; the stand-in has no log4j, so it only says that it
// read the file and keeps Elasticsearch's JSON format.
func logLog4j2(log *esLogger, path string) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		log.info("podsim.StandIn", fmt.Sprintf("read logging configuration [%s] (%d bytes); the stand-in has no log4j and always writes Elasticsearch's JSON log format", path, len(b)))
	case errors.Is(err, os.ErrNotExist):
		log.info("podsim.StandIn", fmt.Sprintf("no logging configuration at [%s]; writing Elasticsearch's JSON log format", path))
	default:
		log.warn("podsim.StandIn", fmt.Sprintf("cannot read logging configuration [%s]: %v", path, err))
	}
}

// requestLogger logs one line per HTTP request (real Elasticsearch does not
// log requests by default; the stand-in does, so pods show traffic).
func requestLogger(log *esLogger) esapi.RequestLogger {
	return func(r *http.Request, status, n int, took time.Duration) {
		log.info("podsim.AccessLog", fmt.Sprintf("%s %s %d %db from %s %q in %s",
			r.Method, r.URL.RequestURI(), status, n, r.RemoteAddr, r.UserAgent(), took.Round(time.Microsecond)))
	}
}

// osString is "Linux/<kernel release>/<arch>" like Elasticsearch's first log line.
func osString() string {
	rel := "unknown"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		rel = strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("Linux/%s/%s", rel, runtime.GOARCH)
}

// execCommand replaces the process with args, as `exec "$@"` does.
func execCommand(args []string, stderr io.Writer) int {
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "es-standin: %v\n", err)
		return 127
	}
	err = syscall.Exec(path, args, os.Environ())
	fmt.Fprintf(stderr, "es-standin: exec %s: %v\n", path, err)
	return 126
}
