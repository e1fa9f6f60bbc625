// Package scenarios holds the article's multi-container pod patterns as
// runnable demonstrations: each is a pod manifest (the article's YAML where it
// has one) and ordered checks. A check states a claim, runs a command in a
// container (as the article does with kubectl exec) and/or reads the kernel
// directly (/proc/<pid>/ns/*, /proc/<pid>/net/tcp), and says PASS or FAIL.
// Checks compare namespace inodes, so they fail on a machine where the
// containers were not really isolated or not really sharing.
package scenarios

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/namespaces"
	"github.com/podsim/podsim/sandbox"
)

// Scenario is one pattern of the article.
type Scenario struct {
	Name    string
	Summary string
	// Manifests are the pods the scenario creates, in order.
	Manifests []string
	// Run performs the checks against the created pods.
	Run func(ctx context.Context, t *T)
}

// Registry returns every scenario, in the order `run all` runs them.
func Registry() []*Scenario {
	return []*Scenario{sharedVolume(), sharedLocalhost(), isolatedPS(), portConflict(), resourceLimits()}
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

// T is what a scenario's checks use: the pod manager, the namespace, and
// the record of results.
type T struct {
	M         *sandbox.Manager
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

// RunScenario creates the scenario's pods, runs its checks and, unless
// keep is set, deletes the pods again (also when a check fails).
func RunScenario(ctx context.Context, m *sandbox.Manager, s *Scenario, namespace string, keep bool, out io.Writer) Outcome {
	start := time.Now()
	t := &T{M: m, Namespace: namespace, Out: out}
	o := Outcome{Scenario: s}
	var created []string
	defer func() {
		t.Cleanup()
		if !keep {
			for i := len(created) - 1; i >= 0; i-- {
				if err := m.DeletePod(context.WithoutCancel(ctx), namespace, created[i], 5*time.Second); err != nil && o.Err == nil {
					o.Err = fmt.Errorf("deleting pod %s: %w", created[i], err)
				}
			}
		}
	}()
	fmt.Fprintf(out, "=== %s: %s\n", s.Name, s.Summary)
	for _, man := range s.Manifests {
		objs, err := sandbox.ParseManifests(strings.NewReader(man), s.Name)
		if err != nil {
			o.Err = err
			return o
		}
		for _, obj := range objs {
			pod := obj.Pod
			pod.Namespace = namespace
			if _, err := m.CreatePod(ctx, pod); err != nil {
				o.Err = err
				return o
			}
			created = append(created, pod.Name)
			fmt.Fprintf(out, "pod/%s created\n", pod.Name)
		}
	}
	s.Run(ctx, t)
	o.Results = t.Results
	o.Duration = time.Since(start)
	return o
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
