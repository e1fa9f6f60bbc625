package sandbox

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/namespaces"
	"github.com/podsim/podsim/sandbox/runtime"
)

// runPodSandbox is CRI's RunPodSandbox: everything the pod's containers
// will share, made before any of them exists.
//
//	Step 1: the pod cgroup, parent of every container's cgroup.
//	Step 2: the network namespace, pinned under /run/netns — or, for a
//	        hostNetwork pod, none: the host's, with the node's IP. A
//	        hostUsers: false pod first gets its ID range (userns_linux.go),
//	        and its pause makes the netns, pinned and wired in step 4.
//	Step 3: the pod's files (hosts, hostname, resolv.conf, /dev/shm) and volumes.
//	Step 4: CNI ADD and, at the same time, the pause container (hostNetwork:
//	        the pause alone, no CNI); meanwhile the first containers'
//	        containerd records and snapshots (container_prepare_linux.go).
//	Step 5: the pod's own line in its hosts file, now that it has an IP.
//
// Each step saves what it made in the record first, so a failure (or a
// crash) at any point leaves a record that teardown or gc can undo.
func (m *Manager) runPodSandbox(ctx context.Context, run *podRun) error {
	rec := run.rec
	if err := m.createPodCgroup(rec); err != nil {
		return fmt.Errorf("pod %s: step cgroup: %w", rec.Pod.Name, err)
	}
	if err := m.allocatePodUserNS(rec); err != nil { // hostUsers: false (userns_linux.go)
		return fmt.Errorf("pod %s: step user namespace: %w", rec.Pod.Name, err)
	}
	hostNet, userNS := rec.Pod.Spec.HostNetwork, rec.UserNS != nil
	switch {
	case hostNet:
		if err := m.useHostNetwork(rec); err != nil {
			return fmt.Errorf("pod %s: step netns (hostNetwork): %w", rec.Pod.Name, err)
		}
	case userNS: // the pause makes the netns in the pod's user namespace; pinned after it
	default:
		if err := m.pinPodNetNS(rec); err != nil {
			return fmt.Errorf("pod %s: step netns: %w", rec.Pod.Name, err)
		}
	}
	if err := m.preparePodFiles(run); err != nil {
		return err
	}
	if err := m.chownForUserNS(run); err != nil {
		return err
	}
	var err error
	waitPrepared := m.prepareContainers(ctx, run) // the first containers' records, meanwhile
	switch {
	case hostNet:
		err = m.startPauseOnly(ctx, run)
	case userNS:
		err = m.setupUserNSPauseAndNetwork(ctx, run)
	default:
		err = m.setupNetworkAndPause(ctx, run)
	}
	waitPrepared()
	if err != nil {
		return err
	}
	if err := m.refreshHostsOf(ctx, rec, false); err != nil {
		return fmt.Errorf("pod %s: step hosts file: %w", rec.Pod.Name, err)
	}
	return nil
}

// createPodCgroup makes kubelet's pod<uid> cgroup, in the tier of the
// pod's QoS class, with the pod's weight and limits.
func (m *Manager) createPodCgroup(rec *Record) error {
	t := time.Now()
	qos := QOSClass(&rec.Pod.Spec)
	rec.Cgroup = cgroups.PodPath(string(rec.Pod.UID), qos)
	if err := m.saveRecord(rec); err != nil {
		return err
	}
	lim := PodLimits(&rec.Pod)
	if err := cgroups.CreatePod(rec.Cgroup, lim); err != nil {
		return err
	}
	crashPoint("cgroup")
	m.emitEvent(Event{Pod: rec.Pod.Name, Step: "cgroup", Concept: "pod cgroup (kubelet's pod<uid> level, in its QoS tier)", Object: rec.Cgroup,
		Detail: fmt.Sprintf("created pod cgroup %s (%s, cgroup %s); cpu.shares %d; limits: memory %s, cpu %s", rec.Cgroup, qos, cgroups.Mode(), lim.CPUShares, limitText(lim.MemoryBytes, "bytes"), limitText(lim.CPUMilli, "m")),
		Attrs:  map[string]string{"cgroup": rec.Cgroup, "qos": qos, "mode": cgroups.Mode(), "dirs": strings.Join(cgroups.Dirs(rec.Cgroup), ",")}}, t)
	return nil
}

