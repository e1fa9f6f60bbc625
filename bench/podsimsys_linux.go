package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/sandbox"
)

// PodsimSystem builds pods in this process through podsim's sandbox.Manager
// (what every podsim command uses), and reads the phases from its Trace
// events. The Manager's Trace option must be Tracer.Trace.
type PodsimSystem struct {
	M       *sandbox.Manager
	T       *Tracer
	Address string // podsim's containerd socket (to find its shims)
	Version string
	phases  []Phase
}

type podsimPod struct{ pod *corev1.Pod }

func (p *podsimPod) PodName() string { return p.pod.Name }

func (s *PodsimSystem) Name() string { return "podsim" }
func (s *PodsimSystem) Label() string {
	return "podsim in process (sandbox.Manager CreatePod / DeletePod), containerd " + s.Version
}

func (s *PodsimSystem) IsRoot(p *Proc) bool {
	return ProcKind(p) == "shim" && strings.Contains(p.Cmdline, "-namespace podsim ") && strings.Contains(p.Cmdline, "-address "+s.Address)
}

func (s *PodsimSystem) Create(ctx context.Context, c *Case, name string) (Handle, time.Duration, error) {
	s.T.Take()
	start := time.Now()
	pod, err := ParsePod([]byte(c.Manifest(name, "")), c.Name, BenchNamespace)
	if err != nil {
		return nil, 0, err
	}
	h := &podsimPod{pod: pod}
	if _, err := s.M.CreatePod(ctx, pod); err != nil {
		s.T.Take()
		return nil, 0, err
	}
	end := time.Now()
	var inits, apps []string
	for _, c := range pod.Spec.InitContainers {
		inits = append(inits, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		apps = append(apps, c.Name)
	}
	s.phases = CreatePhases(start, end, s.T.Take(), inits, apps)
	return h, end.Sub(start), nil
}

func (s *PodsimSystem) Delete(ctx context.Context, hh Handle) (time.Duration, error) {
	h := hh.(*podsimPod)
	s.T.Take()
	start := time.Now()
	err := s.M.DeletePod(ctx, BenchNamespace, h.pod.Name, sandbox.GracePeriod(h.pod))
	end := time.Now()
	s.phases = TeardownPhases(start, end, s.T.Take())
	return end.Sub(start), err
}

func (s *PodsimSystem) TakePhases() []Phase {
	p := s.phases
	s.phases = nil
	return p
}

// PodsimCLISystem is the headline: podsim's CLI as a user runs it, one
// child process per command, timed from the outside. `podsim apply -f`
// returns once every container of the pod runs (CreatePod waits for each
// task's start) and `podsim delete pod` once everything is gone; the bench
// checks both after the clock stopped, through M, and if a command
// returned early (a CLI that hands the work to the agent and returns) it
// waits as a user would, with `podsim wait --for=condition=Ready` or
// `--for=delete`, and the time includes that wait (Notes say so).
type PodsimCLISystem struct {
	Exe     string
	Address string
	Dir     string           // where the manifests are written
	M       *sandbox.Manager // to check, untimed, what the commands left
	notes   map[string]int
}

func (s *PodsimCLISystem) Name() string { return "podsim-cli" }
func (s *PodsimCLISystem) Label() string {
	return "podsim CLI as a user runs it: `podsim apply -f` until both containers run / `podsim delete pod` until nothing is left (one process each)"
}

func (s *PodsimCLISystem) IsRoot(p *Proc) bool {
	return ProcKind(p) == "shim" && strings.Contains(p.Cmdline, "-namespace podsim ") && strings.Contains(p.Cmdline, "-address "+s.Address)
}

func (s *PodsimCLISystem) args(a ...string) []string {
	return append([]string{"--containerd-address", s.Address, "-n", BenchNamespace}, a...)
}

func (s *PodsimCLISystem) note(n string) {
	if s.notes == nil {
		s.notes = map[string]int{}
	}
	s.notes[n]++
}

// TakeNotes returns and forgets how often each note applied.
func (s *PodsimCLISystem) TakeNotes() map[string]int {
	n := s.notes
	s.notes = nil
	return n
}

func (s *PodsimCLISystem) Create(ctx context.Context, c *Case, name string) (Handle, time.Duration, error) {
	// The user has the manifest already: writing it is not timed.
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, 0, err
	}
	f := filepath.Join(s.Dir, name+".yaml")
	if err := os.WriteFile(f, []byte(c.Manifest(name, "")), 0o644); err != nil {
		return nil, 0, err
	}
	defer os.Remove(f)
	start := time.Now()
	if _, err := run(ctx, nil, s.Exe, s.args("apply", "-f", f)...); err != nil {
		return namedHandle(name), 0, err
	}
	d := time.Since(start)
	if s.M == nil || s.allRunning(ctx, name) {
		return namedHandle(name), d, nil
	}
	s.note("`podsim apply` returned before every container ran: timed until `podsim wait --for=condition=Ready` returned")
	if _, err := run(ctx, nil, s.Exe, s.args("wait", "--for=condition=Ready", "pod/"+name, "--timeout=120s")...); err != nil {
		return namedHandle(name), 0, err
	}
	return namedHandle(name), time.Since(start), nil
}

func (s *PodsimCLISystem) allRunning(ctx context.Context, name string) bool {
	st, err := s.M.Get(ctx, BenchNamespace, name)
	if err != nil || len(st.Containers) == 0 {
		return false
	}
	for _, c := range st.Containers {
		if c.Status != "running" {
			return false
		}
	}
	return true
}

func (s *PodsimCLISystem) Delete(ctx context.Context, h Handle) (time.Duration, error) {
	start := time.Now()
	if _, err := run(ctx, nil, s.Exe, s.args("delete", "pod", h.PodName())...); err != nil {
		return 0, err
	}
	d := time.Since(start)
	if s.M == nil {
		return d, nil
	}
	if _, err := s.M.Get(ctx, BenchNamespace, h.PodName()); errors.Is(err, sandbox.ErrPodNotFound) {
		return d, nil
	}
	s.note("`podsim delete pod` returned before the pod was gone: timed until `podsim wait --for=delete` returned")
	if _, err := run(ctx, nil, s.Exe, s.args("wait", "--for=delete", "pod/"+h.PodName(), "--timeout=120s")...); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
