package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/archive"
	"github.com/containerd/containerd/archive/compression"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/content"
	ctrimages "github.com/containerd/containerd/images"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/platforms"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	podns "github.com/podsim/podsim/namespaces"
	"github.com/podsim/podsim/sandbox"
	"github.com/podsim/podsim/sandbox/images"
)

// Floor is what no runc-based tool can beat: `runc run -d` of the same root
// filesystems (unpacked once into plain directories), pause first in a
// network namespace pinned just before, then each container joining the
// pause's net/ipc/uts namespaces, in the order the pod needs them. No
// containerd, no shim, no CNI, no overlay snapshot, no logs.
type Floor struct {
	L       Layout
	Runc    string
	Version string
	rootfs  map[string]string // normalized image ref -> unpacked rootfs
	config  map[string]sandbox.ImageConfig
	mu      sync.Mutex
	pauses  map[int]bool
	seq     int
}

// SetupFloor unpacks the images (and the pause image) from podsim's
// containerd into directories.
func SetupFloor(ctx context.Context, l Layout, client *containerd.Client, refs []string) (*Floor, error) {
	bin, err := exec.LookPath("runc")
	if err != nil {
		return nil, errors.New("runc is not installed")
	}
	f := &Floor{L: l, Runc: bin, rootfs: map[string]string{}, config: map[string]sandbox.ImageConfig{}, pauses: map[int]bool{}}
	if out, err := run(ctx, nil, bin, "--version"); err == nil {
		f.Version = strings.TrimPrefix(strings.SplitN(out, "\n", 2)[0], "runc version ")
	}
	// Containers and pins a crashed bench left behind.
	if err := f.Cleanup(ctx); err != nil {
		return nil, fmt.Errorf("removing what an earlier bench left: %w", err)
	}
	for _, d := range []string{l.floorRootfs(), l.floorBundles(), l.runcRoot()} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, err
		}
	}
	for _, ref := range append([]string{images.PauseImage}, refs...) {
		n, err := images.Normalize(ref)
		if err != nil {
			return nil, err
		}
		if _, ok := f.rootfs[n]; ok {
			continue
		}
		dir := filepath.Join(l.floorRootfs(), strings.NewReplacer("/", "_", ":", "_").Replace(n))
		cfg, err := unpackTo(ctx, client, n, dir)
		if err != nil {
			return nil, fmt.Errorf("unpacking %s for the runc floor: %w", n, err)
		}
		f.rootfs[n], f.config[n] = dir, cfg
	}
	return f, nil
}

// unpackTo applies an image's layers into dir and returns its config.
func unpackTo(ctx context.Context, client *containerd.Client, ref, dir string) (sandbox.ImageConfig, error) {
	var cfg sandbox.ImageConfig
	img, err := client.GetImage(ctx, ref)
	if err != nil {
		return cfg, err
	}
	cs := client.ContentStore()
	m, err := ctrimages.Manifest(ctx, cs, img.Target(), platforms.Default())
	if err != nil {
		return cfg, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return cfg, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return cfg, err
	}
	for _, layer := range m.Layers {
		ra, err := cs.ReaderAt(ctx, layer)
		if err != nil {
			return cfg, err
		}
		ds, err := compression.DecompressStream(content.NewReader(ra))
		if err != nil {
			ra.Close()
			return cfg, err
		}
		_, err = archive.Apply(ctx, dir, ds)
		ds.Close()
		ra.Close()
		if err != nil {
			return cfg, err
		}
	}
	spec, err := img.Spec(ctx)
	if err != nil {
		return cfg, err
	}
	return sandbox.ImageConfig{Entrypoint: spec.Config.Entrypoint, Cmd: spec.Config.Cmd, Env: spec.Config.Env,
		WorkingDir: spec.Config.WorkingDir, User: spec.Config.User}, nil
}

type floorPod struct {
	name  string
	netns string
	ids   []string // pause first
	pids  []int
	pause int
}

func (p *floorPod) PodName() string { return p.name }

