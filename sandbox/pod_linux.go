package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	cg "github.com/containerd/cgroups/v3"
	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/oci"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/namespaces"
)

// ErrInitFailed means the pod was built but an init container failed; the
// pod is kept (status Init:Error) so its logs can be read.
var ErrInitFailed = errors.New("init container failed")

// CreatePod builds a pod in CRI order: validate everything, make sure the
// images exist, then pod cgroup, pinned netns, CNI, pause container, init
// containers one by one, app containers. If any step fails, everything made
// so far is torn down again and the error says which step failed.
func (m *Manager) CreatePod(ctx context.Context, pod *corev1.Pod) (*Record, error) {
	return m.createPod(ctx, pod, nil, nil)
}

// createPod builds a pod; with attach set, the first app container's stdio
// goes to attach's streams and its task is stored in attached.
func (m *Manager) createPod(ctx context.Context, pod *corev1.Pod, attach *ExecIO, attached *containerd.Task) (_ *Record, err error) {
	pod = pod.DeepCopy()
	warns, err := Validate(pod)
	for _, w := range warns {
		m.warn(fmt.Sprintf("pod %s: %s", pod.Name, w))
	}
	if err != nil {
		return nil, err
	}
	all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range all {
		if _, err := m.images.Lookup(c.Image); err != nil {
			return nil, fmt.Errorf("pod %s, container %s: %w", pod.Name, c.Name, err)
		}
	}

	unlock, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { unlock() }() // the lock is let go while init containers run
	if err := m.checkVolumeSources(pod); err != nil {
		return nil, err
	}

	if existing, _ := m.find(ctx, pod.Namespace, pod.Name); existing != nil {
		return nil, fmt.Errorf("%w: pod %q in namespace %q: delete it first with 'podsim delete pod %s'", ErrPodExists, pod.Name, pod.Namespace, pod.Name)
	}

	// Images are a cache, not part of the pod: build them before making
	// any pod object so a failing build leaves nothing to roll back.
	imgs := map[string]containerd.Image{}
	imgCfgs := map[string]ImageConfig{}
	pauseImg, _, err := m.ensureImage(ctx, PauseImage)
	if err != nil {
		return nil, err
	}
	for _, c := range all {
		if _, ok := imgs[c.Image]; ok {
			continue
		}
		img, cfg, err := m.ensureImage(ctx, c.Image)
		if err != nil {
			return nil, fmt.Errorf("pod %s, container %s: %w", pod.Name, c.Name, err)
		}
		imgs[c.Image], imgCfgs[c.Image] = img, cfg
	}

	id, uid := newIDs()
	pod.UID = types.UID(uid)
	pod.CreationTimestamp = metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	rec := &Record{ID: id, Pod: *pod, Created: time.Now().UTC(),
		LogDir: m.paths.podLogDir(pod.Namespace, pod.Name, uid)}
	if err := m.saveRecord(rec); err != nil {
		return nil, err
	}
	crashPoint("record")
	defer func() {
		if err != nil && !errors.Is(err, ErrInitFailed) {
			// Roll back with the same idempotent teardown `delete` uses.
			if terr := m.teardown(context.WithoutCancel(ctx), rec, 0); terr != nil {
				err = errors.Join(err, fmt.Errorf("rolling back pod %s: %w (what is left is still recorded: 'podsim delete pod %s' or 'podsim gc' removes it once containerd answers)", pod.Name, terr, pod.Name))
			}
		}
	}()

	// 1. Pod cgroup: the parent of every container's cgroup.
	t := time.Now()
	rec.Cgroup = cgroups.PodPath(uid)
	if err = m.saveRecord(rec); err != nil {
		return nil, err
	}
	if err = cgroups.CreatePod(rec.Cgroup, podLimits(pod)); err != nil {
		return nil, fmt.Errorf("pod %s: step cgroup: %w", pod.Name, err)
	}
	crashPoint("cgroup")
	lim := podLimits(pod)
	m.emitEvent(Event{Pod: pod.Name, Step: "cgroup", Concept: "pod cgroup (kubelet's pod<uid> level)", Object: rec.Cgroup,
		Detail: fmt.Sprintf("created pod cgroup %s (cgroup %s); limits: memory %s, cpu %s", rec.Cgroup, cgroups.Mode(), limitText(lim.MemoryBytes, "bytes"), limitText(lim.CPUMilli, "m")),
		Attrs:  map[string]string{"cgroup": rec.Cgroup, "mode": cgroups.Mode(), "dirs": strings.Join(cgroups.Dirs(rec.Cgroup), ",")}}, t)

	// 2. Network namespace, pinned before any process exists.
	t = time.Now()
	nsName := netnsName(pod, id)
	rec.NetNS = filepath.Join(namespaces.NetNSDir, nsName)
	if err = m.saveRecord(rec); err != nil {
		return nil, err
	}
	if _, err = namespaces.PinNetNS(nsName); err != nil {
		rec.NetNS = "" // not ours to remove
		return nil, fmt.Errorf("pod %s: step netns: %w", pod.Name, err)
	}
	crashPoint("netns")
	if id, e := namespaces.Read(rec.NetNS, "net"); e == nil {
		m.emitEvent(Event{Pod: pod.Name, Step: "netns", Concept: "network namespace, pinned by a bind mount", Object: rec.NetNS,
			Detail: fmt.Sprintf("unshare(CLONE_NEWNET) on a locked OS thread, bind-mounted to %s: %s", rec.NetNS, id),
			Attrs:  map[string]string{"pin": rec.NetNS, "netns": id.String()}}, t)
	}

	// 3. Files shared by the pod's containers (the hosts file gets the
	// pod's IP once CNI has given one) and the volumes.
	files, err := m.writePodFiles(id, pod.Name, pod.Namespace)
	if err != nil {
		return nil, fmt.Errorf("pod %s: step pod files: %w", pod.Name, err)
	}
	vols, err := m.prepareVolumes(id, pod)
	if err != nil {
		return nil, fmt.Errorf("pod %s: step volumes: %w", pod.Name, err)
	}
	crashPoint("volumes")

	// 4. CNI ADD (loopback, then the bridge with host-local IPAM) and
	// 5. the pause container, which holds the pod's namespaces, at the same
	// time: both need only the pinned network namespace — the pause joins
	// it by path, the plugins configure it by path — and neither waits for
	// the other (CRI does them one after the other, ~20 ms more). One
	// exception keeps CRI's order: net.* sysctls, which runc writes into
	// the namespace as the pause starts and which may name eth0 or be
	// meant to shape it (net.ipv4.conf.default.*), so CNI must be done.
	var (
		nres      *NetworkResult
		cniErr    error
		tCNI      = time.Now()
		cniDur    time.Duration
		cniDone   = make(chan struct{})
		pauseTask containerd.Task
		pauseErr  error
	)
	go func() {
		defer close(cniDone)
		nres, cniErr = m.net.Setup(ctx, m.netPod(rec))
		cniDur = time.Since(tCNI)
	}()
	sequential := hasNetSysctls(pod)
	if sequential {
		<-cniDone
	}
	tPause := time.Now()
	if !sequential || cniErr == nil { // cniErr is read only once CNI is done
		pauseTask, pauseErr = m.startPause(ctx, rec, pauseImg, files)
	}
	pauseDur := time.Since(tPause)
	<-cniDone // never return (and roll back) while a CNI ADD still runs
	if cniErr != nil {
		return nil, fmt.Errorf("pod %s: step network: %w", pod.Name, cniErr)
	}
	rec.IP, rec.MAC, rec.HostIf, rec.Bridge = nres.IP.String(), nres.MAC, nres.HostIf, nres.Bridge
	if err = m.saveRecord(rec); err != nil {
		return nil, err
	}
	crashPoint("cni")
	m.emitEventFor(Event{Pod: pod.Name, Step: "cni", Concept: "CNI ADD: loopback, then bridge + host-local IPAM", Object: rec.HostIf,
		Detail: fmt.Sprintf("lo up; veth pair %s (host, on bridge %s) <-> eth0 (pod) %s, MAC %s", rec.HostIf, rec.Bridge, rec.IP, rec.MAC),
		Attrs:  map[string]string{"plugins": "loopback,bridge,host-local", "veth": rec.HostIf, "bridge": rec.Bridge, "ip": rec.IP, "mac": rec.MAC, "ifname": "eth0"}}, tCNI, cniDur)
	if pauseErr != nil {
		return nil, fmt.Errorf("pod %s: step pause container: %w", pod.Name, pauseErr)
	}
	pausePID := pauseTask.Pid()
	crashPoint("pause")
	pns, _ := namespaces.Of(int(pausePID))
	m.emitEventFor(Event{Pod: pod.Name, Step: "pause", Concept: "sandbox (pause) container: holds the pod's namespaces", Object: rec.ID,
		Detail: fmt.Sprintf("pause pid %d joined %s (the pin); new %s, %s (hostname %s), %s, %s; cgroup %s", pausePID, pns["net"], pns["ipc"], pns["uts"], pod.Name, pns["pid"], pns["mnt"], cgroups.ContainerPath(rec.Cgroup, rec.ID)),
		Attrs: map[string]string{"pid": fmt.Sprint(pausePID), "joined": pns["net"].String() + "=" + rec.NetNS,
			"new":    strings.Join([]string{pns["ipc"].String(), pns["uts"].String(), pns["pid"].String(), pns["mnt"].String()}, " "),
			"cgroup": cgroups.ContainerPath(rec.Cgroup, rec.ID)}}, tPause, pauseDur)
	// The pod's own line in its hosts file, now that it has an IP.
	if err := m.refreshHostsOf(ctx, rec, false); err != nil {
		return nil, fmt.Errorf("pod %s: step hosts file: %w", pod.Name, err)
	}

	share := pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace
	// create prepares a container up to runc create; start execs it and
	// reports what the kernel made. Creation can overlap; starting follows
	// the spec's order, as kubelet's does.
	type prepared struct {
		c       *corev1.Container
		role    string
		task    containerd.Task
		vmounts []Mount
		t0      time.Time
	}
	create := func(c *corev1.Container, role string) (*prepared, error) {
		p := &prepared{c: c, role: role, t0: time.Now()}
		vmounts, err := volumeMounts(pod, c, vols, filepath.Join(m.paths.podRun(id), "subpaths"))
		if err != nil {
			return nil, fmt.Errorf("pod %s: step container %s: %w", pod.Name, c.Name, err)
		}
		p.vmounts = vmounts
		mounts := append([]Mount{
			{Source: files.Hosts, Destination: "/etc/hosts"},
			{Source: files.Hostname, Destination: "/etc/hostname"},
			{Source: files.Resolv, Destination: "/etc/resolv.conf"},
			{Source: files.Shm, Destination: "/dev/shm"},
		}, vmounts...)
		var aio *ExecIO
		if role == RoleApp && c.Name == pod.Spec.Containers[0].Name {
			aio = attach
		}
		if p.task, err = m.createContainer(ctx, rec, c, role, imgs[c.Image], imgCfgs[c.Image], pausePID, share, mounts, aio); err != nil {
			return nil, fmt.Errorf("pod %s: step container %s: %w", pod.Name, c.Name, err)
		}
		return p, nil
	}
	start := func(p *prepared) (containerd.Task, error) {
		c, task := p.c, p.task
		if err := task.Start(ctx); err != nil {
			return nil, fmt.Errorf("pod %s: step container %s: starting %v: %w", pod.Name, c.Name, ResolveArgs(imgCfgs[c.Image], c.Command, c.Args), err)
		}
		crashPoint("container:" + c.Name)
		cns, _ := namespaces.Of(int(task.Pid()))
		joined := []string{cns["net"].String(), cns["ipc"].String(), cns["uts"].String()}
		own := []string{cns["mnt"].String()}
		if share {
			joined = append(joined, cns["pid"].String())
		} else {
			own = append(own, cns["pid"].String())
		}
		cgPath := cgroups.ContainerPath(rec.Cgroup, ContainerID(rec.ID, c.Name))
		for _, mt := range p.vmounts {
			mode := "rw"
			if mt.ReadOnly {
				mode = "ro"
			}
			from := mt.Source
			if mt.SubPathOf != "" {
				from = fmt.Sprintf("%s (subPath, pinned at %s)", mt.SubPathOf, mt.Source)
			}
			m.emitEvent(Event{Pod: pod.Name, Step: "mount", Concept: "volume: bind mount into the container's mount namespace", Object: c.Name + ":" + mt.Destination,
				Detail: fmt.Sprintf("%s: bind %s -> %s (%s)", c.Name, from, mt.Destination, mode),
				Attrs:  map[string]string{"container": c.Name, "source": mt.Source, "destination": mt.Destination, "mode": mode}}, p.t0)
		}
		m.emitEvent(Event{Pod: pod.Name, Step: p.role, Concept: "container: joins the pod's namespaces, gets its own", Object: c.Name,
			Detail: fmt.Sprintf("%s pid %d joined pause's %s; own %s; cgroup %s", c.Name, task.Pid(), strings.Join(joined, " "), strings.Join(own, " "), cgPath),
			Attrs: map[string]string{"container": c.Name, "pid": fmt.Sprint(task.Pid()), "joined": strings.Join(joined, " "),
				"own": strings.Join(own, " "), "cgroup": cgPath, "image": c.Image}}, p.t0)
		return task, nil
	}
	build := func(c *corev1.Container, role string) (containerd.Task, error) {
		p, err := create(c, role)
		if err != nil {
			return nil, err
		}
		return start(p)
	}

	// 6. Init containers, one at a time, each must exit 0.
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		task, err := build(c, RoleInit)
		if err != nil {
			return nil, err
		}
		// An init container may wait for something another podsim command
		// makes (a Service, a pod): do not hold the host-wide lock meanwhile.
		unlock()
		code, err := waitExit(ctx, task)
		var lerr error
		if unlock, lerr = m.lock(context.WithoutCancel(ctx)); lerr != nil {
			unlock = func() {}
			return nil, lerr
		}
		if err != nil {
			return nil, fmt.Errorf("pod %s: waiting for init container %s: %w", pod.Name, c.Name, err)
		}
		if _, lerr := m.loadRecord(rec.ID); lerr != nil {
			return nil, fmt.Errorf("pod %s was deleted while its init container %s ran", pod.Name, c.Name)
		}
		if code != 0 {
			rec.InitError = fmt.Sprintf("init container %s exited with %d", c.Name, code)
			_ = m.saveRecord(rec)
			// Kept, not rolled back: like kubectl, the pod shows Init:Error and its logs stay readable.
			return rec, fmt.Errorf("%w: pod/%s created but %s: see 'podsim logs %s -c %s'", ErrInitFailed, pod.Name, rec.InitError, pod.Name, c.Name)
		}
	}
	// 7. App containers. Creating them (snapshot, bundle, runc create with
	// every namespace joined and mount made) overlaps; starting them (the
	// exec of the user's process) follows the spec's order, as kubelet's
	// sequential start does — a log sidecar listed after its app starts
	// after it.
	preps := make([]*prepared, len(pod.Spec.Containers))
	errs := make([]error, len(pod.Spec.Containers))
	var wg sync.WaitGroup
	for i := range pod.Spec.Containers {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			preps[i], errs[i] = create(&pod.Spec.Containers[i], RoleApp)
		}(i)
	}
	wg.Wait()
	if err = errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, p := range preps {
		task, serr := start(p)
		if serr != nil {
			err = serr
			return nil, err
		}
		if i == 0 && attached != nil {
			*attached = task
		}
	}
	// The pod is ready: Services selecting it now resolve to its IP in every pod.
	if err := m.refreshHostsOf(ctx, rec, false); err != nil {
		m.warn("updating hosts files: " + err.Error())
	}
	return rec, nil
}

