package scenarios

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"

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
	// Needs lists what the whole scenario needs of its backend (user
	// namespaces, a gVisor RuntimeClass: what the node's runtime must
	// have for its pods to mean anything): on a backend without one, the
	// scenario is skipped, with the reason, before any object is made. A
	// single check that needs more asks t.Needs itself.
	Needs []Capability
}

// Registry returns every scenario, in the order `run all` runs them.
func Registry() []*Scenario {
	return []*Scenario{
		sharedVolume(), sharedLocalhost(), isolatedPS(), portConflict(),
		nginxFronted(), adapter(), sidecarLogs(), initSysctl(), initSecrets(),
		cacheSidecar(), configmapReload(), fetchInit(),
		resourceLimits(), hostNamespaces(), debugContainer(), userNamespace(), nativeSidecar(), probes(), restartKeepsNetwork(), downwardAPI(), runtimeClass(),
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

// Result is one check's outcome. A skipped check (Skip set) neither
// passed nor failed: the backend could not do it, for the reason given.
type Result struct {
	Claim    string
	Command  string
	Observed string
	Pass     bool
	Skip     string // why the check did not run on this backend
}

// T is what a scenario's checks use: the backend the pods run on, the
// namespace, and the record of results.
type T struct {
	// B is where the pods run: podsim's own (Local) or a cluster.
	B Backend
	// M and O are podsim's pod runtime and object store when B is Local,
	// nil on a cluster: a check that uses them must first ask
	// t.Needs(CapPodsimRecord, claim) (or use B's methods instead).
	M         *sandbox.Manager
	O         *objects.Manager
	Namespace string
	Out       io.Writer
	Results   []Result
	cleanups  []func()
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

// Skip records a check that does not apply on this backend, with why.
func (t *T) Skip(claim, reason string) {
	t.Results = append(t.Results, Result{Claim: claim, Skip: reason})
	fmt.Fprintf(t.Out, "[SKIP] %s\n       not on %s: %s\n", claim, t.B.Name(), reason)
}

// Needs reports whether the backend has capability c; when it has not, the
// check named by claim is recorded as skipped with the backend's reason.
func (t *T) Needs(c Capability, claim string) bool {
	ok, why := t.B.Has(c)
	if !ok {
		t.Skip(claim, why)
	}
	return ok
}

// Failed reports whether any check failed.
func (t *T) Failed() bool {
	for _, r := range t.Results {
		if !r.Pass && r.Skip == "" {
			return true
		}
	}
	return false
}

// Exec runs a command in a container and returns its combined output and
// exit code; command is how the article would type it, for printing.
func (t *T) Exec(ctx context.Context, pod, container string, cmd ...string) (string, int, string) {
	out, code, err := t.B.Exec(ctx, pod, container, cmd)
	if err != nil {
		out += fmt.Sprintf("exec failed: %v", err)
		code = -1
	}
	return out, code, t.B.ExecLine(pod, container, cmd)
}

// Background starts a long-running command in a container until the
// scenario ends.
func (t *T) Background(ctx context.Context, pod, container string, cmd ...string) error {
	stop, err := t.B.Background(ctx, pod, container, cmd)
	if err != nil {
		return err
	}
	t.cleanups = append(t.cleanups, stop)
	return nil
}

// Defer runs f when the scenario ends (before its objects are deleted).
func (t *T) Defer(f func()) { t.cleanups = append(t.cleanups, f) }

// Cleanup runs the scenario's cleanups (background processes).
func (t *T) Cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	t.cleanups = nil
}

// Procs holds a pod and the host PIDs of its pause and containers.
type Procs struct {
	// State is podsim's record of the pod; nil on a cluster.
	State *sandbox.PodState
	// Pod is the pod with its status, as the API (or podsim get) shows it.
	Pod *corev1.Pod
	PID map[string]int // "POD" (pause), container names
}

// Procs reads the live PIDs of a pod's processes.
func (t *T) Procs(ctx context.Context, pod string) (*Procs, error) {
	return t.B.Procs(ctx, pod)
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

// Passed reports whether no check failed, at least one passed and there
// was no error; skipped checks (not possible on the backend) are neither.
func (o Outcome) Passed() bool {
	pass, fail, _ := o.Counts()
	return o.Err == nil && fail == 0 && pass > 0
}

// Result is PASS, FAIL, or SKIP when the backend could do none of the
// scenario's checks (each skip printed its reason).
func (o Outcome) Result() string {
	pass, fail, skip := o.Counts()
	switch {
	case o.Err != nil || fail > 0:
		return "FAIL"
	case pass == 0 && skip > 0:
		return "SKIP"
	case pass == 0:
		return "FAIL"
	}
	return "PASS"
}

// Summary prints the table `podsim run all` ends with: checks passed of
// those run, the result, the time, and how many checks were skipped.
func Summary(w io.Writer, outcomes []Outcome) {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tCHECKS\tRESULT\tTIME\tSKIPPED")
	for _, o := range outcomes {
		pass, fail, skip := o.Counts()
		fmt.Fprintf(tw, "%s\t%d/%d\t%s\t%s\t%d\n", o.Scenario.Name, pass, pass+fail, o.Result(), o.Duration.Round(10*time.Millisecond), skip)
	}
	tw.Flush()
}

// Counts returns how many checks passed, failed and were skipped.
func (o Outcome) Counts() (pass, fail, skip int) {
	for _, r := range o.Results {
		switch {
		case r.Skip != "":
			skip++
		case r.Pass:
			pass++
		default:
			fail++
		}
	}
	return pass, fail, skip
}

// RunScenario runs a scenario on podsim's own pods: it applies the
// manifests, runs the checks and, unless keep is set, deletes every object
// it made (also when a check fails).
func RunScenario(ctx context.Context, m *sandbox.Manager, s *Scenario, namespace string, keep bool, out io.Writer) Outcome {
	return RunOn(ctx, NewLocal(m, namespace, keep), s, out)
}

// RunOn runs a scenario's checks against backend b (podsim's own pods or a
// cluster) and deletes what it made at the end, also after a failure, a
// panic in a check or Ctrl-C.
func RunOn(ctx context.Context, b Backend, s *Scenario, out io.Writer) (o Outcome) {
	start := time.Now()
	t := &T{B: b, Namespace: b.Namespace(), Out: out}
	if l, ok := b.(*Local); ok {
		t.M, t.O = l.M, l.O
	}
	o = Outcome{Scenario: s}
	defer func() {
		if r := recover(); r != nil {
			o.Err = fmt.Errorf("scenario %s stopped on %s: %v (a check that needs podsim's own runtime must ask t.Needs(CapPodsimRecord, ...) first)", s.Name, b.Name(), r)
		}
		o.Results = t.Results
		t.Cleanup()
		if err := b.Finish(ctx); err != nil && o.Err == nil {
			o.Err = err
		}
		o.Duration = time.Since(start)
	}()
	fmt.Fprintf(out, "=== %s: %s\n", s.Name, s.Summary)
	for _, c := range s.Needs {
		if ok, why := b.Has(c); !ok {
			t.Skip("scenario "+s.Name, why)
			return o
		}
	}
	for _, man := range s.Manifests {
		if err := t.Apply(ctx, man); err != nil {
			o.Err = err
			return o
		}
	}
	s.Run(ctx, t)
	return o
}

// Apply applies a manifest (any kinds) and remembers its objects so the
// scenario deletes them at the end.
func (t *T) Apply(ctx context.Context, manifest string) error {
	return t.B.Apply(ctx, manifest, t.Out)
}

// Track registers an object made outside Apply (a Secret built in code).
func (t *T) Track(kind, name string) { t.B.Track(kind, name) }

// Client runs a one-off client pod like `kubectl run -i --rm --image=IMAGE
// NAME -- ARGS...` and returns its output and exit code.
func (t *T) Client(ctx context.Context, name, image string, args ...string) (string, int, string) {
	return t.B.Client(ctx, name, image, args)
}

// PodOf returns the pod a deployment currently runs ("deploy/NAME").
func (t *T) PodOf(ctx context.Context, deployment string) (string, error) {
	return t.B.PodOf(ctx, deployment)
}

// Logs returns a container's log.
func (t *T) Logs(ctx context.Context, pod, container string) string {
	s, err := t.B.Logs(ctx, pod, container)
	if err != nil {
		return "logs failed: " + err.Error()
	}
	return s
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
