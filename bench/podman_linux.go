package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/images/archive"
	"github.com/containerd/containerd/platforms"
	"golang.org/x/sys/unix"

	"github.com/podsim/podsim/sandbox"
	"github.com/podsim/podsim/sandbox/images"
)

// Podman is Debian's podman set up for the bench: its own containers.conf
// and storage under the bench's directories (CONTAINERS_CONF,
// CONTAINERS_STORAGE_CONF), so nothing system-wide changes, and podsim's
// offline images loaded into that storage.
type Podman struct {
	L       Layout
	Bin     string
	Version string
	env     []string
}

// PodmanOptions set up Podman.
type PodmanOptions struct {
	Layout   Layout
	Client   *containerd.Client // podsim's containerd; images are exported from its namespace (on ctx)
	Images   []string
	Progress func(string)
}

// SetupPodman writes podman's configuration and loads the images.
func SetupPodman(ctx context.Context, o PodmanOptions) (_ *Podman, err error) {
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	bin, err := exec.LookPath("podman")
	if err != nil {
		return nil, errors.New("podman is not installed (run 'sudo hack/bench/install-reference.sh')")
	}
	l := o.Layout
	p := &Podman{L: l, Bin: bin, env: []string{
		"CONTAINERS_CONF=" + filepath.Join(l.podmanState(), "containers.conf"),
		"CONTAINERS_STORAGE_CONF=" + filepath.Join(l.podmanState(), "storage.conf"),
	}}
	defer func() {
		if err != nil {
			p.Cleanup(context.WithoutCancel(ctx))
		}
	}()
	for _, d := range []string{l.podmanState(), filepath.Join(l.podmanState(), "net.d"), l.podmanRun(), filepath.Join(l.podmanRun(), "tmp"), l.podmanManifests()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	nofile, nproc := podmanLimits()
	if err := os.WriteFile(filepath.Join(l.podmanState(), "containers.conf"), []byte(RenderPodmanConf(l, nofile, nproc)), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(l.podmanState(), "storage.conf"), []byte(RenderPodmanStorage(l)), 0o644); err != nil {
		return nil, err
	}
	// The pod network: a bridge with no gateway, no masquerading, no
	// default route in the pod (podman calls it internal). Written as a
	// conflist so podman's CNI backend uses exactly these plugins.
	conf := RenderCNIConf(PodmanNetwork, PodmanBridge, PodmanSubnet, filepath.Join(l.podmanState(), "cni-ipam"), "0.4.0")
	if err := os.WriteFile(filepath.Join(l.podmanState(), "net.d", PodmanNetwork+".conflist"), []byte(conf), 0o644); err != nil {
		return nil, err
	}
	// Pods a crashed bench left in this storage would collide by name.
	p.podman(ctx, "pod", "rm", "-fa", "-t", "0")
	p.podman(ctx, "rm", "-fa", "-t", "0")
	if v, err := p.podman(ctx, "version", "--format", "{{.Client.Version}}"); err == nil {
		p.Version = strings.TrimSpace(v)
	}
	// Images: export podsim's from its containerd, load them into podman.
	tar := filepath.Join(l.podmanRun(), "images.tar")
	f, err := os.Create(tar)
	if err != nil {
		return nil, err
	}
	var opts []archive.ExportOpt
	for _, ref := range o.Images {
		n, err := images.Normalize(ref)
		if err != nil {
			f.Close()
			return nil, err
		}
		opts = append(opts, archive.WithImage(o.Client.ImageService(), n))
	}
	opts = append(opts, archive.WithPlatform(platforms.Default()))
	o.Progress("loading podsim's images into podman's storage (" + strings.Join(o.Images, ", ") + ")")
	err = o.Client.Export(ctx, f, opts...)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("exporting images for podman: %w", err)
	}
	if _, err := p.podman(ctx, "load", "-q", "-i", tar); err != nil {
		return nil, err
	}
	os.Remove(tar)
	return p, nil
}

