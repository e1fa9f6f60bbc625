package scenarios

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/namespaces"
	"github.com/podsim/podsim/objects"
	"github.com/podsim/podsim/sandbox"
	"github.com/podsim/podsim/sandbox/images"
)

// errQuit is the learner's q at a prompt.
var errQuit = errors.New("tour stopped")

// Tour walks through the article's section "How do multi-container pods
// work?" with the article's own pod (podtest: two busybox containers and an
// emptyDir). For each step it prints the article's kubectl command, the
// podsim command that does the same, the output, and what the output
// proves: which namespace or cgroup made it so, with the inodes read from
// /proc/<pid>/ns/*. It is a scenario (its pods are made and deleted as any
// scenario's) whose checks print as steps; `podsim tour` runs it.
type Tour struct {
	M         *sandbox.Manager
	Namespace string
	In        io.Reader // the learner's Enter or q, when Interactive
	Out       io.Writer
	// Interactive waits for Enter between steps (q quits).
	Interactive bool
	// Patterns also runs the pattern scenarios whose images Images has.
	Patterns bool
	// Images says which images podsim can provide here (nil: all).
	Images interface {
		Lookup(ref string) (images.Entry, error)
	}

	t           *T
	interactive bool
	lines       chan string // the learner's input, read once

	mu     sync.Mutex
	events []sandbox.Event // trace events since the last take()

	n, total int
	unexpect []string
}

// step is what the tour prints for one step of the article.
type step struct {
	title   string
	article []string // the article's commands (kubectl, then what is typed in the container)
	podsim  []string // what podsim runs
	output  string
	why     string
	ok      bool // the output is what the article shows
}

// Observe takes the pod runtime's trace events: the tour shows the steps
// podsim took to build and delete its pods. Give it every event while Run runs.
func (tr *Tour) Observe(ev sandbox.Event) {
	tr.mu.Lock()
	tr.events = append(tr.events, ev)
	tr.mu.Unlock()
}

// Run runs the tour. It deletes every pod it made, also when a step fails
// or ctx is cancelled (Ctrl-C).
func (tr *Tour) Run(ctx context.Context) error {
	tr.interactive = tr.Interactive
	fmt.Fprintln(tr.Out, `podsim tour — the article's "How do multi-container pods work?", run for real.
Each step shows the article's kubectl command, the podsim command that does the
same here, its output, and what the output proves about namespaces and cgroups.`)
	if tr.interactive {
		fmt.Fprintln(tr.Out, "Press Enter after each step to go on, q then Enter to stop (the tour cleans up either way).")
	}
	fmt.Fprintln(tr.Out)

	var runErr error
	s := &Scenario{
		Name:    "tour",
		Summary: "pod podtest, then podtest-sharepid; both are deleted at the end",
		Run: func(ctx context.Context, t *T) {
			tr.t = t
			runErr = tr.steps(ctx)
		},
	}
	o := RunScenario(ctx, tr.M, s, tr.Namespace, false, tr.Out)
	if o.Err != nil && runErr == nil {
		runErr = o.Err
	}
	if errors.Is(runErr, errQuit) {
		fmt.Fprintln(tr.Out, "\nTour stopped; its pods are deleted.")
		return nil
	}
	if ctx.Err() != nil {
		fmt.Fprintln(tr.Out, "\nInterrupted; the tour's pods are deleted.")
		return ctx.Err()
	}
	if runErr != nil {
		return runErr
	}
	if len(tr.unexpect) > 0 {
		return fmt.Errorf("%d step(s) did not show what the article shows: %s", len(tr.unexpect), strings.Join(tr.unexpect, "; "))
	}
	return nil
}

// take returns the trace events collected since the last call.
func (tr *Tour) take() []sandbox.Event {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	ev := tr.events
	tr.events = nil
	return ev
}

