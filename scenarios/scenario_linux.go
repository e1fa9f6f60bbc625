package scenarios

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsim/podsim/namespaces"
	"github.com/podsim/podsim/objects"
	"github.com/podsim/podsim/sandbox"
)

// Scenario is one pattern of the article.
type Scenario struct {
	Name    string
	Summary string
	// Manifests are the pods the scenario creates, in order.
	Manifests []string
	// Extra are manifests the checks apply later (an update, a variant);
	// `podsim export` prints them too.
	Extra []string
	// Run performs the checks against the created pods.
	Run func(ctx context.Context, t *T)
}

// Registry returns every scenario, in the order `run all` runs them.
func Registry() []*Scenario {
	return []*Scenario{
		sharedVolume(), sharedLocalhost(), isolatedPS(), portConflict(),
		nginxFronted(), adapter(), sidecarLogs(), initSysctl(), initSecrets(),
		cacheSidecar(), configmapReload(), fetchInit(),
		resourceLimits(), hostNamespaces(), debugContainer(), runtimeClass(),
	}
}

// Find returns a scenario by name.
func Find(name string) (*Scenario, error) {
	var names []string
	for _, s := range Registry() {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown scenario %q: choose one of %s, or all (see 'podsim scenarios')", name, strings.Join(names, ", "))
}

// Result is one check's outcome.
type Result struct {
	Claim    string
	Command  string
	Observed string
	Pass     bool
}

// T is what a scenario's checks use: the pod runtime, the objects, the
// namespace, and the record of results.
type T struct {
	M         *sandbox.Manager
	O         *objects.Manager
	Namespace string
	Out       io.Writer
	Results   []Result
	cleanups  []func()
	created   []objects.Ref
	keep      bool
}

// Check records a result and prints it.
func (t *T) Check(claim, command, observed string, pass bool) bool {
	t.Results = append(t.Results, Result{Claim: claim, Command: command, Observed: observed, Pass: pass})
	mark := "PASS"
	if !pass {
		mark = "FAIL"
	}
	fmt.Fprintf(t.Out, "[%s] %s\n", mark, claim)
	if command != "" {
		fmt.Fprintf(t.Out, "       $ %s\n", command)
	}
	for _, l := range strings.Split(strings.TrimRight(observed, "\n"), "\n") {
		if l != "" {
			fmt.Fprintf(t.Out, "       %s\n", l)
		}
	}
	return pass
}

// Failed reports whether any check failed.
func (t *T) Failed() bool {
	for _, r := range t.Results {
		if !r.Pass {
			return true
		}
	}
	return false
}

// Exec runs a command in a container and returns its combined output and
// exit code; command is how the article would type it, for printing.
func (t *T) Exec(ctx context.Context, pod, container string, cmd ...string) (string, int, string) {
	var out bytes.Buffer
	code, err := t.M.Exec(ctx, t.Namespace, pod, container, cmd, sandbox.ExecIO{Stdout: &out, Stderr: &out})
	if err != nil {
		fmt.Fprintf(&out, "exec failed: %v", err)
		code = -1
	}
	return out.String(), code, fmt.Sprintf("podsim exec %s -c %s -- %s", pod, container, shellJoin(cmd))
}

// Background starts a long-running command in a container until the
// scenario ends.
func (t *T) Background(ctx context.Context, pod, container string, cmd ...string) error {
	stop, err := t.M.StartBackground(ctx, t.Namespace, pod, container, cmd)
	if err != nil {
		return err
	}
	t.cleanups = append(t.cleanups, stop)
	return nil
}

// Cleanup runs the scenario's cleanups (background processes).
func (t *T) Cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	t.cleanups = nil
}

// Procs holds the host PIDs of a pod's pause and containers.
type Procs struct {
	State *sandbox.PodState
	PID   map[string]int // "POD" (pause), container names
}