// podmanLimits are the rlimits podman asks for: this host's hard limits
// (podman's own defaults exceed them and runc cannot raise them), and nproc
// no higher than pid_max (podman lowers its own hard nproc to it).
func podmanLimits() (nofile, nproc uint64) {
	var rl unix.Rlimit
	nofile, nproc = 1024, 4096
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil {
		nofile = rl.Max
	}
	if unix.Getrlimit(unix.RLIMIT_NPROC, &rl) == nil {
		nproc = rl.Max
	}
	if b, err := os.ReadFile("/proc/sys/kernel/pid_max"); err == nil {
		if m, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && m < nproc {
			nproc = m
		}
	}
	if nofile > 1048576 {
		nofile = 1048576
	}
	return nofile, nproc
}

func (p *Podman) podman(ctx context.Context, args ...string) (string, error) {
	return run(ctx, p.env, p.Bin, args...)
}

// Cleanup removes every pod, container and volume from the bench's podman
// storage, then the storage, the bridge and the files.
func (p *Podman) Cleanup(ctx context.Context) error {
	var errs []error
	if p.Bin != "" {
		if _, err := os.Stat(filepath.Join(p.L.podmanState(), "containers.conf")); err == nil {
			p.podman(ctx, "pod", "rm", "-fa", "-t", "0")
			p.podman(ctx, "rm", "-fa", "-t", "0")
			p.podman(ctx, "volume", "rm", "-fa")
			p.podman(ctx, "rmi", "-fa")
		}
	}
	// conmon processes of ours that outlived their container, by PID.
	for _, pr := range ScanProcs() {
		if pr.Comm == "conmon" && strings.Contains(pr.Cmdline, p.L.podmanRun()) {
			unix.Kill(pr.PID, unix.SIGKILL)
		}
	}
	for _, d := range []string{p.L.podmanManifests(), p.L.podmanRun(), p.L.podmanState()} {
		if err := removeTree(d); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := sandbox.RemoveBridgeIfUnused(PodmanBridge); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// PodmanSystem is `podman kube play` / `podman kube down` of the manifest,
// with the bench's no-route bridge network or with --network none.
type PodmanSystem struct {
	P       *Podman
	Network string // PodmanNetwork or "none"
}

func (s *PodmanSystem) Name() string {
	if s.Network == "none" {
		return "podman-none"
	}
	return "podman-net"
}

func (s *PodmanSystem) Label() string {
	if s.Network == "none" {
		return "podman " + s.P.Version + " kube play --network none / kube down (no pod network at all)"
	}
	return "podman " + s.P.Version + " kube play / kube down, CNI bridge " + PodmanBridge + " without gateway or NAT"
}

func (s *PodmanSystem) IsRoot(p *Proc) bool {
	return p.Comm == "conmon" && strings.Contains(p.Cmdline, s.P.L.podmanRun())
}

type podmanPod struct{ name, file string }

func (p *podmanPod) PodName() string { return p.name }

func (s *PodmanSystem) Create(ctx context.Context, c *Case, name string) (Handle, time.Duration, error) {
	start := time.Now()
	h := &podmanPod{name: name, file: filepath.Join(s.P.L.podmanManifests(), name+".yaml")}
	if err := os.WriteFile(h.file, []byte(c.Manifest(name, "IfNotPresent")), 0o644); err != nil {
		return nil, 0, err
	}
	if _, err := s.P.podman(ctx, "kube", "play", "--network", s.Network, h.file); err != nil {
		return h, 0, err
	}
	return h, time.Since(start), nil
}

func (s *PodmanSystem) Delete(ctx context.Context, hh Handle) (time.Duration, error) {
	h := hh.(*podmanPod)
	d, err := timed(func() error {
		_, err := s.P.podman(ctx, "kube", "down", h.file)
		return err
	})
	os.Remove(h.file)
	return d, err
}
