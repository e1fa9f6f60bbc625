package bench

import (
	"context"
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

// PodsimCLISystem is the same through the command line: `podsim apply -f`
// and `podsim delete pod`, one process each, end to end.
type PodsimCLISystem struct {
	Exe     string
	Address string
	Dir     string // where the manifests are written
}

func (s *PodsimCLISystem) Name() string { return "podsim-cli" }
func (s *PodsimCLISystem) Label() string {
	return "podsim CLI: `podsim apply -f` / `podsim delete pod` (one process each)"
}

func (s *PodsimCLISystem) IsRoot(p *Proc) bool {
	return ProcKind(p) == "shim" && strings.Contains(p.Cmdline, "-namespace podsim ") && strings.Contains(p.Cmdline, "-address "+s.Address)
}

func (s *PodsimCLISystem) args(a ...string) []string {
	return append([]string{"--containerd-address", s.Address, "-n", BenchNamespace}, a...)
}

func (s *PodsimCLISystem) Create(ctx context.Context, c *Case, name string) (Handle, time.Duration, error) {
	start := time.Now()
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, 0, err
	}
	f := filepath.Join(s.Dir, name+".yaml")
	if err := os.WriteFile(f, []byte(c.Manifest(name, "")), 0o644); err != nil {
		return nil, 0, err
	}
	if _, err := run(ctx, nil, s.Exe, s.args("apply", "-f", f)...); err != nil {
		os.Remove(f)
		return nil, 0, err
	}
	d := time.Since(start)
	os.Remove(f)
	return namedHandle(name), d, nil
}

func (s *PodsimCLISystem) Delete(ctx context.Context, h Handle) (time.Duration, error) {
	return timed(func() error {
		_, err := run(ctx, nil, s.Exe, s.args("delete", "pod", h.PodName())...)
		return err
	})
}