// Procs reads the live PIDs of a pod's processes.
func (t *T) Procs(ctx context.Context, pod string) (*Procs, error) {
	st, err := t.M.Get(ctx, t.Namespace, pod)
	if err != nil {
		return nil, err
	}
	p := &Procs{State: st, PID: map[string]int{"POD": int(st.Pause.PID)}}
	for _, c := range st.Containers {
		p.PID[c.Name] = int(c.PID)
	}
	return p, nil
}

// NSCompare reads one namespace type for several processes (and the
// host's, as seen from podsim itself) and returns a printable table.
func NSCompare(typ string, pids map[string]int, order ...string) (map[string]namespaces.ID, string) {
	ids := map[string]namespaces.ID{}
	var b strings.Builder
	host, _ := namespaces.Read("/proc/self/ns/"+typ, typ)
	for _, name := range order {
		id, err := namespaces.Read(fmt.Sprintf("/proc/%d/ns/%s", pids[name], typ), typ)
		if err != nil {
			fmt.Fprintf(&b, "%-6s pid %-7d %v\n", name, pids[name], err)
			continue
		}
		ids[name] = id
		fmt.Fprintf(&b, "%-6s pid %-7d %s\n", name, pids[name], id)
	}
	ids["host"] = host
	fmt.Fprintf(&b, "%-6s (podsim) %s\n", "host", host)
	return ids, b.String()
}

// WaitListening waits until a TCP listener shows up in pid's network
// namespace (read from the kernel, no sleep-and-hope).
func WaitListening(ctx context.Context, pid int, addr string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ls, _ := namespaces.ListeningTCP(pid)
		for _, l := range ls {
			if l == addr {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
	return false
}

func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"|&;<>()$*?") {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		} else {
			out[i] = a
		}
	}
	return strings.Join(out, " ")
}

// Outcome is a finished scenario.
type Outcome struct {
	Scenario *Scenario
	Results  []Result
	Err      error // the scenario could not run (pod creation failed...)
	Duration time.Duration
}

// Passed reports whether every check passed and there was no error.
func (o Outcome) Passed() bool {
	if o.Err != nil || len(o.Results) == 0 {
		return false
	}
	for _, r := range o.Results {
		if !r.Pass {
			return false
		}
	}
	return true
}

// RunScenario applies the scenario's manifests, runs its checks and,
// unless keep is set, deletes every object it made (also when a check fails).
func RunScenario(ctx context.Context, m *sandbox.Manager, s *Scenario, namespace string, keep bool, out io.Writer) (o Outcome) {
	start := time.Now()
	t := &T{M: m, O: objects.New(m), Namespace: namespace, Out: out, keep: keep}
	o = Outcome{Scenario: s}
	defer func() {
		if err := t.finish(ctx); err != nil && o.Err == nil {
			o.Err = err
		}
		o.Duration = time.Since(start)
	}()
	fmt.Fprintf(out, "=== %s: %s\n", s.Name, s.Summary)
	for _, man := range s.Manifests {
		if err := t.Apply(ctx, man); err != nil {
			o.Err = err
			return o
		}
	}
	s.Run(ctx, t)
	o.Results = t.Results
	return o
}

// Apply applies a manifest (any kinds) and remembers its objects so the
// scenario deletes them at the end.
func (t *T) Apply(ctx context.Context, manifest string) error {
	objs, err := sandbox.ParseManifests(strings.NewReader(manifest), "scenario")
	if err != nil {
		return err
	}
	// Track every object this apply creates before applying: a failed
	// apply (an init container that fails, say) may still leave some of
	// them. Objects that existed before are not the scenario's to delete.
	for _, o := range objs {
		r := objects.RefOf(o)
		known := t.O.Exists(ctx, t.Namespace, r)
		for _, c := range t.created {
			known = known || c == r
		}
		if !known {
			t.created = append(t.created, r)
		}
	}
	return t.O.Apply(ctx, objs, t.Namespace, func(a objects.Applied) {
		fmt.Fprintln(t.Out, a.String())
		for _, w := range a.Warnings {
			fmt.Fprintln(t.Out, "Warning: "+w)
		}
	})
}