// PauseImage is the image of every pod's sandbox container.
const PauseImage = "podsim/pause:latest"

func (m *Manager) ensureImage(ctx context.Context, ref string) (containerd.Image, ImageConfig, error) {
	img, err := m.images.Ensure(ctx, m.client, ref, m.progress)
	if err != nil {
		return nil, ImageConfig{}, err
	}
	spec, err := img.Spec(ctx)
	if err != nil {
		return nil, ImageConfig{}, fmt.Errorf("reading config of image %s: %w", ref, err)
	}
	return img, imageConfig(spec), nil
}

func imageConfig(s ocispec.Image) ImageConfig {
	return ImageConfig{Entrypoint: s.Config.Entrypoint, Cmd: s.Config.Cmd, Env: s.Config.Env,
		WorkingDir: s.Config.WorkingDir, User: s.Config.User}
}

func (m *Manager) netPod(r *Record) NetworkPod {
	return NetworkPod{ID: r.ID, Name: r.Pod.Name, Namespace: r.Pod.Namespace, UID: string(r.Pod.UID), NetNSPath: r.NetNS}
}

func (m *Manager) labels(r *Record, role, container string) map[string]string {
	l := map[string]string{
		LabelPodName:      r.Pod.Name,
		LabelPodNamespace: r.Pod.Namespace,
		LabelPodUID:       string(r.Pod.UID),
		LabelSandboxID:    r.ID,
		LabelRole:         role,
	}
	if container != "" {
		l[LabelContainerName] = container
	}
	if role == RoleSandbox {
		l[LabelNetNS] = r.NetNS
		l[LabelCgroup] = r.Cgroup
		l[LabelCreated] = r.Created.Format(time.RFC3339)
	}
	return l
}

