package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/podsim/podsim/sandbox"
)

// buildEvents is what the sandbox emits for the article's pod, by hand.
func buildEvents() []sandbox.Event {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	ms := time.Millisecond
	return []sandbox.Event{
		{Time: t0, Pod: "podtest", Step: "cgroup", Concept: "pod cgroup (kubelet's pod<uid> level)", Object: "/podsim/pod1234",
			Detail: "created pod cgroup /podsim/pod1234 (cgroup v2); limits: memory none, cpu none", Duration: 400 * time.Microsecond,
			Attrs: map[string]string{"cgroup": "/podsim/pod1234", "mode": "v2"}},
		{Time: t0.Add(1 * ms), Pod: "podtest", Step: "netns", Concept: "network namespace, pinned by a bind mount", Object: "/run/netns/podsim-podtest-a0cf2d",
			Detail: "unshare(CLONE_NEWNET) on a locked OS thread, bind-mounted to /run/netns/podsim-podtest-a0cf2d: net:[4026532177]", Duration: 1100 * time.Microsecond,
			Attrs: map[string]string{"pin": "/run/netns/podsim-podtest-a0cf2d", "netns": "net:[4026532177]"}},
		{Time: t0.Add(3 * ms), Pod: "podtest", Step: "cni", Concept: "CNI ADD: loopback, then bridge + host-local IPAM", Object: "veth3a1b2c4d",
			Detail: "lo up; veth pair veth3a1b2c4d (host, on bridge podsim0) <-> eth0 (pod) 10.88.0.7, MAC 46:4c:58:6c:da:37", Duration: 23 * ms},
		{Time: t0.Add(27 * ms), Pod: "podtest", Step: "pause", Concept: "sandbox (pause) container: holds the pod's namespaces", Object: "a0cf2d3e4f5a",
			Detail: "pause pid 31401 joined net:[4026532177] (the pin); new ipc:[4026532251], uts:[4026532250] (hostname podtest), pid:[4026532252], mnt:[4026532249]", Duration: 65 * ms},
		{Time: t0.Add(92 * ms), Pod: "podtest", Step: "app", Concept: "container: joins the pod's namespaces, gets its own", Object: "c1",
			Detail: "c1 pid 31440 joined pause's net:[4026532177] ipc:[4026532251] uts:[4026532250]; own mnt:[4026532253] pid:[4026532254]", Duration: 1500 * ms},
		{Time: t0.Add(2 * time.Second), Pod: "podtest", Step: "teardown", Detail: "an event with no concept", Duration: 0},
	}
}

func TestTraceText(t *testing.T) {
	var b bytes.Buffer
	p := newTracePrinter(&b, "text")
	for _, ev := range buildEvents() {
		p.Print(ev)
	}
	out := b.String()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	// Two lines per event with a concept, one without.
	if len(lines) != 11 {
		t.Fatalf("want 11 lines, got %d:\n%s", len(lines), out)
	}
	want := []string{
		"[podtest] +0.000s  cgroup      400µs  pod cgroup (kubelet's pod<uid> level): /podsim/pod1234",
		"[podtest] +0.001s  netns      1.10ms  network namespace, pinned by a bind mount: /run/netns/podsim-podtest-a0cf2d",
		"[podtest] +0.003s  cni        23.0ms  CNI ADD: loopback, then bridge + host-local IPAM: veth3a1b2c4d",
		"[podtest] +0.027s  pause      65.0ms  sandbox (pause) container: holds the pod's namespaces: a0cf2d3e4f5a",
		"[podtest] +0.092s  app         1.50s  container: joins the pod's namespaces, gets its own: c1",
		"[podtest] +2.000s  teardown      0µs  an event with no concept",
	}
	heads := []string{lines[0], lines[2], lines[4], lines[6], lines[8], lines[10]}
	for i, w := range want {
		if heads[i] != w {
			t.Errorf("line %d:\n got %q\nwant %q", i, heads[i], w)
		}
	}
	// The detail is indented under the concept.
	indent := len([]rune(lines[0][:strings.Index(lines[0], "pod cgroup")]))
	if !strings.HasPrefix(lines[1], strings.Repeat(" ", indent)+"created pod cgroup /podsim/pod1234") {
		t.Errorf("detail not aligned under the concept:\n%s\n%s", lines[0], lines[1])
	}
	if !strings.Contains(out, "net:[4026532177]") || !strings.Contains(out, "own mnt:[4026532253] pid:[4026532254]") {
		t.Errorf("inodes missing from the text trace:\n%s", out)
	}
}

