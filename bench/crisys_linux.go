package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/sandbox"
	"github.com/podsim/podsim/sandbox/images"
	"github.com/podsim/podsim/sandbox/runtime"
)

// CRINamespace is the containerd namespace of the CRI plugin.
const CRINamespace = "k8s.io"

// CRIServer is the bench's second containerd, with the CRI plugin on,
// started under podsim's containerd supervisor (a child subreaper that reaps
// the shims) and stopped again by Stop.
type CRIServer struct {
	L       Layout
	Crictl  string // crictl binary
	Version string // containerd version
	sup     *exec.Cmd
	exited  chan struct{}
	logf    *os.File
}

// CRIServerOptions start a CRIServer.
type CRIServerOptions struct {
	Layout     Layout
	PodsimExe  string          // podsim binary: runs `system supervise-containerd`
	Crictl     string          // crictl binary
	CNIBinDirs []string        // CNI plugin dirs (podsim's)
	Catalog    *images.Catalog // podsim's offline images, imported into k8s.io
	Images     []string        // images the pods need (the pause image is added)
	Progress   func(string)
}

// FindCrictl finds crictl: PODSIM_CRICTL, bin/crictl next to podsim (where
// hack/bench/install-reference.sh builds it), then PATH.
func FindCrictl(podsimExe string) (string, error) {
	cands := []string{os.Getenv("PODSIM_CRICTL"), filepath.Join(filepath.Dir(podsimExe), "crictl")}
	if p, err := exec.LookPath("crictl"); err == nil {
		cands = append(cands, p)
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return c, nil
		}
	}
	return "", errors.New("crictl not found (bin/crictl, PODSIM_CRICTL or PATH): run 'sudo hack/bench/install-reference.sh'")
}