// pinPodNetNS makes the pod's network namespace before any process exists
// and pins it with a bind mount, as CRI does, so CNI can wire it by path.
func (m *Manager) pinPodNetNS(rec *Record) error {
	t := time.Now()
	nsName := netnsName(&rec.Pod, rec.ID)
	rec.NetNS = filepath.Join(namespaces.NetNSDir, nsName)
	if err := m.saveRecord(rec); err != nil {
		return err
	}
	if _, err := namespaces.PinNetNS(nsName); err != nil {
		rec.NetNS = "" // not ours to remove
		return err
	}
	crashPoint("netns")
	if id, e := namespaces.Read(rec.NetNS, "net"); e == nil {
		m.emitEvent(Event{Pod: rec.Pod.Name, Step: "netns", Concept: "network namespace, pinned by a bind mount", Object: rec.NetNS,
			Detail: fmt.Sprintf("unshare(CLONE_NEWNET) on a locked OS thread, bind-mounted to %s: %s", rec.NetNS, id),
			Attrs:  map[string]string{"pin": rec.NetNS, "netns": id.String()}}, t)
	}
	return nil
}

// preparePodFiles writes the files kubelet shares among the pod's
// containers (the hosts file gets the pod's IP once CNI has given one) and
// lays out the volumes.
func (m *Manager) preparePodFiles(run *podRun) error {
	pod := &run.rec.Pod
	var err error
	if run.files, err = m.writePodFiles(run.rec.ID, pod); err != nil {
		return fmt.Errorf("pod %s: step pod files: %w", pod.Name, err)
	}
	if run.vols, err = m.prepareVolumes(run.rec.ID, pod); err != nil {
		return fmt.Errorf("pod %s: step volumes: %w", pod.Name, err)
	}
	crashPoint("volumes")
	return nil
}

// setupNetworkAndPause runs CNI ADD (loopback, then the bridge with
// host-local IPAM) and starts the pause container, which holds the pod's
// namespaces, at the same time: both need only the pinned network
// namespace — the pause joins it by path, the plugins configure it by path
// — and neither waits for the other (CRI does them one after the other,
// ~20 ms more). Two exceptions keep CRI's order, CNI first: net.* sysctls,
// which runc writes into the namespace as the pause starts and which may
// name eth0 or be meant to shape it (net.ipv4.conf.default.*); and a gVisor
// pod, whose Sentry copies eth0's addresses and routes into its own network
// stack when it boots with the pause.
func (m *Manager) setupNetworkAndPause(ctx context.Context, run *podRun) error {
	rec := run.rec
	var (
		nres    *NetworkResult
		cniErr  error
		tCNI    = time.Now()
		cniDur  time.Duration
		cniDone = make(chan struct{})
	)
	go func() {
		defer close(cniDone)
		nres, cniErr = m.net.Setup(ctx, m.netPod(rec))
		cniDur = time.Since(tCNI)
	}()
	sequential := hasNetSysctls(&rec.Pod) || rec.RuntimeHandler == HandlerRunsc
	if sequential {
		<-cniDone
	}
	tPause := time.Now()
	var pauseErr error
	if !sequential || cniErr == nil { // cniErr is read only once CNI is done
		run.pause, pauseErr = m.startPause(ctx, run)
	}
	pauseDur := time.Since(tPause)
	<-cniDone // never return (and roll back) while a CNI ADD still runs
	if cniErr != nil {
		return fmt.Errorf("pod %s: step network: %w", rec.Pod.Name, cniErr)
	}
	if err := m.recordCNIResult(rec, nres, tCNI, cniDur); err != nil {
		return err
	}
	if pauseErr != nil {
		return fmt.Errorf("pod %s: step pause container: %w", rec.Pod.Name, pauseErr)
	}
	crashPoint("pause")
	m.emitPauseEvent(rec, run.pause.Pid(), tPause, pauseDur)
	return nil
}

// startPauseOnly starts the pause of a hostNetwork pod: there is no
// network to set up, so nothing runs beside it.
func (m *Manager) startPauseOnly(ctx context.Context, run *podRun) error {
	t := time.Now()
	var err error
	if run.pause, err = m.startPause(ctx, run); err != nil {
		return fmt.Errorf("pod %s: step pause container: %w", run.rec.Pod.Name, err)
	}
	crashPoint("pause")
	m.emitPauseEvent(run.rec, run.pause.Pid(), t, time.Since(t))
	return nil
}