func (f *Floor) Name() string { return "floor" }
func (f *Floor) Label() string {
	return "floor: netns pin + `runc run -d` (runc " + f.Version + ") of pause and each container, from unpacked directories"
}

// IsRoot selects the pause processes the floor started: the floor has no
// per-pod runtime process, its only overhead is the pause.
func (f *Floor) IsRoot(p *Proc) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pauses[p.PID]
}

func (f *Floor) runc(ctx context.Context, args ...string) (string, error) {
	return run(ctx, nil, f.Runc, append([]string{"--root", f.L.runcRoot()}, args...)...)
}

// spec renders an OCI spec like the one containerd's defaults give podsim.
func (f *Floor) spec(ctx context.Context, id, ref string, args []string, ns []specs.LinuxNamespace, readonly bool) (*oci.Spec, error) {
	cfg := f.config[ref]
	ctx = namespaces.WithNamespace(ctx, "podsim-bench-floor")
	opts := []oci.SpecOpts{
		oci.WithDefaultPathEnv,
		oci.WithEnv(cfg.Env),
		oci.WithProcessArgs(args...),
		oci.WithProcessCwd(cmp.Or(cfg.WorkingDir, "/")),
		oci.WithCgroup(FloorCgroup + "/" + id),
	}
	for _, n := range ns {
		opts = append(opts, oci.WithLinuxNamespace(n))
	}
	s, err := oci.GenerateSpecWithPlatform(ctx, nil, platforms.DefaultString(), &containers.Container{ID: id}, opts...)
	if err != nil {
		return nil, err
	}
	s.Root = &specs.Root{Path: f.rootfs[ref], Readonly: readonly}
	return s, nil
}

func (f *Floor) start(ctx context.Context, id string, s *oci.Spec) (int, error) {
	dir := filepath.Join(f.L.floorBundles(), id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		return 0, err
	}
	pidFile := filepath.Join(dir, "pid")
	if _, err := f.runc(ctx, "run", "-d", "--bundle", dir, "--pid-file", pidFile, id); err != nil {
		return 0, err
	}
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(raw)))
}

// Create pins a netns, runs the pause in it and then each container.
func (f *Floor) Create(ctx context.Context, c *Case, name string) (Handle, time.Duration, error) {
	pod, err := ParsePod([]byte(c.Manifest(name, "")), c.Name, BenchNamespace)
	if err != nil {
		return nil, 0, err
	}
	f.mu.Lock()
	f.seq++
	n := f.seq
	f.mu.Unlock()
	h := &floorPod{name: name}
	start := time.Now()
	nsName := fmt.Sprintf("%s-%d-%d", FloorNetNSName, os.Getpid(), n)
	if h.netns, err = podns.PinNetNS(nsName); err != nil {
		return h, 0, err
	}
	pauseID := fmt.Sprintf("floor-%d-%d-pause", os.Getpid(), n)
	ps, err := f.spec(ctx, pauseID, images.PauseImage, []string{"/pause"}, []specs.LinuxNamespace{
		{Type: specs.NetworkNamespace, Path: h.netns}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
		{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}}, true)
	if err != nil {
		return h, 0, err
	}
	h.ids = append(h.ids, pauseID)
	if h.pause, err = f.start(ctx, pauseID, ps); err != nil {
		return h, 0, err
	}
	h.pids = append(h.pids, h.pause)
	f.mu.Lock()
	f.pauses[h.pause] = true
	f.mu.Unlock()
	share := pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace
	for _, ctr := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		ref, _ := images.Normalize(ctr.Image)
		if _, ok := f.rootfs[ref]; !ok {
			return h, 0, fmt.Errorf("floor: image %s was not unpacked", ref)
		}
		nsp := func(t string) string { return fmt.Sprintf("/proc/%d/ns/%s", h.pause, t) }
		ns := []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: nsp("net")}, {Type: specs.IPCNamespace, Path: nsp("ipc")},
			{Type: specs.UTSNamespace, Path: nsp("uts")}, {Type: specs.MountNamespace}, {Type: specs.PIDNamespace}}
		if share {
			ns[4].Path = nsp("pid")
		}
		id := fmt.Sprintf("floor-%d-%d-%s", os.Getpid(), n, ctr.Name)
		args := sandbox.ResolveArgs(f.config[ref], ctr.Command, ctr.Args)
		s, err := f.spec(ctx, id, ref, args, ns, true)
		if err != nil {
			return h, 0, err
		}
		h.ids = append(h.ids, id)
		pid, err := f.start(ctx, id, s)
		if err != nil {
			return h, 0, err
		}
		h.pids = append(h.pids, pid)
	}
	return h, time.Since(start), nil
}

