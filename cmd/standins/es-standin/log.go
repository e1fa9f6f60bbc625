package main

import (
	"encoding/json"
	"io"
	"strings"
	"sync"
	"time"
)

// esLogger writes log lines in Elasticsearch 7's JSON format, the one the
// docker image prints and the article's log sidecar tails:
//
//	{"type": "server", "timestamp": "2020-11-29T23:01:42,849Z", "level": "INFO", "component": "o.e.n.Node", "cluster.name": "docker-cluster", "node.name": "es-0", "message": "..." }
//
// one object per line, as Elasticsearch writes them (the article shows them
// pretty-printed). Once the node has joined its cluster, lines also carry
// cluster.uuid and node.id, as in Elasticsearch.
type esLogger struct {
	mu      sync.Mutex
	outs    []io.Writer
	cluster string
	node    string
	uuid    string // set by joined
	nodeID  string
	now     func() time.Time
}

func (l *esLogger) addOutput(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.outs = append(l.outs, w)
}

func (l *esLogger) joined(clusterUUID, nodeID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.uuid, l.nodeID = clusterUUID, nodeID
}

// timestamp formats t like Elasticsearch's logs: UTC, milliseconds after
// a comma.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05,000") + "Z"
}

func (l *esLogger) log(level, component, msg string) {
	q := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	b.WriteString(`{"type": "server", "timestamp": ` + q(timestamp(l.now())))
	b.WriteString(`, "level": ` + q(level) + `, "component": ` + q(component))
	b.WriteString(`, "cluster.name": ` + q(l.cluster) + `, "node.name": ` + q(l.node))
	b.WriteString(`, "message": ` + q(msg))
	if l.uuid != "" {
		b.WriteString(`, "cluster.uuid": ` + q(l.uuid) + `, "node.id": ` + q(l.nodeID))
	}
	b.WriteString(" }\n")
	for _, w := range l.outs {
		io.WriteString(w, b.String())
	}
}

func (l *esLogger) info(component, msg string)  { l.log("INFO", component, msg) }
func (l *esLogger) warn(component, msg string)  { l.log("WARN", component, msg) }
func (l *esLogger) error(component, msg string) { l.log("ERROR", component, msg) }
