package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The settings the stand-in understands. Elasticsearch's docker image lets
// any setting be given as an environment variable with the setting's own
// name (discovery.type=single-node); its entrypoint turns them into -E
// options. The stand-in reads the same names.
var knownSettings = []string{
	"cluster.name", "node.name", "network.host", "http.host", "transport.host", "http.port",
	"path.logs", "discovery.type", "discovery.seed_hosts",
	"discovery.seed_providers", "cluster.initial_master_nodes",
}

// settings holds the node settings, merged from (lowest priority first)
// built-in defaults, config/elasticsearch.yml, the environment and -E
// command line options, like Elasticsearch does.
type settings map[string]string

func defaultSettings() settings {
	return settings{
		"cluster.name": "docker-cluster",
		"network.host": "0.0.0.0",
		"http.port":    "9200",
	}
}

// readYAML merges the flat `key: value` lines of elasticsearch.yml (the
// docker image's file is two such lines). Nested YAML is not parsed: the
// stand-in logs which lines it skipped.
func (s settings) readYAML(path string) (skipped []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		if !ok || v == "" || strings.HasPrefix(sc.Text(), " ") {
			skipped = append(skipped, line)
			continue
		}
		s[strings.TrimSpace(k)] = v
	}
	return skipped, sc.Err()
}

// readEnv merges settings given as environment variables.
func (s settings) readEnv(getenv func(string) string) {
	for _, k := range knownSettings {
		if v := getenv(k); v != "" {
			s[k] = v
		}
	}
}

// readArgs merges -E key=value options and returns the other arguments.
func (s settings) readArgs(args []string) (rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		var kv string
		switch {
		case a == "-E":
			if i+1 >= len(args) {
				return nil, fmt.Errorf("-E needs key=value")
			}
			i++
			kv = args[i]
		case strings.HasPrefix(a, "-E"):
			kv = a[2:]
		default:
			rest = append(rest, a)
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("setting %q: want key=value", kv)
		}
		s[k] = v
	}
	return rest, nil
}

// httpPort is http.port; Elasticsearch also allows a range ("9200-9300"),
// of which the stand-in uses the first port.
func (s settings) httpPort() (int, error) {
	p := s["http.port"]
	if first, _, ok := strings.Cut(p, "-"); ok {
		p = first
	}
	n, err := strconv.Atoi(strings.TrimSpace(p))
	if err != nil || n < 0 || n > 65535 { // 0: any free port (tests)
		return 0, fmt.Errorf("invalid http.port [%s]", s["http.port"])
	}
	return n, nil
}

// bindHost resolves the host setting key (http.host or transport.host),
// falling back to network.host, to an address. Elasticsearch's special
// values: _local_ is loopback, _site_ and _global_ are this machine's
// addresses (the stand-in listens on all of them), and a list takes its
// first entry.
func (s settings) bindHost(key string) string {
	h := s[key]
	if h == "" {
		h = s["network.host"]
	}
	h = strings.TrimSpace(strings.Split(strings.Trim(h, "[]"), ",")[0])
	switch h {
	case "", "_local_", "localhost", "_local:ipv4_":
		return "127.0.0.1"
	case "_site_", "_global_", "0", "0.0.0.0", "_site:ipv4_", "_global:ipv4_":
		return "0.0.0.0"
	}
	return h
}

// loopbackOnly reports whether the node binds only loopback addresses,
// which is what puts Elasticsearch in development mode.
func loopbackOnly(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// publishHost is the address Elasticsearch would advertise: the bind
// address, or for a wildcard bind the first non-loopback IPv4 address.
func publishHost(bind string) string {
	if ip := net.ParseIP(bind); ip == nil || !ip.IsUnspecified() {
		return bind
	}
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
				return ipn.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// configDir is where Elasticsearch reads elasticsearch.yml and
// log4j2.properties: $ES_PATH_CONF, else config/ of the install.
func configDir(getenv func(string) string) string {
	if d := getenv("ES_PATH_CONF"); d != "" {
		return d
	}
	return filepath.Join(esHome, "config")
}