func (m *Manager) startPause(ctx context.Context, r *Record, img containerd.Image, files podFiles) (containerd.Task, error) {
	id := r.ID
	pod := &r.Pod
	opts := []oci.SpecOpts{
		oci.WithImageConfig(img),
		withSandboxNamespaces(r.NetNS),
		oci.WithHostname(pod.Name),
		withCgroupNamespace(cg.Mode() == cg.Unified),
		oci.WithCgroup(cgroups.ContainerPath(r.Cgroup, id)),
		oci.WithRootFSReadonly(),
		oci.WithNoNewPrivileges,
		oci.WithAnnotations(map[string]string{ShimGroupAnnotation: r.ID}),
		// As kubelet + CRI make the sandbox: the lowest OOM score of the
		// pod (clamped as restrict_oom_score_adj does), the minimum CPU
		// shares, and the daemon's rlimits.
		withOOMScoreAdj(RestrictOOMScoreAdj(SandboxOOMScoreAdj, m.oomFloor)),
		withResources(corev1.ResourceRequirements{}),
		withoutRlimits,
		// The pod's /dev/shm tmpfs and resolv.conf, read-only, as CRI
		// mounts them into the sandbox too (the pause never reads them).
		withPodMounts([]Mount{{Source: files.Shm, Destination: "/dev/shm", ReadOnly: true}, {Source: files.Resolv, Destination: "/etc/resolv.conf", ReadOnly: true}}),
	}
	if pod.Spec.SecurityContext != nil {
		opts = append(opts, withSysctls(pod.Spec.SecurityContext.Sysctls))
	}
	c, err := m.client.NewContainer(ctx, id,
		containerd.WithImage(img),
		containerd.WithSnapshotter(Snapshotter),
		containerd.WithNewSnapshot(id, img),
		containerd.WithRuntime(Runtime, nil),
		containerd.WithContainerLabels(m.labels(r, RoleSandbox, "")),
		containerd.WithNewSpec(opts...),
	)
	if err != nil {
		return nil, fmt.Errorf("creating pause container: %w", err)
	}
	task, err := c.NewTask(ctx, cio.NullIO)
	if err != nil {
		return nil, fmt.Errorf("creating pause task: %w", err)
	}
	if err := task.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting pause task: %w", err)
	}
	return task, nil
}