// startPause creates and starts the sandbox container from pauseSpecOpts.
func (m *Manager) startPause(ctx context.Context, run *podRun) (containerd.Task, error) {
	rec, img := run.rec, run.images[PauseImage]
	cfg := sandboxConfig{ID: rec.ID, Hostname: PodHostname(&rec.Pod, m.node.Hostname), NetNS: rec.NetNS, Cgroup: rec.Cgroup,
		Image: img.cfg, Files: run.files, Host: HostNamespacesOf(&rec.Pod.Spec), Node: m.node, UserNS: rec.UserNS,
		Pod: PodMeta{Name: rec.Pod.Name, Namespace: rec.Pod.Namespace, UID: string(rec.Pod.UID)}}
	if sc := rec.Pod.Spec.SecurityContext; sc != nil {
		cfg.Sysctls = sc.Sysctls
	}
	c, err := m.client.NewContainer(ctx, rec.ID,
		containerd.WithImage(img.img),
		containerd.WithSnapshotter(runtime.Snapshotter),
		containerd.WithNewSnapshot(rec.ID, img.img, userNSSnapshotOpts(rec.UserNS)...),
		m.runtimeFor(rec.RuntimeHandler), // gVisor: the pause is the sandbox's first container, in a new Sentry
		containerd.WithContainerLabels(containerLabels(rec.ID, "")),
		containerd.WithNewSpec(pauseSpecOpts(cfg)...),
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

func (m *Manager) emitPauseEvent(rec *Record, pid uint32, t time.Time, d time.Duration) {
	pns, _ := namespaces.Of(int(pid))
	host, _ := namespaces.Of(0)
	cg := cgroups.ContainerPath(rec.Cgroup, rec.ID)
	// The pause joins only the pin; everything else is new or the host's.
	var pin map[string]namespaces.ID
	if rec.NetNS != "" {
		id, _ := namespaces.Read(rec.NetNS, "net")
		pin = map[string]namespaces.ID{"net": id}
	}
	joined, own, hosts := nsRoles(&rec.Pod, pns, pin, host, nil, "")
	detail := fmt.Sprintf("pause pid %d", pid)
	if len(joined) > 0 {
		detail += fmt.Sprintf(" joined %s (the pin %s);", joined[0], rec.NetNS)
	}
	detail += fmt.Sprintf(" new %s (hostname %s)", strings.Join(own, ", "), PodHostname(&rec.Pod, m.node.Hostname))
	if len(hosts) > 0 {
		detail += "; " + strings.Join(hosts, ", ")
	}
	detail += "; cgroup " + cg
	attrs := map[string]string{"pid": fmt.Sprint(pid), "new": strings.Join(own, " "), "cgroup": cg}
	if rec.NetNS != "" {
		attrs["joined"] = pns["net"].String() + "=" + rec.NetNS
	}
	if len(hosts) > 0 {
		attrs["host"] = strings.Join(hosts, ", ")
	}
	m.emitEventFor(Event{Pod: rec.Pod.Name, Step: "pause", Concept: "sandbox (pause) container: holds the pod's namespaces", Object: rec.ID,
		Detail: detail, Attrs: attrs}, t, d)
}

func (m *Manager) netPod(r *Record) NetworkPod {
	return NetworkPod{ID: r.ID, Name: r.Pod.Name, Namespace: r.Pod.Namespace, UID: string(r.Pod.UID), NetNSPath: r.NetNS}
}

func limitText(v int64, unit string) string {
	if v == 0 {
		return "none"
	}
	return fmt.Sprintf("%d%s", v, unit)
}

// recordCNIResult saves what CNI ADD gave the pod (IP, MAC, the host's
// veth and bridge) in its record, so teardown and gc find them after a
// crash, and traces the step.
func (m *Manager) recordCNIResult(rec *Record, nres *NetworkResult, start time.Time, d time.Duration) error {
	rec.IP, rec.MAC, rec.HostIf, rec.Bridge = nres.IP.String(), nres.MAC, nres.HostIf, nres.Bridge
	if err := m.saveRecord(rec); err != nil {
		return err
	}
	crashPoint("cni")
	m.emitEventFor(Event{Pod: rec.Pod.Name, Step: "cni", Concept: "CNI ADD: loopback, then bridge + host-local IPAM", Object: rec.HostIf,
		Detail: fmt.Sprintf("lo up; veth pair %s (host, on bridge %s) <-> eth0 (pod) %s, MAC %s", rec.HostIf, rec.Bridge, rec.IP, rec.MAC),
		Attrs:  map[string]string{"plugins": "loopback,bridge,host-local", "veth": rec.HostIf, "bridge": rec.Bridge, "ip": rec.IP, "mac": rec.MAC, "ifname": "eth0"}}, start, d)
	return nil
}
