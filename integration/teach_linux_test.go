package integration

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// traceEvent mirrors the JSON of sandbox.Event, as a tool reading
// `podsim --trace=json` would declare it.
type traceEvent struct {
	Time     time.Time         `json:"time"`
	Pod      string            `json:"pod"`
	Step     string            `json:"step"`
	Concept  string            `json:"concept"`
	Object   string            `json:"object"`
	Detail   string            `json:"detail"`
	Attrs    map[string]string `json:"attrs"`
	Duration int64             `json:"durationNs"`
}

// traceEvents parses the JSON lines of a --trace=json run's stderr (other
// stderr lines, such as progress while an image is built, are skipped).
func traceEvents(t *testing.T, stderr string) []traceEvent {
	t.Helper()
	var out []traceEvent
	for _, l := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var ev traceEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("trace line is not a JSON event: %v: %s", err, l)
		}
		out = append(out, ev)
	}
	return out
}

var nsRE = regexp.MustCompile(`\b(net|ipc|uts|pid|mnt|cgroup|user):\[\d+\]`)

// TestTeachTraceJSON builds the article's pod with --trace=json and checks
// the trace against the kernel: the steps come in CRI order, and every
// namespace the trace names for a process is the one /proc/<pid>/ns/* links
// to, for processes found through the pod cgroup (not through podsim).
// Then it checks the picture (inspect -o svg) the same way, and the trace
// of the teardown.
func TestTeachTraceJSON(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	p := writeManifest(t, podtest)
	t.Cleanup(func() { podsim(t, "", "delete", "pod", "podtest", "--grace-period=1") })
	r := podsim(t, "", "apply", "-f", p, "--trace=json")
	if r.code != 0 {
		t.Fatalf("apply --trace=json: %s", r)
	}
	if !strings.Contains(r.stdout, "pod/podtest created") {
		t.Errorf("stdout should keep apply's normal output only: %q", r.stdout)
	}
	evs := traceEvents(t, r.stderr)

	// Order: cgroup, netns, cni, pause, then per container its mounts and the container.
	var steps []string
	for _, ev := range evs {
		if ev.Pod != "podtest" {
			t.Errorf("event of pod %q", ev.Pod)
		}
		if ev.Concept == "" || ev.Detail == "" || ev.Time.IsZero() {
			t.Errorf("event without concept, detail or time: %+v", ev)
		}
		s := ev.Step
		if s == "app" || s == "mount" {
			s += ":" + ev.Attrs["container"]
		}
		steps = append(steps, s)
	}
	want := "cgroup netns cni pause mount:c1 app:c1 mount:c2 app:c2"
	if got := strings.Join(steps, " "); got != want {
		t.Fatalf("trace steps:\n got %s\nwant %s\n%s", got, want, r.stderr)
	}
	// The sandbox steps are sequential; app containers are created
	// concurrently (then started in order), so they only start after the pause.
	for i := 1; i < len(evs); i++ {
		prev := i - 1
		if prev > 3 {
			prev = 3 // the pause
		}
		if evs[i].Time.Before(evs[prev].Time) {
			t.Errorf("event %d (%s) starts before event %d (%s)", i, evs[i].Step, prev, evs[prev].Step)
		}
	}

	pod := getPod(t, "podtest")
	pids := containerPIDs(t, string(pod.UID))
	byStep := map[string]traceEvent{}
	for i, s := range steps {
		byStep[s] = evs[i]
	}
	sandboxID := byStep["pause"].Object
	procs := map[string]int{"pause": pids[sandboxID], "c1": pids[sandboxID+"-c1"], "c2": pids[sandboxID+"-c2"]}
	for name, pid := range procs {
		if pid == 0 {
			t.Fatalf("no process for %s in the pod cgroup (%v)", name, pids)
		}
	}

	// The pinned netns: the inode of the pin file, the pause's net.
	pin := byStep["netns"].Attrs["pin"]
	fi, err := os.Stat(pin)
	if err != nil {
		t.Fatalf("netns pin %s: %v", pin, err)
	}
	pinNS := fmt.Sprintf("net:[%d]", fi.Sys().(*syscall.Stat_t).Ino)
	if got := byStep["netns"].Attrs["netns"]; got != pinNS {
		t.Errorf("trace says the pin holds %s, the kernel says %s", got, pinNS)
	}

	// Every namespace printed for a process is the one the kernel shows.
	check := func(who string, pid int, text string) int {
		n := 0
		for _, m := range nsRE.FindAllStringSubmatch(text, -1) {
			if got := nsInode(t, pid, m[1]); got != m[0] {
				t.Errorf("%s (pid %d): trace says %s, /proc/%d/ns/%s is %s", who, pid, m[0], pid, m[1], got)
			}
			n++
		}
		return n
	}
	pe := byStep["pause"]
	if pe.Attrs["pid"] != fmt.Sprint(procs["pause"]) {
		t.Errorf("trace's pause pid %s, pod cgroup's %d", pe.Attrs["pid"], procs["pause"])
	}
	if n := check("pause", procs["pause"], pe.Attrs["joined"]+" "+pe.Attrs["new"]); n != 5 {
		t.Errorf("pause event names %d namespaces, want net, ipc, uts, pid, mnt: %v", n, pe.Attrs)
	}
	if nsInode(t, procs["pause"], "net") != pinNS {
		t.Errorf("pause is not in the pinned netns %s", pinNS)
	}
	for _, c := range []string{"c1", "c2"} {
		ev := byStep["app:"+c]
		if ev.Attrs["pid"] != fmt.Sprint(procs[c]) {
			t.Errorf("trace's %s pid %s, pod cgroup's %d", c, ev.Attrs["pid"], procs[c])
		}
		if n := check(c, procs[c], ev.Attrs["joined"]+" "+ev.Attrs["own"]+" "+ev.Detail); n < 5 {
			t.Errorf("%s event names %d namespaces: %+v", c, n, ev)
		}
		// Joined are the pause's; own are not.
		for _, m := range nsRE.FindAllStringSubmatch(ev.Attrs["joined"], -1) {
			if nsInode(t, procs["pause"], m[1]) != m[0] {
				t.Errorf("%s joined %s, which is not the pause's", c, m[0])
			}
		}
		for _, m := range nsRE.FindAllStringSubmatch(ev.Attrs["own"], -1) {
			if nsInode(t, procs["pause"], m[1]) == m[0] || nsInode(t, 0, m[1]) == m[0] {
				t.Errorf("%s's own %s is the pause's or the host's", c, m[0])
			}
		}
		mt := byStep["mount:"+c]
		if mt.Attrs["destination"] != "/shared" || mt.Attrs["mode"] != "rw" {
			t.Errorf("%s mount event: %+v", c, mt.Attrs)
		}
		if _, err := os.Stat(mt.Attrs["source"]); err != nil {
			t.Errorf("%s mount source: %v", c, err)
		}
	}
	if ip := byStep["cni"].Attrs["ip"]; ip == "" || ip != pod.Status.PodIP {
		t.Errorf("CNI event IP %q, pod IP %q", ip, pod.Status.PodIP)
	}

	// The picture: valid XML with every container, namespace inode and volume.
	svg := mustPodsim(t, "inspect", "podtest", "-o", "svg")
	text := xmlText(t, svg)
	for _, w := range []string{"POD (pause container)", "c1 (container)", "c2 (container)", "volume shared", pod.Status.PodIP, byStep["cni"].Attrs["veth"]} {
		if !strings.Contains(text, w) {
			t.Errorf("SVG lacks %q", w)
		}
	}
	for name, pid := range procs {
		for _, typ := range []string{"net", "ipc", "uts", "pid", "mnt"} {
			if ns := nsInode(t, pid, typ); !strings.Contains(text, ns) {
				t.Errorf("SVG lacks %s's %s", name, ns)
			}
		}
	}
	if dot := mustPodsim(t, "inspect", "podtest", "-o", "dot"); !strings.HasPrefix(dot, "digraph") || !strings.Contains(dot, nsInode(t, procs["c1"], "mnt")) {
		t.Errorf("DOT output:\n%s", dot)
	}

	// Teardown, traced in reverse order.
	r = podsim(t, "", "delete", "pod", "podtest", "--trace=json")
	if r.code != 0 {
		t.Fatalf("delete --trace=json: %s", r)
	}
	var concepts []string
	for _, ev := range traceEvents(t, r.stderr) {
		if ev.Step != "teardown" {
			t.Errorf("delete emitted a %q event", ev.Step)
		}
		concepts = append(concepts, ev.Concept)
	}
	if len(concepts) != 4 || !strings.HasPrefix(concepts[0], "stop containers") || !strings.HasPrefix(concepts[2], "CNI DEL") {
		t.Errorf("teardown events: %q", concepts)
	}
	if _, err := os.Stat(pin); !os.IsNotExist(err) {
		t.Errorf("netns pin %s still there after delete: %v", pin, err)
	}
}

// xmlText parses a document with encoding/xml and returns its character data.
func xmlText(t *testing.T, doc string) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader([]byte(doc)))
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return b.String()
		}
		if err != nil {
			t.Fatalf("not valid XML: %v", err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			b.Write(cd)
			b.WriteByte('\n')
		}
	}
}

// TestTeachTour runs the guided tour as CI does and checks it showed what
// the article shows and left the host as it found it.
func TestTeachTour(t *testing.T) {
	requireRoot(t)
	checkNoLeaks(t)
	r := podsim(t, "", "tour", "--yes")
	if r.code != 0 {
		t.Fatalf("podsim tour --yes: %s", r)
	}
	for _, w := range []string{"1/14", "kubectl exec -it podtest -c c2 -- ip link", "c2 connects to localhost:5000 and gets c1's date",
		"yet ps aux in c2 does not show c1's nc", "14/14"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("tour output lacks %q:\n%s", w, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "UNEXPECTED") {
		t.Errorf("a step did not show what the article shows:\n%s", r.stdout)
	}
}