// ContainerID is the containerd ID of a pod's container.
func ContainerID(sandboxID, name string) string { return sandboxID + "-" + name }

// createContainer makes a container and its task (runc create: namespaces
// joined, mounts done, the process waiting before exec). The caller starts it.
func (m *Manager) createContainer(ctx context.Context, r *Record, c *corev1.Container, role string,
	img containerd.Image, icfg ImageConfig, pausePID uint32, sharePID bool, mounts []Mount, attach *ExecIO) (containerd.Task, error) {
	id := ContainerID(r.ID, c.Name)
	env := MergeEnv(withHostnameEnv(r.Pod.Name, icfg.Env), c.Env)
	// $(VAR) in command and args expands from the container's env, as in Kubernetes.
	args := ResolveArgs(icfg, ExpandArgs(c.Command, env), ExpandArgs(c.Args, env))
	if len(args) == 0 {
		return nil, fmt.Errorf("image %s has no Entrypoint or Cmd and the container sets no command", c.Image)
	}
	opts := []oci.SpecOpts{
		oci.WithDefaultPathEnv,
		oci.WithEnv(env),
		oci.WithProcessArgs(args...),
		oci.WithProcessCwd(firstNonEmpty(c.WorkingDir, icfg.WorkingDir, "/")),
		withImageUser(icfg.User),
		withPodNamespaces(pausePID, sharePID),
		withCgroupNamespace(cg.Mode() == cg.Unified),
		oci.WithCgroup(cgroups.ContainerPath(r.Cgroup, id)),
		withPodMounts(mounts),
		withResources(c.Resources),
		withoutRlimits,
		withOOMScoreAdj(RestrictOOMScoreAdj(ContainerOOMScoreAdj(QOSClass(&r.Pod.Spec), c, m.memCapacity), m.oomFloor)),
		oci.WithAnnotations(map[string]string{ShimGroupAnnotation: r.ID}),
		// containerd's default spec sets no_new_privs; kubelet+CRI leave it
		// off unless allowPrivilegeEscalation: false asks for it.
		oci.WithNewPrivileges,
	}
	opts = append(opts, withSecurityContext(r.Pod.Spec.SecurityContext, c.SecurityContext, icfg.User)...)
	if attach != nil && attach.TTY {
		opts = append(opts, oci.WithTTY, oci.WithEnv([]string{"TERM=xterm"}))
	}
	ctr, err := m.client.NewContainer(ctx, id,
		containerd.WithImage(img),
		containerd.WithSnapshotter(Snapshotter),
		containerd.WithNewSnapshot(id, img),
		containerd.WithRuntime(Runtime, nil),
		containerd.WithContainerLabels(m.labels(r, role, c.Name)),
		containerd.WithNewSpec(opts...),
	)
	if err != nil {
		return nil, fmt.Errorf("creating container: %w", err)
	}
	logPath := filepath.Join(r.LogDir, c.Name, "0.log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	creator := cio.BinaryIO(m.logger, map[string]string{LoggerFlag: "", "--log-path": logPath})
	var closeLog func()
	if attach != nil {
		// An attached container (podsim run -i, --rm): its stdio goes to
		// this podsim process, which also keeps the CRI log.
		creator, closeLog, err = attachedIO(*attach, logPath)
		if err != nil {
			return nil, err
		}
	}
	task, err := ctr.NewTask(ctx, creator)
	if err != nil {
		if closeLog != nil {
			closeLog()
		}
		return nil, fmt.Errorf("creating task: %w", err)
	}
	return task, nil
}

func waitExit(ctx context.Context, task containerd.Task) (uint32, error) {
	ch, err := task.Wait(ctx)
	if err != nil {
		return 0, err
	}
	select {
	case st := <-ch:
		code, _, err := st.Result()
		return code, err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// podLimits sums container limits for the pod cgroup, as kubelet does, only
// when every app container has the limit (otherwise the pod is unbounded).
func podLimits(pod *corev1.Pod) cgroups.Limits {
	var l cgroups.Limits
	memAll, cpuAll := true, true
	for _, c := range pod.Spec.Containers {
		if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok && q.Value() > 0 {
			l.MemoryBytes += q.Value()
		} else {
			memAll = false
		}
		if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok && q.MilliValue() > 0 {
			l.CPUMilli += q.MilliValue()
		} else {
			cpuAll = false
		}
	}
	if !memAll {
		l.MemoryBytes = 0
	}
	if !cpuAll {
		l.CPUMilli = 0
	}
	return l
}

func netnsName(pod *corev1.Pod, id string) string {
	n := "podsim-" + pod.Name + "-" + id[:6]
	if pod.Namespace != "default" {
		n = "podsim-" + pod.Namespace + "-" + pod.Name + "-" + id[:6]
	}
	if len(n) > 200 {
		n = "podsim-" + id
	}
	return n
}

func newIDs() (id, uid string) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = (b[6] & 0x0f) | 0x40 // UUID v4, like Kubernetes pod UIDs
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b)
	return h[:12], fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// DeletePod removes a pod: stop its containers (SIGTERM, grace period,
// SIGKILL), then tear down the sandbox in reverse order of creation.
func (m *Manager) DeletePod(ctx context.Context, namespace, name string, grace time.Duration) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	rec, err := m.find(ctx, namespace, name)
	if err != nil {
		return err
	}
	if rec == nil {
		return fmt.Errorf("%w: pod %q in namespace %q (list pods with 'podsim get pods')", ErrPodNotFound, name, namespace)
	}
	return m.teardown(ctx, rec, grace)
}

// teardown removes everything a pod record names, in reverse order. Every
// step tolerates objects already gone, so it is safe after a crash, after a
// half-finished create, and when run twice.
func (m *Manager) teardown(ctx context.Context, r *Record, grace time.Duration) error {
	var errs []error
	name := r.Pod.Name
	start := time.Now()
	// An interrupt (Ctrl-C) cuts the grace period short, but never the
	// cleanup itself: a half-torn-down pod is worse than a quick SIGKILL.
	interrupted := ctx.Done()
	ctx = context.WithoutCancel(ctx)

	ctrs, err := m.client.Containers(ctx, fmt.Sprintf("labels.%q==%s", LabelSandboxID, r.ID))
	if err != nil {
		return fmt.Errorf("listing containers of pod %s: %w", name, err)
	}
	var pause containerd.Container
	var apps []containerd.Container
	for _, c := range ctrs {
		if c.ID() == r.ID {
			pause = c
		} else {
			apps = append(apps, c)
		}
	}
	// 1. App containers stop together, each with its own grace period, as
	// kubelet kills them. The pause keeps running meanwhile: with
	// shareProcessNamespace it is PID 1 of the pod's PID namespace, and
	// the kernel kills every process there when it exits, which would cut
	// the apps' grace period short.
	kept := func(errs []error) error {
		// Keep the record (and the sandbox): the pod stays listed and a
		// second delete, or gc, can finish the job.
		return fmt.Errorf("pod %s: %w (the pod is kept; retry 'podsim delete' or run 'podsim gc')", name, errors.Join(errs...))
	}
	// Each task is looked up once; nil means the container has none left.
	tasks := map[string]containerd.Task{}
	for _, c := range ctrs {
		task, err := loadTask(ctx, c)
		if err != nil {
			return kept([]error{err})
		}
		tasks[c.ID()] = task
	}
	if errs = parallel(apps, func(c containerd.Container) error {
		return stopContainerTask(ctx, c, tasks[c.ID()], grace, interrupted)
	}); len(errs) > 0 {
		return kept(errs)
	}
	m.emitEvent(Event{Pod: name, Step: "teardown", Concept: "stop containers: SIGTERM, grace period, SIGKILL", Detail: fmt.Sprintf("stopped %d container(s)", len(apps))}, start)
	// 2. Every app process is gone, so the sandbox can stop while the
	// apps' tasks are deleted (StopPodSandbox after the containers exited).
	// 3. Then the pause's task — the last one of the pod's shim, which
	// exits with it; deleting it together with the others races the
	// shim's shutdown ("ttrpc: closed") — while the apps' containers and
	// snapshots go.
	t := time.Now()
	all := apps
	if pause != nil {
		all = append(append([]containerd.Container{}, apps...), pause)
	}
	if errs = parallel(all, func(c containerd.Container) error {
		if c == pause {
			return stopContainerTask(ctx, c, tasks[c.ID()], 2*time.Second, interrupted)
		}
		return deleteTask(ctx, c.ID(), tasks[c.ID()])
	}); len(errs) > 0 {
		return kept(errs)
	}
	if errs = parallel(all, func(c containerd.Container) error {
		if c == pause {
			if err := deleteTask(ctx, c.ID(), tasks[c.ID()]); err != nil {
				return err
			}
		}
		return deleteContainer(ctx, c)
	}); len(errs) > 0 {
		return kept(errs)
	}
	if pause != nil {
		m.emitEvent(Event{Pod: name, Step: "teardown", Concept: "sandbox removed", Object: r.ID, Detail: fmt.Sprintf("removed %d container(s) and their snapshots, and the pause container: the pod's ipc, uts and pid namespaces end with their last process", len(apps))}, t)
	}
	if r.NetNS != "" {
		t := time.Now()
		if err := m.net.Teardown(ctx, m.netPod(r)); err != nil {
			errs = append(errs, err)
		}
		if err := namespaces.RemoveNetNS(r.NetNS); err != nil {
			errs = append(errs, err)
		}
		// The bridge stays, as cni0 stays on a node: the next pod plugs
		// into it instead of paying for a new one. `podsim gc` removes it
		// once no pod is left.
		m.emitEvent(Event{Pod: name, Step: "teardown", Concept: "CNI DEL, network namespace unpinned", Object: r.NetNS, Detail: fmt.Sprintf("CNI DEL released %s and removed veth %s; unmounted the pin %s (the namespace is freed)", r.IP, r.HostIf, r.NetNS)}, t)
	}
	if err := m.removePodDirs(r.ID); err != nil {
		errs = append(errs, err)
	}
	if err := m.refreshHostsOf(ctx, r, true); err != nil { // its IP leaves the Services
		errs = append(errs, err)
	}
	if r.LogDir != "" && strings.HasPrefix(r.LogDir, m.paths.Logs+"/") {
		if err := os.RemoveAll(r.LogDir); err != nil {
			errs = append(errs, err)
		}
	}
	if r.Cgroup != "" {
		if err := cgroups.Remove(r.Cgroup); err != nil {
			errs = append(errs, err)
		}
	}
	m.emitEvent(Event{Pod: name, Step: "teardown", Concept: "pod files and cgroup removed", Object: r.Cgroup, Detail: "removed /dev/shm tmpfs, volumes, hosts files, logs and the pod cgroup " + r.Cgroup}, start)
	return errors.Join(errs...)
}

// parallel runs f for every container at once and returns the errors.
func parallel(cs []containerd.Container, f func(containerd.Container) error) []error {
	errCh := make(chan error, len(cs))
	for _, c := range cs {
		go func(c containerd.Container) { errCh <- f(c) }(c)
	}
	var errs []error
	for range cs {
		if err := <-errCh; err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// loadTask returns a container's task, or nil when it has none.
func loadTask(ctx context.Context, c containerd.Container) (containerd.Task, error) {
	task, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading task %s: %w", c.ID(), err)
	}
	return task, nil
}

// stopContainerTask ends a container's process (SIGTERM, grace, SIGKILL)
// and leaves its task, container and snapshot to be deleted.
func stopContainerTask(ctx context.Context, c containerd.Container, task containerd.Task, grace time.Duration, interrupted <-chan struct{}) error {
	if task == nil {
		return nil
	}
	if err := stopTask(ctx, task, grace, interrupted); err != nil {
		return fmt.Errorf("stopping container %s: %w", c.ID(), err)
	}
	return nil
}

// removeContainer stops a container's task (if still running) and deletes
// the task, the container and its snapshot. Not-found at any point means
// already done.
func removeContainer(ctx context.Context, c containerd.Container, grace time.Duration, interrupted <-chan struct{}) error {
	task, err := loadTask(ctx, c)
	if err != nil {
		return err
	}
	if err := stopContainerTask(ctx, c, task, grace, interrupted); err != nil {
		return err
	}
	if err := deleteTask(ctx, c.ID(), task); err != nil {
		return err
	}
	return deleteContainer(ctx, c)
}

// deleteTask deletes a container's (stopped) task in its shim; a task that
// still runs is killed. A nil task, or one already gone, is done.
func deleteTask(ctx context.Context, id string, task containerd.Task) error {
	if task == nil {
		return nil
	}
	if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("deleting task %s: %w", id, err)
	}
	return nil
}

// deleteContainer deletes a container's record and its snapshot.
func deleteContainer(ctx context.Context, c containerd.Container) error {
	if err := c.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("deleting container %s: %w", c.ID(), err)
	}
	return nil
}