func (tr *Tour) steps(ctx context.Context) error {
	type stepFn func(context.Context) (step, error)
	list := []stepFn{
		tr.stepApply, tr.stepMountInC1, tr.stepWrite, tr.stepReadShared, tr.stepTmpIsolated,
		tr.stepIPLink, tr.stepListen, tr.stepConnect, tr.stepPS, tr.stepPortConflict,
		tr.stepInspect, tr.stepSharePID, tr.stepDelete, tr.stepPatterns,
	}
	tr.total = len(list)
	for _, f := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		tr.n++
		st, err := f(ctx)
		if err != nil {
			return err
		}
		tr.print(st)
		if err := tr.wait(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintln(tr.Out, `That is the whole answer to the article's question: c2 reaches c1 on localhost
because the pause container holds one network namespace that every container
joins, and c2 cannot see c1's processes because each container gets a PID
namespace (and a mount namespace) of its own. Volumes are the one part of the
filesystem they share: a host directory bind-mounted into each mount namespace.`)
	return nil
}

const tourWidth = 92

func (tr *Tour) print(s step) {
	head := fmt.Sprintf("── %d/%d  %s ", tr.n, tr.total, s.title)
	if n := tourWidth - len([]rune(head)); n > 0 {
		head += strings.Repeat("─", n)
	}
	fmt.Fprintln(tr.Out, head)
	field := func(label string, lines []string) {
		for i, l := range lines {
			if i == 0 {
				fmt.Fprintf(tr.Out, "%-9s %s\n", label, l)
			} else {
				fmt.Fprintf(tr.Out, "%-9s %s\n", "", l)
			}
		}
	}
	if len(s.article) > 0 {
		field("article", s.article)
	}
	if len(s.podsim) > 0 {
		field("podsim", prefixAll("$ ", s.podsim))
	}
	out := strings.TrimRight(s.output, "\n")
	if out != "" {
		fmt.Fprintln(tr.Out, "output")
		for _, l := range strings.Split(out, "\n") {
			fmt.Fprintln(tr.Out, "  │ "+l)
		}
	}
	if s.why != "" {
		mark := "why"
		if !s.ok {
			mark = "UNEXPECTED"
			tr.unexpect = append(tr.unexpect, s.title)
		}
		field(mark, wrapText(s.why, tourWidth-10))
	} else if !s.ok {
		tr.unexpect = append(tr.unexpect, s.title)
	}
	fmt.Fprintln(tr.Out)
}

// wait waits for Enter on a terminal; q stops the tour.
func (tr *Tour) wait(ctx context.Context) error {
	if !tr.interactive || tr.n == tr.total {
		return nil
	}
	if tr.lines == nil {
		tr.lines = make(chan string)
		go func() {
			sc := bufio.NewScanner(tr.In)
			for sc.Scan() {
				tr.lines <- sc.Text()
			}
			close(tr.lines)
		}()
	}
	fmt.Fprint(tr.Out, "[Enter: next step, q: quit] ")
	select {
	case l, ok := <-tr.lines:
		if !ok {
			tr.interactive = false // input ended: run straight through
			return nil
		}
		if strings.EqualFold(strings.TrimSpace(l), "q") {
			return errQuit
		}
		fmt.Fprintln(tr.Out)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// exec runs a command in a container and returns the output, the exit code
// and the podsim command line.
func (tr *Tour) exec(ctx context.Context, pod, ctr string, cmd ...string) (string, int, string) {
	return tr.t.Exec(ctx, pod, ctr, cmd...)
}

func (tr *Tour) procs(ctx context.Context, pod string) (*Procs, error) {
	return tr.t.Procs(ctx, pod)
}

func nsOf(pid int, typ string) namespaces.ID {
	id, _ := namespaces.Read(fmt.Sprintf("/proc/%d/ns/%s", pid, typ), typ)
	return id
}

func hostNS(typ string) namespaces.ID {
	id, _ := namespaces.Read("/proc/self/ns/"+typ, typ)
	return id
}

// ---- the steps -------------------------------------------------------

func (tr *Tour) stepApply(ctx context.Context) (step, error) {
	st := step{title: "the article's pod: two busybox containers sharing an emptyDir",
		article: []string{"kubectl apply -f pod-multiple-containers.yaml"},
		podsim:  []string{"podsim apply -f pod-multiple-containers.yaml   (podsim apply --trace shows each step in full)"}}
	var buf strings.Builder
	save := tr.t.Out
	tr.t.Out = &buf
	tr.take()
	err := tr.t.Apply(ctx, PodTestYAML)
	tr.t.Out = save
	if err != nil {
		return st, err
	}
	buf.WriteString("steps podsim took, in order (from the trace):\n")
	buf.WriteString(eventSummary(tr.take()))
	st.output = buf.String()
	st.ok = true
	st.why = "This is what kubelet asks containerd's CRI for. RunPodSandbox: a pod cgroup, a network namespace " +
		"pinned under /run/netns before any process exists, CNI wiring eth0 into it, then the pause container, " +
		"which sits in that netns and creates the pod's IPC and UTS namespaces. CreateContainer + StartContainer " +
		"for c1 and c2: each joins the pause's net, ipc and uts namespaces through /proc/<pause-pid>/ns/* and " +
		"gets a mount and a PID namespace of its own; the emptyDir is bind-mounted into each."
	return st, nil
}

// eventSummary prints trace events one line each: step, duration, detail
// (and the pod, when there are several).
func eventSummary(evs []sandbox.Event) string {
	pods := map[string]bool{}
	for _, ev := range evs {
		pods[ev.Pod] = true
	}
	var b strings.Builder
	for _, ev := range evs {
		if len(pods) > 1 {
			fmt.Fprintf(&b, "  [%s] %-8s %8s  %s\n", ev.Pod, ev.Step, ev.ShortDuration(), ev.Detail)
		} else {
			fmt.Fprintf(&b, "  %-8s %8s  %s\n", ev.Step, ev.ShortDuration(), ev.Detail)
		}
	}
	return b.String()
}

func (tr *Tour) stepMountInC1(ctx context.Context) (step, error) {
	out, code, cmd := tr.exec(ctx, "podtest", "c1", "sh", "-c", "mount | grep shared")
	st := step{title: "the volume is mounted in c1",
		article: []string{"kubectl exec -it podtest --container c1 -- sh", "c1@podtest$ mount | grep shared"},
		podsim:  []string{cmd}, output: out, ok: code == 0 && strings.Contains(out, " /shared ")}
	p, err := tr.procs(ctx, "podtest")
	if err != nil {
		return st, err
	}
	dir := tr.M.EmptyDirPath(p.State.Record, "shared")
	st.why = fmt.Sprintf("The emptyDir is a plain directory on the host, %s. The runtime bind-mounted it "+
		"at /shared inside c1's own mount namespace %s, which is why mount shows the host's disk and "+
		"filesystem: it is the host's directory, seen through a second mount point.", dir, nsOf(p.PID["c1"], "mnt"))
	return st, nil
}

func (tr *Tour) stepWrite(ctx context.Context) (step, error) {
	out, code, cmd := tr.exec(ctx, "podtest", "c1", "sh", "-c", `echo "foo" > /tmp/foo && echo "bar" > /shared/bar && ls -l /tmp/foo /shared/bar`)
	st := step{title: "c1 writes one file to its own /tmp and one to the volume",
		article: []string{`c1@podtest$ echo "foo" > /tmp/foo`, `c1@podtest$ echo "bar" > /shared/bar`},
		podsim:  []string{cmd}, output: out, ok: code == 0}
	st.why = "/tmp/foo lands in c1's root filesystem: an overlayfs snapshot of the busybox image that only c1's " +
		"mount namespace has mounted at /. /shared/bar lands in the host directory behind the volume."
	return st, nil
}

func (tr *Tour) stepReadShared(ctx context.Context) (step, error) {
	out, code, cmd := tr.exec(ctx, "podtest", "c2", "cat", "/shared/bar")
	st := step{title: "c2 reads the file c1 wrote to the volume",
		article: []string{"kubectl exec -it podtest --container c2 -- sh", "c2@podtest$ cat /shared/bar"},
		podsim:  []string{cmd}, output: out, ok: code == 0 && strings.TrimSpace(out) == "bar"}
	p, err := tr.procs(ctx, "podtest")
	if err != nil {
		return st, err
	}
	host := filepath.Join(tr.M.EmptyDirPath(p.State.Record, "shared"), "bar")
	i1 := fileInode(fmt.Sprintf("/proc/%d/root/shared/bar", p.PID["c1"]))
	i2 := fileInode(fmt.Sprintf("/proc/%d/root/shared/bar", p.PID["c2"]))
	ih := fileInode(host)
	st.ok = st.ok && i1 != 0 && i1 == i2 && i1 == ih
	st.why = fmt.Sprintf("It is one file: /shared/bar has inode %d seen from c1 (/proc/%d/root/shared/bar), "+
		"inode %d seen from c2 (/proc/%d/root/shared/bar) and inode %d on the host (%s). "+
		"Two mount namespaces, two bind mounts, one directory.", i1, p.PID["c1"], i2, p.PID["c2"], ih, host)
	return st, nil
}

func fileInode(path string) uint64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	if s, ok := fi.Sys().(*syscall.Stat_t); ok {
		return s.Ino
	}
	return 0
}

func (tr *Tour) stepTmpIsolated(ctx context.Context) (step, error) {
	out, code, cmd := tr.exec(ctx, "podtest", "c2", "cat", "/tmp/foo")
	st := step{title: "but c2 cannot see c1's /tmp/foo",
		article: []string{"c2@podtest$ cat /tmp/foo"},
		podsim:  []string{cmd}, output: fmt.Sprintf("%s(exit code %d)", out, code),
		ok: code != 0 && strings.Contains(out, "No such file")}
	p, err := tr.procs(ctx, "podtest")
	if err != nil {
		return st, err
	}
	m1, m2 := nsOf(p.PID["c1"], "mnt"), nsOf(p.PID["c2"], "mnt")
	st.ok = st.ok && m1 != m2
	st.why = fmt.Sprintf("c1 is in mount namespace %s, c2 in %s: each container has its own mount table "+
		"and its own root filesystem, so c1's /tmp is not c2's /tmp. Only what is bind-mounted into both "+
		"(the volume) is shared.", m1, m2)
	return st, nil
}

func (tr *Tour) stepIPLink(ctx context.Context) (step, error) {
	out1, code1, cmd1 := tr.exec(ctx, "podtest", "c1", "ip", "link")
	out2, code2, cmd2 := tr.exec(ctx, "podtest", "c2", "ip", "link")
	mac1, mac2 := eth0MAC(out1), eth0MAC(out2)
	st := step{title: "ip link: the same eth0, with the same MAC, in both containers",
		article: []string{"kubectl exec -it podtest -c c1 -- ip link", "kubectl exec -it podtest -c c2 -- ip link"},
		podsim:  []string{cmd1, cmd2},
		output:  "c1:\n" + strings.TrimRight(out1, "\n") + "\nc2:\n" + out2,
		ok:      code1 == 0 && code2 == 0 && mac1 != "" && mac1 == mac2}
	p, err := tr.procs(ctx, "podtest")
	if err != nil {
		return st, err
	}
	n0, n1, n2 := nsOf(p.PID["POD"], "net"), nsOf(p.PID["c1"], "net"), nsOf(p.PID["c2"], "net")
	pin, _ := namespaces.Read(p.State.NetNS, "net")
	st.ok = st.ok && n1 == n2 && n1 == n0 && n1.Inode == pin.Inode
	st.why = fmt.Sprintf("One device, so one MAC (%s): pause, c1 and c2 are all in network namespace %s, "+
		"the one pinned at %s (net:[%d]); the host is in %s. CNI made the veth pair: eth0 (%s) inside, "+
		"%s outside on the bridge %s.", p.State.MAC, n1, p.State.NetNS, pin.Inode, hostNS("net"),
		p.State.IP, p.State.HostIf, p.State.Bridge)
	return st, nil
}

// The article runs `nc -lk -p 5000 127.0.0.1 -e 'date'`; Debian's busybox nc
// has no -k and keeps listening with -ll.
var tourListener = []string{"nc", "-ll", "-p", "5000", "127.0.0.1", "-e", "date"}

func (tr *Tour) stepListen(ctx context.Context) (step, error) {
	st := step{title: "c1 starts a listener on localhost:5000",
		article: []string{"kubectl exec -it podtest -c c1 -- sh", "c1@podtest$ nc -lk -p 5000 127.0.0.1 -e 'date'"},
		podsim:  []string{"podsim exec podtest -c c1 -- " + strings.Join(tourListener, " ") + "   (in the background; busybox nc keeps listening with -ll, it has no -k)"}}
	if err := tr.t.Background(ctx, "podtest", "c1", tourListener...); err != nil {
		return st, err
	}
	p, err := tr.procs(ctx, "podtest")
	if err != nil {
		return st, err
	}
	n, _ := tr.t.B.Node(ctx, "podtest")
	ok := tr.t.WaitListening(ctx, n, p.PID["c1"], "127.0.0.1:5000", 5*time.Second)
	c1ls := tr.t.Listening(ctx, n, p.PID["c1"])
	hostls := tr.t.HostListening(ctx, n)
	onHost := false
	for _, l := range hostls {
		onHost = onHost || l == "127.0.0.1:5000"
	}
	st.output = fmt.Sprintf("listening sockets in /proc/%d/net/tcp (c1's network namespace): %s\n127.0.0.1:5000 in the host's socket table: %v",
		p.PID["c1"], strings.Join(c1ls, " "), onHost)
	st.ok = ok && !onHost
	st.why = "The kernel keeps one socket table per network namespace. The listener is in the pod's " +
		fmt.Sprintf("(%s), bound to the pod's own loopback device; the host's 127.0.0.1 is another device in another namespace.", nsOf(p.PID["c1"], "net"))
	return st, nil
}

func (tr *Tour) stepConnect(ctx context.Context) (step, error) {
	out, code, cmd := tr.exec(ctx, "podtest", "c2", "nc", "localhost", "5000")
	st := step{title: "c2 connects to localhost:5000 and gets c1's date",
		article: []string{"kubectl exec -it podtest -c c2 -- sh", "c2@podtest$ telnet localhost 5000"},
		podsim:  []string{cmd + "   (nc instead of telnet: no terminal needed)"},
		output:  out, ok: code == 0 && strings.TrimSpace(out) != ""}
	p, err := tr.procs(ctx, "podtest")
	if err != nil {
		return st, err
	}
	st.why = fmt.Sprintf("localhost in c2 is the loopback of network namespace %s, the same one c1 listens in "+
		"(c1: %s). Same namespace, same lo, same socket table: c2 reaches c1's listener without any network "+
		"between them. That is the ambassador pattern's whole trick.", nsOf(p.PID["c2"], "net"), nsOf(p.PID["c1"], "net"))
	return st, nil
}

func (tr *Tour) stepPS(ctx context.Context) (step, error) {
	out, code, cmd := tr.exec(ctx, "podtest", "c2", "ps", "aux")
	pid1 := psPID1(out)
	st := step{title: "yet ps aux in c2 does not show c1's nc",
		article: []string{"c2@podtest$ ps aux"},
		podsim:  []string{cmd}, output: out,
		ok: code == 0 && !strings.Contains(out, "nc -ll") && strings.Contains(pid1, "sleep 5000")}
	p, err := tr.procs(ctx, "podtest")
	if err != nil {
		return st, err
	}
	p1, p2 := nsOf(p.PID["c1"], "pid"), nsOf(p.PID["c2"], "pid")
	st.ok = st.ok && p1 != p2
	st.why = fmt.Sprintf("c2 is in PID namespace %s, c1 (and its nc) in %s. ps reads /proc, and c2's /proc "+
		"lists only the processes of c2's PID namespace, where c2's 'sleep 5000' is PID 1 (on the host it is "+
		"pid %d). The pod shares the network namespace, not the PID namespace: network isolation and "+
		"process isolation are two different namespaces.", p2, p1, p.PID["c2"])
	return st, nil
}

func (tr *Tour) stepPortConflict(ctx context.Context) (step, error) {
	out, code, cmd := tr.exec(ctx, "podtest", "c2", "nc", "-l", "-p", "5000", "127.0.0.1")
	st := step{title: "one network namespace is one set of ports",
		article: []string{"\"multiple containers in a pod can't listen on the same port!\"", "kubectl exec podtest -c c2 -- nc -l -p 5000 127.0.0.1"},
		podsim:  []string{cmd}, output: fmt.Sprintf("%s(exit code %d)", out, code),
		ok: code != 0 && strings.Contains(strings.ToLower(out), "address already in use")}
	st.why = "c2's bind() to 127.0.0.1:5000 fails with EADDRINUSE: the port belongs to the socket table of the " +
		"pod's network namespace, where c1's listener already holds it."
	return st, nil
}

func (tr *Tour) stepInspect(ctx context.Context) (step, error) {
	st := step{title: "every namespace of the pod, read from the kernel",
		article: []string{"(kubectl has no such view; on a node: crictl inspectp, lsns)"},
		podsim:  []string{"podsim inspect podtest", "podsim inspect podtest -o svg > podtest.svg   (the same, drawn: open it in a browser)"}}
	in, err := tr.M.Inspect(ctx, tr.Namespace, "podtest")
	if err != nil {
		return st, err
	}
	var b strings.Builder
	types := []string{"net", "ipc", "uts", "pid", "mnt"}
	fmt.Fprintf(&b, "%-10s %-7s", "CONTAINER", "PID")
	for _, t := range types {
		fmt.Fprintf(&b, " %-18s", strings.ToUpper(t))
	}
	b.WriteString("\n")
	for _, r := range in.Rows {
		fmt.Fprintf(&b, "%-10s %-7d", r.Name, r.PID)
		for _, t := range types {
			fmt.Fprintf(&b, " %-18s", fmt.Sprintf("%d %s", r.NS[t].Inode, in.Relation(r, t)))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "pod cgroup %s, one child cgroup per container", in.State.Cgroup)
	st.output = b.String()
	st.ok = true
	st.why = "POD is the pause container. 'shared' means the same inode as the pause's: net, ipc and uts are " +
		"the pod's, held by pause, joined by c1 and c2 (CRI NamespaceOption network=POD, ipc=POD). 'own' means " +
		"the container's alone: pid (NamespaceMode CONTAINER, the default) and mnt. Resources are the other half: " +
		"the pod cgroup is the parent of one cgroup per container, where limits are written."
	return st, nil
}

func (tr *Tour) stepSharePID(ctx context.Context) (step, error) {
	st := step{title: "shareProcessNamespace: true puts the whole pod in one PID namespace",
		article: []string{"kubectl apply -f podtest-sharepid.yaml   (podtest with spec.shareProcessNamespace: true)",
			"kubectl exec podtest-sharepid -c c2 -- ps aux"}}
	var buf strings.Builder
	save := tr.t.Out
	tr.t.Out = &buf
	tr.take()
	err := tr.t.Apply(ctx, PodTestSharedPIDYAML)
	tr.t.Out = save
	if err != nil {
		return st, err
	}
	tr.take()
	if err := tr.t.Background(ctx, "podtest-sharepid", "c1", tourListener...); err != nil {
		return st, err
	}
	p, err := tr.procs(ctx, "podtest-sharepid")
	if err != nil {
		return st, err
	}
	n, _ := tr.t.B.Node(ctx, "podtest-sharepid")
	tr.t.WaitListening(ctx, n, p.PID["c1"], "127.0.0.1:5000", 5*time.Second)
	out, code, cmd := tr.exec(ctx, "podtest-sharepid", "c2", "ps", "aux")
	st.podsim = []string{"podsim apply -f podtest-sharepid.yaml", "podsim exec podtest-sharepid -c c1 -- " + strings.Join(tourListener, " ") + "   (in the background)", cmd}
	st.output = buf.String() + out
	pid1 := psPID1(out)
	n0, n1, n2 := nsOf(p.PID["POD"], "pid"), nsOf(p.PID["c1"], "pid"), nsOf(p.PID["c2"], "pid")
	st.ok = code == 0 && strings.Contains(out, "nc -ll") && strings.Contains(pid1, "pause") && n0 == n1 && n1 == n2
	st.why = fmt.Sprintf("Now c2 sees c1's nc, and PID 1 is the pause container: pause, c1 and c2 are all in PID "+
		"namespace %s (CRI NamespaceOption pid=POD), created by pause and joined by the others like net. Their mount "+
		"namespaces are still their own (c1 %s, c2 %s).", n1, nsOf(p.PID["c1"], "mnt"), nsOf(p.PID["c2"], "mnt"))
	return st, nil
}

func (tr *Tour) stepDelete(ctx context.Context) (step, error) {
	st := step{title: "delete the pods: everything is undone in reverse",
		article: []string{"kubectl delete pod podtest podtest-sharepid"},
		podsim:  []string{"podsim delete pod podtest podtest-sharepid"}}
	tr.t.Cleanup() // stop the background listeners first
	tr.take()
	var out strings.Builder
	var errs []error
	for _, name := range []string{"podtest", "podtest-sharepid"} {
		if err := tr.M.DeletePod(ctx, tr.Namespace, name, time.Second); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(&out, "pod %q deleted\n", name)
	}
	out.WriteString("steps podsim took (from the trace):\n")
	out.WriteString(eventSummary(tr.take()))
	left := []string{}
	ents, _ := os.ReadDir(namespaces.NetNSDir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "podsim-podtest-") {
			left = append(left, e.Name())
		}
	}
	fmt.Fprintf(&out, "podsim netns pins of podtest left in %s: %d", namespaces.NetNSDir, len(left))
	st.output = out.String()
	st.ok = len(errs) == 0 && len(left) == 0
	st.why = "StopPodSandbox and RemovePodSandbox in reverse order of creation: the containers stop (SIGKILL at once " +
		"for a PID 1 without a SIGTERM handler, which the kernel would never deliver SIGTERM to), then the pause " +
		"container, and with the last process the IPC, UTS and PID namespaces end. CNI DEL removes the veth, " +
		"unmounting the pin frees the network namespace, and the pod cgroup is removed."
	if len(errs) > 0 {
		st.why += " Errors: " + errors.Join(errs...).Error()
	}
	return st, nil
}

// tourPatterns are the article's patterns and the scenarios that show them.
var tourPatterns = []struct {
	pattern, gist string
	scenarios     []string
}{
	{"ambassador", "a proxy in the pod takes the outside traffic and talks to the app on localhost (shared network namespace)", []string{"nginx-fronted"}},
	{"adapter", "an exporter in the pod reads the app on localhost and serves its metrics in a standard format", []string{"adapter"}},
	{"sidecar", "a helper container enhances the app: here through a shared emptyDir (logs) or localhost (cache)", []string{"sidecar-logs", "cache-sidecar", "configmap-reload"}},
	{"init", "containers that run to completion, one by one, before the app containers start", []string{"init-sysctl", "init-secrets", "fetch-init"}},
}

func (tr *Tour) stepPatterns(ctx context.Context) (step, error) {
	st := step{title: "the patterns: ambassador, adapter, sidecar, init", ok: true}
	var b strings.Builder
	var runnable []*Scenario
	for _, p := range tourPatterns {
		fmt.Fprintf(&b, "%s: %s\n", p.pattern, p.gist)
		for _, name := range p.scenarios {
			s, err := Find(name)
			if err != nil {
				continue
			}
			summary := s.Summary
			if _, rest, ok := strings.Cut(summary, ": "); ok {
				summary = rest
			}
			fmt.Fprintf(&b, "  podsim run %-17s %s\n", name, summary)
			if missing := tr.missingImages(s); len(missing) > 0 {
				fmt.Fprintf(&b, "  %-28s (needs %s, which podsim cannot build here)\n", "", strings.Join(missing, ", "))
			} else {
				runnable = append(runnable, s)
			}
		}
	}
	if tr.Patterns {
		for _, s := range runnable {
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(&b, "\n")
			o := tr.runPattern(ctx, s, &b)
			res := "PASS"
			if !o.Passed() {
				res = "FAIL"
				st.ok = false
				if o.Err != nil {
					fmt.Fprintf(&b, "scenario %s could not run: %v\n", s.Name, o.Err)
				}
			}
			fmt.Fprintf(&b, "--- %s: %s (%s)\n", s.Name, res, o.Duration.Round(10*time.Millisecond))
		}
	}
	st.output = b.String()
	st.podsim = []string{"podsim scenarios", "sudo podsim run all"}
	st.why = "Every pattern rests on what the steps above showed: ambassador and adapter on the shared network " +
		"namespace (localhost), sidecars on shared volumes or localhost, init containers on running to completion " +
		"in the same pod cgroup and namespaces before the app starts. Each scenario checks its claims against the kernel."
	if !tr.Patterns {
		st.why += " Run them with 'sudo podsim run NAME', or 'podsim tour --patterns'."
	}
	return st, nil
}

// runPattern runs a pattern scenario, then deletes any object its manifests
// name that it left behind (the tour leaves nothing), but never one that
// existed before.
func (tr *Tour) runPattern(ctx context.Context, s *Scenario, out io.Writer) Outcome {
	var named []objects.Ref
	for _, man := range append(append([]string{}, s.Manifests...), s.Extra...) {
		objs, err := sandbox.ParseManifests(strings.NewReader(man), s.Name)
		if err != nil {
			continue
		}
		for _, o := range objs {
			named = append(named, objects.RefOf(o))
		}
	}
	before := map[objects.Ref]bool{}
	for _, r := range named {
		before[r] = tr.t.O.Exists(ctx, tr.Namespace, r)
	}
	outcome := RunScenario(ctx, tr.M, s, tr.Namespace, false, out)
	ctx = context.WithoutCancel(ctx)
	var left []objects.Ref
	for _, r := range named {
		if !before[r] && tr.t.O.Exists(ctx, tr.Namespace, r) {
			left = append(left, r)
		}
	}
	grace := time.Second
	_ = tr.t.O.Delete(ctx, tr.Namespace, left, objects.DeleteOptions{Grace: &grace, IgnoreNotFound: true}, func(r objects.Ref, err error) {
		if err == nil {
			fmt.Fprintf(out, "(the tour deleted %s %s, which the scenario left behind)\n", strings.ToLower(r.Kind.Kind), r.Name)
		}
	})
	return outcome
}

// missingImages lists the images of a scenario's manifests that podsim
// cannot provide on this machine.
func (tr *Tour) missingImages(s *Scenario) []string {
	seen := map[string]bool{}
	var missing []string
	for _, man := range append(append([]string{}, s.Manifests...), s.Extra...) {
		objs, err := sandbox.ParseManifests(strings.NewReader(man), s.Name)
		if err != nil {
			continue
		}
		for _, o := range objs {
			var spec *corev1.PodSpec
			switch {
			case o.Pod != nil:
				spec = &o.Pod.Spec
			case o.Deployment != nil:
				spec = &o.Deployment.Spec.Template.Spec
			default:
				continue
			}
			for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
				if seen[c.Image] {
					continue
				}
				seen[c.Image] = true
				if tr.Images == nil {
					continue
				}
				if _, err := tr.Images.Lookup(c.Image); err != nil {
					missing = append(missing, c.Image)
				}
			}
		}
	}
	sort.Strings(missing)
	return missing
}

func prefixAll(p string, l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = p + s
	}
	return out
}

// wrapText splits text into lines of at most width runes, at spaces.
func wrapText(t string, width int) []string {
	var out []string
	cur := ""
	for _, w := range strings.Fields(t) {
		if cur != "" && len([]rune(cur))+1+len([]rune(w)) > width {
			out = append(out, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}