// Delete kills each container's init (last first), waits for it to exit
// (a pidfd, so no polling) and deletes the container with runc. Not `runc
// delete -f`: that polls until the killed process is reaped, and the
// processes of detached runc containers are reaped by PID 1, which on these
// machines is slow to do it; the floor must not measure PID 1.
func (f *Floor) Delete(ctx context.Context, hh Handle) (time.Duration, error) {
	h := hh.(*floorPod)
	start := time.Now()
	var errs []error
	for i := len(h.ids) - 1; i >= 0; i-- {
		if i < len(h.pids) {
			if err := killAndWait(h.pids[i], 10*time.Second); err != nil {
				errs = append(errs, fmt.Errorf("container %s: %w", h.ids[i], err))
			}
		}
		if _, err := f.runc(ctx, "delete", "-f", h.ids[i]); err != nil && !strings.Contains(err.Error(), "does not exist") {
			errs = append(errs, err)
		}
	}
	if h.netns != "" {
		if err := podns.RemoveNetNS(h.netns); err != nil {
			errs = append(errs, err)
		}
	}
	d := time.Since(start)
	for _, id := range h.ids {
		os.RemoveAll(filepath.Join(f.L.floorBundles(), id))
	}
	f.mu.Lock()
	delete(f.pauses, h.pause)
	f.mu.Unlock()
	return d, errors.Join(errs...)
}

// killAndWait sends SIGKILL to pid and waits until it has exited.
func killAndWait(pid int, timeout time.Duration) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil
		}
		return err
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return err
	}
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(timeout)
	for {
		n, err := unix.Poll(pfd, int(time.Until(deadline)/time.Millisecond)+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d did not exit after SIGKILL", pid)
		}
	}
}

// Cleanup removes every floor container, pin, cgroup and file.
func (f *Floor) Cleanup(ctx context.Context) error {
	var errs []error
	if out, err := f.runc(ctx, "list", "-q"); err == nil {
		for _, id := range strings.Fields(out) {
			if _, err := f.runc(ctx, "delete", "-f", id); err != nil {
				errs = append(errs, err)
			}
		}
	}
	ents, _ := os.ReadDir(podns.NetNSDir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), FloorNetNSName+"-") {
			if err := podns.RemoveNetNS(filepath.Join(podns.NetNSDir, e.Name())); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := removeCgroupTree(FloorCgroup); err != nil {
		errs = append(errs, err)
	}
	for _, d := range []string{f.L.runcRoot(), filepath.Join(f.L.Run, "floor"), filepath.Join(f.L.State, "floor")} {
		if err := removeTree(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// BareNetNS times what a network namespace costs by itself: unshare on a
// thread that is thrown away afterwards (the namespace dies with it).
func BareNetNS() (time.Duration, error) {
	type res struct {
		d   time.Duration
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread is in the new namespace, so Go ends
		// it when this goroutine returns.
		t := time.Now()
		err := unix.Unshare(unix.CLONE_NEWNET)
		ch <- res{time.Since(t), err}
	}()
	r := <-ch
	return r.d, r.err
}

// PinnedNetNS times podsim's own netns step alone: unshare + bind-mount pin
// under /run/netns (namespaces.PinNetNS), and its removal.
func PinnedNetNS(name string) (create, remove time.Duration, err error) {
	t := time.Now()
	p, err := podns.PinNetNS(name)
	if err != nil {
		return 0, 0, err
	}
	create = time.Since(t)
	t = time.Now()
	err = podns.RemoveNetNS(p)
	return create, time.Since(t), err
}