// stopTask sends SIGTERM, waits up to grace, then SIGKILL — kubelet's
// termination. One kernel rule shortens it: the init process of a PID
// namespace only receives signals it has a handler for, so SIGTERM to a
// PID 1 like `sleep` that never installed one does nothing. Waiting out the
// grace period would only waste time, so podsim goes straight to SIGKILL.
func stopTask(ctx context.Context, task containerd.Task, grace time.Duration, interrupted <-chan struct{}) error {
	st, err := task.Status(ctx)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return nil
		}
		return err
	}
	if st.Status == containerd.Stopped {
		return nil
	}
	exitCh, err := task.Wait(ctx)
	if err != nil {
		return err
	}
	if st.Status == containerd.Created {
		return task.Kill(ctx, syscall.SIGKILL)
	}
	if grace > 0 {
		waitExeced(int(task.Pid()), 2*time.Second)
	}
	if grace > 0 && !ignoresSIGTERM(int(task.Pid())) {
		if err := task.Kill(ctx, syscall.SIGTERM); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		// Re-check while waiting: a container that has just started may
		// still be runc's init (which has handlers) and exec a PID 1
		// without one a moment later — that SIGTERM is then lost.
		deadline := time.After(grace)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
	wait:
		for {
			select {
			case <-exitCh:
				return nil
			case <-tick.C:
				if ignoresSIGTERM(int(task.Pid())) {
					break wait
				}
			case <-deadline:
				break wait
			case <-interrupted: // go straight to SIGKILL
				break wait
			}
		}
	}
	if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	select {
	case <-exitCh:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("task %s did not exit after SIGKILL", task.ID())
	}
	return nil
}

// find returns the record of a pod by namespace/name, or nil.
func (m *Manager) find(ctx context.Context, namespace, name string) (*Record, error) {
	recs, err := m.Records()
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Pod.Name == name && r.Pod.Namespace == namespace {
			return r, nil
		}
	}
	return nil, nil
}

func limitText(v int64, unit string) string {
	if v == 0 {
		return "none"
	}
	return fmt.Sprintf("%d%s", v, unit)
}

// hasNetSysctls reports whether the pod sets a sysctl of the network
// namespace (net.*), which runc writes as the pause container starts.
func hasNetSysctls(pod *corev1.Pod) bool {
	if pod.Spec.SecurityContext == nil {
		return false
	}
	for _, s := range pod.Spec.SecurityContext.Sysctls {
		if strings.HasPrefix(s.Name, "net.") {
			return true
		}
	}
	return false
}