// StartCRI starts the bench containerd and imports the images.
func StartCRI(ctx context.Context, o CRIServerOptions) (_ *CRIServer, err error) {
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	l := o.Layout
	s := &CRIServer{L: l, Crictl: o.Crictl}
	if _, err := exec.LookPath("containerd"); err != nil {
		return nil, errors.New("containerd is not installed")
	}
	// A supervisor left by a bench that crashed holds our root: stop it
	// (it is recognisable by our config path on its command line).
	stopStaleSupervisor(l)
	for _, d := range []string{l.criDir(), l.criRoot(), l.cniConfDir(), l.cniIPAMDir(), l.kubeletDir(), l.kubeletLogs(), l.criPodFiles()} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(l.criConfig(), []byte(RenderCRIConfig(l, o.CNIBinDirs, images.PauseImage)), 0o644); err != nil {
		return nil, err
	}
	conf := RenderCNIConf("podsimbench", CRIBridge, CRISubnet, l.cniIPAMDir(), "1.0.0")
	if err := os.WriteFile(filepath.Join(l.cniConfDir(), "10-podsimbench.conflist"), []byte(conf), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(l.crictlConfig(), []byte(RenderCrictlConfig(l.criSocket())), 0o644); err != nil {
		return nil, err
	}
	s.logf, err = os.OpenFile(l.criLog(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	o.Progress("starting the reference containerd (CRI plugin on) at " + l.criSocket())
	// Not even the bench's own flock fd may live on in the daemon.
	runtime.NoInheritedFDs()
	cmd := exec.Command(o.PodsimExe, "system", "supervise-containerd", "--config", l.criConfig())
	cmd.Stdout, cmd.Stderr = s.logf, s.logf
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		s.logf.Close()
		return nil, fmt.Errorf("starting the CRI containerd: %w", err)
	}
	s.sup, s.exited = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(s.exited) }()
	_ = os.WriteFile(filepath.Join(l.criDir(), "supervisor.pid"), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
	defer func() {
		if err != nil {
			s.Stop(context.WithoutCancel(ctx))
		}
	}()
	client, err := s.waitAnswer(ctx)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	// Images: podsim builds them offline; import the same images into
	// the CRI namespace of the reference containerd.
	ictx := namespaces.WithNamespace(ctx, CRINamespace)
	refs := append([]string{images.PauseImage}, o.Images...)
	for _, ref := range refs {
		if _, err := o.Catalog.Ensure(ictx, client, ref, o.Progress); err != nil {
			return nil, fmt.Errorf("importing %s into the CRI containerd: %w", ref, err)
		}
	}
	// The CRI plugin learns about imported images from containerd's events;
	// wait until it knows them all.
	deadline := time.Now().Add(20 * time.Second)
	for _, ref := range refs {
		n, _ := images.Normalize(ref)
		for {
			_, err := s.crictl(ctx, "inspecti", n)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("the CRI plugin does not know the imported image %s: %v", n, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return s, nil
}

func (s *CRIServer) waitAnswer(ctx context.Context) (*containerd.Client, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("unix", s.L.criSocket(), time.Second); err == nil {
			c.Close()
			client, err := containerd.New(s.L.criSocket(), containerd.WithDefaultNamespace(CRINamespace), containerd.WithTimeout(5*time.Second))
			if err == nil {
				v, verr := client.Version(ctx)
				if verr == nil {
					s.Version = v.Version
					return client, nil
				}
				client.Close()
			}
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("the CRI containerd exited during start-up; see %s", s.L.criLog())
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the CRI containerd did not answer at %s within 30s; see %s", s.L.criSocket(), s.L.criLog())
		}
	}
}

func (s *CRIServer) crictl(ctx context.Context, args ...string) (string, error) {
	out, err := run(ctx, nil, s.Crictl, append([]string{"--config", s.L.crictlConfig()}, args...)...)
	return strings.TrimSpace(out), err
}

// Run runs crictl against the bench containerd.
func (s *CRIServer) Run(ctx context.Context, args ...string) (string, error) {
	return s.crictl(ctx, args...)
}

// Stop removes every CRI pod, stops containerd (SIGTERM to the supervisor,
// which forwards it), kills any shim of ours still alive by its PID, and
// removes the bridge, cgroups, netns pins and files the CRI pods left.
func (s *CRIServer) Stop(ctx context.Context) error {
	var errs []error
	if s.sup != nil {
		select {
		case <-s.exited:
		default:
			if out, err := s.crictl(ctx, "pods", "-q"); err == nil && out != "" {
				for _, id := range strings.Fields(out) {
					s.crictl(ctx, "stopp", id)
					if _, err := s.crictl(ctx, "rmp", "-f", id); err != nil {
						errs = append(errs, err)
					}
				}
			}
			s.sup.Process.Signal(unix.SIGTERM)
			select {
			case <-s.exited:
			case <-time.After(15 * time.Second):
				s.sup.Process.Kill()
				<-s.exited
			}
		}
	}
	// containerd is gone; so is its supervisor. Shims of ours that outlived
	// it (a pod that could not be removed) are ended by PID.
	for _, p := range ScanProcs() {
		if ProcKind(p) == "shim" && strings.Contains(p.Cmdline, "-address "+s.L.criSocket()) {
			unix.Kill(p.PID, unix.SIGKILL)
		}
	}
	if s.logf != nil {
		s.logf.Close()
	}
	errs = append(errs, cleanupCRIHost(s.L))
	return errors.Join(errs...)
}

// cleanupCRIHost removes what CRI pods leave outside containerd: netns pins
// whose CNI config was ours, the bridge, the pod cgroups, kubelet-side dirs.
func cleanupCRIHost(l Layout) error {
	var errs []error
	if err := removeCgroupTree(CgroupParent); err != nil {
		errs = append(errs, err)
	}
	if _, err := sandbox.RemoveBridgeIfUnused(CRIBridge); err != nil {
		errs = append(errs, err)
	}
	for _, d := range []string{l.criDir(), l.criRoot(), filepath.Join(l.State, "cni"), l.kubeletDir(), filepath.Join(l.State, "logs"), l.criPodFiles(), l.crictlConfig()} {
		if err := removeTree(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stopStaleSupervisor ends a supervisor of our config left by a crashed
// bench, and its containerd.
func stopStaleSupervisor(l Layout) {
	for _, p := range ScanProcs() {
		if strings.Contains(p.Cmdline, "supervise-containerd") && strings.Contains(p.Cmdline, l.criConfig()) {
			unix.Kill(p.PID, unix.SIGTERM)
			for i := 0; i < 100; i++ {
				if _, err := os.Stat("/proc/" + strconv.Itoa(p.PID) + "/cmdline"); err != nil {
					break
				}
				if b, _ := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/cmdline"); len(b) == 0 {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
}

// criPod is a pod the CRI system built.
type criPod struct {
	name, uid, id string
	cgroup        string // the pod cgroup, in its QoS tier
	ctrs          []string
	files         string
}

func (p *criPod) PodName() string { return p.name }

// CRISystem builds pods through containerd's CRI plugin with crictl, as
// kubelet would: RunPodSandbox, then CreateContainer + StartContainer per
// container (init containers first, each to completion). Each call is one
// crictl process, so the times include crictl's start-up (measured apart
// as "crictl version").
type CRISystem struct {
	S         *CRIServer
	DNS       *CRIDNSConfig
	KubeHosts bool // mount a kubelet-style /etc/hosts (needs the pod IP: one more call)
	MemTotal  int64
}

func (c *CRISystem) Name() string { return "cri" }
func (c *CRISystem) Label() string {
	return "containerd " + c.S.Version + " CRI plugin via crictl (runp, create+start per container; stopp+rmp)"
}

func (c *CRISystem) IsRoot(p *Proc) bool {
	return ProcKind(p) == "shim" && strings.Contains(p.Cmdline, "-address "+c.S.L.criSocket())
}

// Create translates the manifest and runs it through CRI.
func (c *CRISystem) Create(ctx context.Context, cs *Case, name string) (Handle, time.Duration, error) {
	start := time.Now()
	pod, err := ParsePod([]byte(cs.Manifest(name, "")), cs.Name, BenchNamespace)
	if err != nil {
		return nil, 0, err
	}
	h, err := c.CreatePod(ctx, pod)
	if err != nil {
		return h, 0, err
	}
	return h, time.Since(start), nil
}

// CreatePod runs a Pod through CRI and returns its handle.
func (c *CRISystem) CreatePod(ctx context.Context, pod *corev1.Pod) (_ *criPod, err error) {
	uid := newUID()
	l := c.S.L
	h := &criPod{name: pod.Name, uid: uid, files: filepath.Join(l.criPodFiles(), uid)}
	defer func() {
		if err != nil {
			c.Delete(context.WithoutCancel(ctx), h)
		}
	}()
	o := CRIOptions{UID: uid, LogRoot: l.kubeletLogs(), PodRoot: filepath.Join(l.kubeletDir(), "pods"),
		CgroupRoot: CgroupParent, DNS: c.DNS, MemoryCapacity: c.MemTotal, MaskedPaths: sandbox.NodeMaskedPaths()}
	if c.KubeHosts {
		o.HostsFile = filepath.Join(l.kubeletDir(), "pods", uid, "etc-hosts")
	}
	cp, err := TranslateToCRI(pod, o)
	if err != nil {
		return h, err
	}
	if err := os.MkdirAll(h.files, 0o700); err != nil {
		return h, err
	}
	for _, d := range cp.EmptyDirs {
		if err := os.MkdirAll(d, 0o777); err != nil {
			return h, err
		}
		os.Chmod(d, 0o777) // kubelet makes emptyDirs world-writable
	}
	// kubelet makes the pod cgroup in its QoS tier, with the pod's weight
	// and limits (ResourceConfigForPod), before RunPodSandbox.
	h.cgroup = cp.PodCgroup
	if err := cgroups.CreatePod(cp.PodCgroup, sandbox.PodLimits(pod)); err != nil {
		return h, err
	}
	// ... and each container's termination-message file, empty, 0666.
	for _, p := range cp.TerminationLogs {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return h, err
		}
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			return h, err
		}
		os.Chmod(p, 0o666)
	}
	sbPath := filepath.Join(h.files, "sandbox.json")
	if err := writeJSON(sbPath, cp.Sandbox); err != nil {
		return h, err
	}
	if h.id, err = c.S.crictl(ctx, "runp", sbPath); err != nil {
		return h, err
	}
	if c.KubeHosts {
		// kubelet reads the sandbox's IP (PodSandboxStatus) and writes its
		// managed hosts file before creating containers.
		ip := ""
		if out, err := c.S.crictl(ctx, "inspectp", "-o", "go-template", "--template", "{{.status.network.ip}}", h.id); err == nil {
			ip = strings.TrimSpace(out)
		}
		if err := os.MkdirAll(filepath.Dir(o.HostsFile), 0o755); err != nil {
			return h, err
		}
		if err := os.WriteFile(o.HostsFile, []byte(KubeletHosts(ip, cp.Sandbox.Hostname)), 0o644); err != nil {
			return h, err
		}
	}
	startOne := func(cc CRIContainerConfig, wait bool) error {
		p := filepath.Join(h.files, "ctr-"+cc.Metadata.Name+".json")
		if err := writeJSON(p, cc); err != nil {
			return err
		}
		id, err := c.S.crictl(ctx, "create", "--no-pull", h.id, p, sbPath)
		if err != nil {
			return err
		}
		h.ctrs = append(h.ctrs, id)
		if _, err := c.S.crictl(ctx, "start", id); err != nil {
			return err
		}
		if wait {
			return c.waitExited(ctx, id, cc.Metadata.Name)
		}
		return nil
	}
	for _, cc := range cp.Init {
		if err := startOne(cc, true); err != nil {
			return h, err
		}
	}
	for _, cc := range cp.Containers {
		if err := startOne(cc, false); err != nil {
			return h, err
		}
	}
	return h, nil
}

func (c *CRISystem) waitExited(ctx context.Context, id, name string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		out, err := c.S.crictl(ctx, "inspect", "-o", "go-template", "--template", "{{.status.state}} {{.status.exitCode}}", id)
		if err != nil {
			return err
		}
		f := strings.Fields(out)
		if len(f) == 2 && f[0] == "CONTAINER_EXITED" {
			if f[1] != "0" {
				return fmt.Errorf("init container %s exited with %s", name, f[1])
			}
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("init container %s did not finish", name)
}

// Delete is kubelet's teardown: StopPodSandbox, RemovePodSandbox, then the
// pod's cgroup and its kubelet-side directories.
func (c *CRISystem) Delete(ctx context.Context, hh Handle) (time.Duration, error) {
	h := hh.(*criPod)
	start := time.Now()
	var errs []error
	if h.id != "" {
		if _, err := c.S.crictl(ctx, "stopp", h.id); err != nil {
			errs = append(errs, err)
		}
		if _, err := c.S.crictl(ctx, "rmp", "-f", h.id); err != nil {
			errs = append(errs, err)
		}
	}
	if h.cgroup != "" {
		if err := removeCgroupTree(h.cgroup); err != nil {
			errs = append(errs, err)
		}
		if tier := filepath.Dir(h.cgroup); tier != CgroupParent {
			for _, d := range cgroups.Dirs(tier) {
				os.Remove(d) // the QoS tier, once its last pod is gone
			}
		}
	}
	if err := removeTree(filepath.Join(c.S.L.kubeletDir(), "pods", h.uid)); err != nil {
		errs = append(errs, err)
	}
	d := time.Since(start)
	os.RemoveAll(h.files)
	os.RemoveAll(filepath.Join(c.S.L.kubeletLogs(), BenchNamespace+"_"+h.name+"_"+h.uid))
	return d, errors.Join(errs...)
}

// CRIPodInfo is what compare reads about a CRI pod: the sandbox and
// container PIDs and their OCI specs (crictl inspect's info).
type CRIPodInfo struct {
	SandboxPID  int
	SandboxSpec json.RawMessage
	Containers  map[string]CRIContainerInfo
	IP          string
}

// CRIContainerInfo is one container of a CRI pod.
type CRIContainerInfo struct {
	ID   string
	PID  int
	Spec json.RawMessage
}

// Inspect reads a CRI pod's PIDs and specs.
func (c *CRISystem) Inspect(ctx context.Context, h Handle) (*CRIPodInfo, error) {
	p := h.(*criPod)
	out, err := c.S.crictl(ctx, "inspectp", "-o", "json", p.id)
	if err != nil {
		return nil, err
	}
	var sb struct {
		Status struct {
			Network struct {
				IP string `json:"ip"`
			} `json:"network"`
		} `json:"status"`
		Info struct {
			PID         int             `json:"pid"`
			RuntimeSpec json.RawMessage `json:"runtimeSpec"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(out), &sb); err != nil {
		return nil, fmt.Errorf("crictl inspectp: %w", err)
	}
	info := &CRIPodInfo{SandboxPID: sb.Info.PID, SandboxSpec: sb.Info.RuntimeSpec, IP: sb.Status.Network.IP, Containers: map[string]CRIContainerInfo{}}
	for _, id := range p.ctrs {
		out, err := c.S.crictl(ctx, "inspect", "-o", "json", id)
		if err != nil {
			return nil, err
		}
		var ci struct {
			Status struct {
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			} `json:"status"`
			Info struct {
				PID         int             `json:"pid"`
				RuntimeSpec json.RawMessage `json:"runtimeSpec"`
			} `json:"info"`
		}
		if err := json.Unmarshal([]byte(out), &ci); err != nil {
			return nil, fmt.Errorf("crictl inspect: %w", err)
		}
		info.Containers[ci.Status.Metadata.Name] = CRIContainerInfo{ID: id, PID: ci.Info.PID, Spec: ci.Info.RuntimeSpec}
	}
	return info, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func newUID() string {
	b := make([]byte, 16)
	f, err := os.Open("/dev/urandom")
	if err == nil {
		f.Read(b)
		f.Close()
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := fmt.Sprintf("%x", b)
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

// HostDNS is the DNS config kubelet would give a pod in namespace ns with
// dnsPolicy ClusterFirst and no dnsConfig: what podsim writes into resolv.conf.
func HostDNS(ns string) *CRIDNSConfig {
	pod := &corev1.Pod{}
	pod.Namespace = ns
	return PodDNS(pod)
}

// PodDNS is the DNS config kubelet gives this pod (its dnsPolicy and
// dnsConfig), computed as podsim computes it (sandbox.PodDNS).
func PodDNS(pod *corev1.Pod) *CRIDNSConfig {
	var node sandbox.DNSConfig
	if f, err := os.Open(sandbox.NodeResolvConf()); err == nil {
		node = sandbox.ReadResolvConf(f)
		f.Close()
	}
	c, _ := sandbox.PodDNS(pod, node)
	return &CRIDNSConfig{Servers: c.Servers, Searches: c.Searches, Options: c.Options}
}