func TestTraceJSON(t *testing.T) {
	var b bytes.Buffer
	p := newTracePrinter(&b, "json")
	evs := buildEvents()
	for _, ev := range evs {
		p.Print(ev)
	}
	sc := bufio.NewScanner(&b)
	i := 0
	for sc.Scan() {
		var got sandbox.Event
		if err := json.Unmarshal(sc.Bytes(), &got); err != nil {
			t.Fatalf("line %d is not one JSON object: %v: %s", i, err, sc.Text())
		}
		var raw map[string]any
		_ = json.Unmarshal(sc.Bytes(), &raw)
		for _, k := range []string{"time", "pod", "step", "concept", "detail", "durationNs"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("line %d lacks %q: %s", i, k, sc.Text())
			}
		}
		w := evs[i]
		if !got.Time.Equal(w.Time) || got.Step != w.Step || got.Object != w.Object || got.Duration != w.Duration || got.Detail != w.Detail {
			t.Errorf("line %d: got %+v, want %+v", i, got, w)
		}
		for k, v := range w.Attrs {
			if got.Attrs[k] != v {
				t.Errorf("line %d: attr %s = %q, want %q", i, k, got.Attrs[k], v)
			}
		}
		i++
	}
	if i != len(evs) {
		t.Errorf("want %d JSON lines, got %d", len(evs), i)
	}
}

func TestTraceFlag(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    traceFormat
		wantErr bool
	}{
		{[]string{"version"}, "", false},
		{[]string{"--trace", "version"}, "text", false},
		{[]string{"--trace=json", "version"}, "json", false},
		{[]string{"--trace=text", "version"}, "text", false},
		{[]string{"--trace=xml", "version"}, "", true},
	} {
		var out, errOut bytes.Buffer
		e := &env{ctx: context.Background(), out: &out, errOut: &errOut}
		root := newRootCommand(e)
		root.SetArgs(tc.args)
		root.SetOut(&out)
		root.SetErr(&errOut)
		err := root.Execute()
		if (err != nil) != tc.wantErr {
			t.Errorf("%v: err = %v", tc.args, err)
			continue
		}
		if !tc.wantErr && e.traceFmt != tc.want {
			t.Errorf("%v: format = %q, want %q", tc.args, e.traceFmt, tc.want)
		}
	}
}

// -v and --trace go through the same printer; the tour's tap sees events too.
func TestEnvTrace(t *testing.T) {
	var errOut bytes.Buffer
	e := &env{errOut: &errOut, verbose: true}
	var tapped int
	e.traceTap = func(sandbox.Event) { tapped++ }
	for _, ev := range buildEvents() {
		e.trace(ev)
	}
	if tapped != len(buildEvents()) {
		t.Errorf("tap saw %d events", tapped)
	}
	if !strings.Contains(errOut.String(), "[podtest] +0.000s  cgroup") {
		t.Errorf("-v did not print the text trace:\n%s", errOut.String())
	}
	errOut.Reset()
	e2 := &env{errOut: &errOut, verbose: true, traceFmt: "json"}
	e2.trace(buildEvents()[0])
	if !strings.HasPrefix(errOut.String(), `{"time":"2025-01-02T03:04:05Z","pod":"podtest","step":"cgroup"`) {
		t.Errorf("--trace=json should win over -v: %s", errOut.String())
	}
	errOut.Reset()
	e3 := &env{errOut: &errOut}
	e3.trace(buildEvents()[0])
	if errOut.Len() != 0 {
		t.Errorf("no flag, no trace: %q", errOut.String())
	}
}