// Track registers an object made outside Apply (a Secret built in code).
func (t *T) Track(kind, name string) {
	k, err := objects.KindOf(kind)
	if err != nil {
		panic(err) // a scenario's own typo
	}
	t.created = append(t.created, objects.Ref{Kind: k, Name: name})
}

// finish stops background processes and deletes what the scenario made,
// in the kinds' delete order; what is already gone is no error.
func (t *T) finish(ctx context.Context) error {
	t.Cleanup()
	if t.keep {
		return nil
	}
	grace := 5 * time.Second
	err := t.O.Delete(context.WithoutCancel(ctx), t.Namespace, t.created, objects.DeleteOptions{Grace: &grace, IgnoreNotFound: true}, nil)
	t.created = nil
	return err
}

// Client runs a one-off client pod like `kubectl run -i --rm --image=IMAGE
// NAME -- ARGS...` and returns its output and exit code.
func (t *T) Client(ctx context.Context, name, image string, args ...string) (string, int, string) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: t.Namespace, Labels: map[string]string{"run": name}},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: name, Image: image, Args: args}}},
	}
	var out lockedBuffer
	code, err := t.M.RunAttached(ctx, pod, sandbox.ExecIO{Stdout: &out, Stderr: &out})
	if derr := t.M.DeletePod(context.WithoutCancel(ctx), t.Namespace, name, time.Second); derr != nil && !errors.Is(derr, sandbox.ErrPodNotFound) && err == nil {
		err = derr
	}
	if err != nil {
		fmt.Fprintf(&out, "client pod failed: %v", err)
		code = -1
	}
	return out.String(), code, fmt.Sprintf("podsim run -i --rm --image=%s %s -- %s", image, name, shellJoin(args))
}

// PodOf returns the pod a deployment currently runs ("deploy/NAME").
func (t *T) PodOf(ctx context.Context, deployment string) (string, error) {
	return t.O.ResolvePod(ctx, t.Namespace, "deploy/"+deployment)
}

// Logs returns a container's log.
func (t *T) Logs(ctx context.Context, pod, container string) string {
	var b lockedBuffer
	if err := t.M.Logs(ctx, t.Namespace, pod, container, sandbox.LogOptions{Tail: -1}, &b); err != nil {
		return "logs failed: " + err.Error()
	}
	return b.String()
}

// Eventually retries f until it returns true or the timeout passes; the
// pods' programs need a moment to start listening after their container
// starts (podsim has no readiness probes).
func Eventually(ctx context.Context, timeout time.Duration, f func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if f() {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Export returns the scenario's manifests as one YAML stream, to apply to
// a real cluster.
func Export(s *Scenario) string {
	var parts []string
	for _, m := range s.Manifests {
		parts = append(parts, strings.TrimSpace(strings.TrimPrefix(m, "---\n")))
	}
	for _, m := range s.Extra {
		parts = append(parts, strings.TrimSpace(m))
	}
	return strings.Join(parts, "\n---\n") + "\n"
}

// PodSpecOf is a helper for tests: the parsed pods of a scenario.
func PodSpecOf(s *Scenario) ([]*corev1.Pod, error) {
	var out []*corev1.Pod
	for _, man := range s.Manifests {
		objs, err := sandbox.ParseManifests(strings.NewReader(man), s.Name)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			out = append(out, o.Pod)
		}
	}
	return out, nil
}

// ListensAny reports whether pid's network namespace has a listener on
// port on every address (0.0.0.0 or [::]).
func ListensAny(pid, port int) bool {
	ls, _ := namespaces.ListeningTCP(pid)
	return contains(ls, fmt.Sprintf("0.0.0.0:%d", port)) || contains(ls, fmt.Sprintf("[::]:%d", port))
}
