package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/containerd"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/sandbox"
)

// KubeletOptions configure CompareKubelet.
type KubeletOptions struct {
	Pod        *corev1.Pod
	Kubeconfig string
	Context    string             // kubeconfig context; "" = current
	Manager    *sandbox.Manager   // podsim's side
	Client     *containerd.Client // podsim's containerd (ctx carries podsim's namespace)
	Progress   func(string)
	Timeout    time.Duration // for the kubelet's pod to run; 0 = 2 minutes
}

// KubeletExplanations are the differences between podsim's pod and one a
// real kubelet made that are known and kept; they are looked up before the
// CRI ones (Explanations), which also apply.
var KubeletExplanations = []Explanation{
	{"cgroup path", "same nesting (the pod cgroup holds one child per container, the sandbox's too); only the parent differs: kubelet's <cgroup-root>/kubepods/<qos>/pod<uid> vs podsim's /podsim/pod<uid>, and CRI names children by container ID"},
	{"env KUBERNETES_", "kubelet adds the API server's Service (kubernetes.default) as environment variables; podsim has no API server"},
	{"mount /var/run/secrets/kubernetes.io/serviceaccount", "kubelet mounts the pod's ServiceAccount token (a projected volume); podsim has no API server and no tokens"},
	{"volume /var/run/secrets/kubernetes.io/serviceaccount", "kubelet mounts the pod's ServiceAccount token (a projected volume); podsim has no API server and no tokens"},
	{"spec mount /var/run/secrets/kubernetes.io/serviceaccount", "kubelet mounts the pod's ServiceAccount token (a projected volume); podsim has no API server and no tokens"},
	{"cgroup ancestry", "same chain container < pod < QoS tier with the same weights and limits; kubelet's tiers sit under kubepods, which holds the node-allocatable memory limit and the node's CPU shares; podsim's /podsim parent sets neither (a documented difference)"},
	{"spec mounts count", "kubelet adds one mount podsim does not: the ServiceAccount token"},
	{"file /etc/resolv.conf", "the local cluster runs no DNS server, so its kubelet has no clusterDNS and gives pods the host's resolv.conf; podsim writes ClusterFirst's search path and ndots:5 with the host's nameserver (on a cluster with DNS kubelet writes the same search line with the DNS Service's IP)"},
	{"spec maskedPaths", "pause only: its list is the default of whichever containerd builds its spec (the cluster's 1.6 daemon vs podsim's 1.7 client); app containers get kubelet 1.34's list on both sides"},
}

// CompareKubelet builds the pod with podsim and on the cluster of
// o.Kubeconfig, whose kubelet must run on this machine (its containers are
// read from this host's /proc and cgroup files, as for podsim's and CRI's),
// and diffs them item by item like ComparePod. The cluster's copy is bound to
// the node that is this host (spec.nodeName) with imagePullPolicy: Never, so
// it runs the images `make cluster-up` imported from podsim's catalog.
func CompareKubelet(ctx context.Context, o KubeletOptions) (_ *CompareResult, err error) {
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	api, err := newKubeAPI(o.Kubeconfig, o.Context)
	if err != nil {
		return nil, err
	}
	node, err := localNode(ctx, api)
	if err != nil {
		return nil, err
	}
	pod := o.Pod.DeepCopy()
	pod.Namespace = BenchNamespace
	res := &CompareResult{Pod: pod.Name}

	// The cluster's pod first: it fails early when the cluster refuses it.
	kpod := pod.DeepCopy()
	kpod.Spec.NodeName = node
	for _, cs := range [][]corev1.Container{kpod.Spec.InitContainers, kpod.Spec.Containers} {
		for i := range cs {
			cs[i].ImagePullPolicy = corev1.PullNever
		}
	}
	kpod.ResourceVersion, kpod.UID = "", ""
	createdNS, err := ensureNamespace(ctx, api, pod.Namespace)
	if err != nil {
		return nil, err
	}
	nsPath := "/api/v1/namespaces/" + url.PathEscape(pod.Namespace)
	defer func() {
		if createdNS {
			if derr := deleteNamespace(context.WithoutCancel(ctx), api, nsPath); derr != nil {
				err = errors.Join(err, fmt.Errorf("deleting namespace %s: %w", pod.Namespace, derr))
			}
		}
	}()
	o.Progress(fmt.Sprintf("creating pod %s on node %s through the API server (kubelet)", pod.Name, node))
	podPath := nsPath + "/pods/" + url.PathEscape(pod.Name)
	if err := api.do(ctx, "POST", nsPath+"/pods", kpod, nil); err != nil {
		return nil, fmt.Errorf("creating the pod on the cluster: %w", err)
	}
	defer func() {
		if derr := deleteClusterPod(context.WithoutCancel(ctx), api, podPath); derr != nil {
			err = errors.Join(err, derr)
		}
	}()
	running, err := waitClusterPod(ctx, api, podPath, o.Timeout)
	if err != nil {
		return nil, err
	}
	kv, err := kubeletView(running)
	if err != nil {
		return nil, err
	}

	// podsim's pod.
	pv, remove, err := buildPodsimSide(ctx, o.Manager, o.Client, pod, o.Progress)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, remove()) }()
	res.Podsim, res.CRI = CollectFacts(pv), CollectFacts(kv)
	res.Diffs = Compare(res.Podsim, res.CRI)
	for i := range res.Diffs {
		if !res.Diffs[i].Equal {
			if e := explainFrom(KubeletExplanations, res.Diffs[i].Item); e != "" {
				res.Diffs[i].Explanation = e
			}
		}
	}
	res.Notes = append(res.Notes,
		fmt.Sprintf("both pods were built in Kubernetes namespace %q; the cluster's on node %s with imagePullPolicy: Never; pod IPs are shown as <pod-ip>, mounted objects as #N", BenchNamespace, node))
	return res, nil
}

func explainFrom(list []Explanation, item string) string {
	for _, e := range list {
		if strings.HasPrefix(item, e.Prefix) {
			return e.Text
		}
	}
	return ""
}

// localNode returns the name of the cluster's node that is this machine:
// one whose InternalIP is an address of this host.
func localNode(ctx context.Context, api *kubeAPI) (string, error) {
	var nodes corev1.NodeList
	if err := api.do(ctx, "GET", "/api/v1/nodes", nil, &nodes); err != nil {
		return "", fmt.Errorf("listing the cluster's nodes: %w", err)
	}
	local := map[string]bool{}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				local[ipn.IP.String()] = true
			}
		}
	}
	var seen []string
	for _, n := range nodes.Items {
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP && local[a.Address] {
				return n.Name, nil
			}
		}
		seen = append(seen, n.Name)
	}
	return "", fmt.Errorf("no node of the cluster runs on this machine (nodes: %s): compare reads both pods from this host's kernel; use the local cluster (sudo make cluster-up)", strings.Join(seen, ", "))
}

// ensureNamespace makes ns when it is missing (true: the caller deletes it
// again) and waits for its "default" ServiceAccount, without which the API
// server refuses pods.
func ensureNamespace(ctx context.Context, api *kubeAPI, ns string) (bool, error) {
	p := "/api/v1/namespaces/" + url.PathEscape(ns)
	created := false
	if err := api.do(ctx, "GET", p, nil, nil); errors.Is(err, errAPINotFound) {
		obj := corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: ns}}
		if err := api.do(ctx, "POST", "/api/v1/namespaces", obj, nil); err != nil {
			return false, fmt.Errorf("creating namespace %s: %w", ns, err)
		}
		created = true
	} else if err != nil {
		return false, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := api.do(ctx, "GET", p+"/serviceaccounts/default", nil, nil)
		if err == nil {
			return created, nil
		}
		if !errors.Is(err, errAPINotFound) || time.Now().After(deadline) {
			return created, fmt.Errorf("waiting for ServiceAccount default in %s (is kube-controller-manager running?): %w", ns, err)
		}
		select {
		case <-ctx.Done():
			return created, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// deleteNamespace deletes the namespace and waits until it is gone, so a
// next compare can make it again.
func deleteNamespace(ctx context.Context, api *kubeAPI, nsPath string) error {
	if err := api.do(ctx, "DELETE", nsPath, nil, nil); err != nil {
		if errors.Is(err, errAPINotFound) {
			return nil
		}
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if err := api.do(ctx, "GET", nsPath, nil, nil); errors.Is(err, errAPINotFound) {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("still there 60s after its deletion (is kube-controller-manager's namespace controller running?)")
}

// waitClusterPod waits until every app container of the pod runs.
func waitClusterPod(ctx context.Context, api *kubeAPI, podPath string, timeout time.Duration) (*corev1.Pod, error) {
	deadline := time.Now().Add(timeout)
	var p corev1.Pod
	for {
		if err := api.do(ctx, "GET", podPath, nil, &p); err != nil {
			return nil, err
		}
		ready := p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) == len(p.Spec.Containers)
		for _, st := range p.Status.ContainerStatuses {
			if st.State.Running == nil {
				ready = false
			}
			if w := st.State.Waiting; w != nil && (w.Reason == "ErrImageNeverPull" || w.Reason == "CreateContainerError" || w.Reason == "CreateContainerConfigError") {
				return nil, fmt.Errorf("the cluster's pod: container %s: %s: %s", st.Name, w.Reason, w.Message)
			}
		}
		if ready {
			return &p, nil
		}
		if p.Status.Phase == corev1.PodFailed || time.Now().After(deadline) {
			return nil, fmt.Errorf("the cluster's pod is %s after %s, not running: %s %s", p.Status.Phase, timeout, p.Status.Reason, p.Status.Message)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// deleteClusterPod deletes the pod (grace 1s) and waits until it is gone, so
// the kubelet has torn the sandbox down.
func deleteClusterPod(ctx context.Context, api *kubeAPI, podPath string) error {
	grace := int64(1)
	if err := api.do(ctx, "DELETE", podPath, metav1.DeleteOptions{GracePeriodSeconds: &grace}, nil); err != nil && !errors.Is(err, errAPINotFound) {
		return fmt.Errorf("deleting the cluster's pod: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if err := api.do(ctx, "GET", podPath, nil, nil); errors.Is(err, errAPINotFound) {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("the cluster's pod %s was not gone 60s after its deletion", podPath)
}

// kubeletView finds the kubelet's pod in this host's kernel: each app
// container by its ID in /proc/<pid>/cgroup (CRI names the container
// cgroups after the IDs), the sandbox as the other child of the same pod
// cgroup; each OCI spec is the config.json in the bundle, the working
// directory of the pod's shim.
func kubeletView(p *corev1.Pod) (PodView, error) {
	v := PodView{Runtime: "kubelet", PodIP: p.Status.PodIP}
	ids := map[string]string{} // container id -> name
	for _, st := range p.Status.ContainerStatuses {
		_, id, _ := strings.Cut(st.ContainerID, "://")
		ids[id] = st.Name
	}
	byCgroup := map[string][]int{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return v, err
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cg := cgroups.OfProcess(pid); cg != "" {
			byCgroup[cg] = append(byCgroup[cg], pid)
		}
	}
	// init returns the process of cg whose parent is not in cg.
	init := func(cg string) int {
		in := map[int]bool{}
		for _, pid := range byCgroup[cg] {
			in[pid] = true
		}
		for _, pid := range byCgroup[cg] {
			if !in[ppidOf(pid)] {
				return pid
			}
		}
		return 0
	}
	found := map[string]int{}
	cgroupOfName := map[string]string{}
	podCgroup := ""
	for cg := range byCgroup {
		base := path.Base(cg)
		for id, name := range ids {
			if base == id || strings.Contains(base, id) {
				found[name] = init(cg)
				cgroupOfName[name] = cg
				podCgroup = path.Dir(cg)
			}
		}
	}
	if podCgroup == "" {
		return v, fmt.Errorf("the cluster's containers are not on this machine (no cgroup of this host names them)")
	}
	sandboxPID, sandboxID := 0, ""
	for cg := range byCgroup {
		if path.Dir(cg) != podCgroup {
			continue
		}
		known := false
		for id := range ids {
			if strings.Contains(path.Base(cg), id) {
				known = true
			}
		}
		if !known {
			sandboxPID, sandboxID = init(cg), containerIDOf(cg)
		}
	}
	v.Rows = append(v.Rows, RowView{Name: "POD", PID: sandboxPID, Spec: bundleSpec(sandboxPID, sandboxID), Sandbox: true})
	for _, c := range p.Spec.InitContainers {
		v.Rows = append(v.Rows, RowView{Name: c.Name})
	}
	for _, c := range p.Spec.Containers {
		pid := found[c.Name]
		if pid == 0 {
			return v, fmt.Errorf("container %s of the cluster's pod: no process on this machine", c.Name)
		}
		v.Rows = append(v.Rows, RowView{Name: c.Name, PID: pid, Spec: bundleSpec(pid, containerIDOf(cgroupOfName[c.Name])), Mounts: mountPaths(c)})
	}
	return v, nil
}

func ppidOf(pid int) int {
	st := procStatus(pid)
	n, _ := strconv.Atoi(st["PPid"])
	return n
}

// containerIDOf is the container ID a CRI container cgroup is named after:
// <id> with cgroupfs, cri-containerd-<id>.scope with the systemd driver.
func containerIDOf(cgroup string) string {
	b := path.Base(cgroup)
	b = strings.TrimPrefix(b, "cri-containerd-")
	return strings.TrimSuffix(b, ".scope")
}

// bundleSpec reads the OCI spec runc started pid (container id) from. The
// shim that parents pid serves the whole pod (CRI groups a pod's containers
// in one shim), and its working directory is the bundle of the first one:
// <state>/io.containerd.runtime.v2.task/<namespace>/<id>; id's bundle is its
// sibling.
func bundleSpec(pid int, id string) []byte {
	if pid <= 0 || id == "" {
		return nil
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", ppidOf(pid)))
	if err != nil {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(cwd), id, "config.json"))
	if err != nil || !json.Valid(b) {
		return nil
	}
	return b
}

// buildPodsimSide builds pod with podsim and reads it (podsimView); remove
// deletes it again, as both comparisons (against CRI and a kubelet) do.
func buildPodsimSide(ctx context.Context, m *sandbox.Manager, client *containerd.Client, pod *corev1.Pod, progress func(string)) (_ PodView, remove func() error, err error) {
	progress("building pod " + pod.Name + " with podsim")
	if _, err := m.CreatePod(ctx, pod); err != nil {
		return PodView{}, nil, fmt.Errorf("podsim: %w", err)
	}
	remove = func() error {
		if derr := m.DeletePod(context.WithoutCancel(ctx), pod.Namespace, pod.Name, time.Second); derr != nil {
			return fmt.Errorf("deleting podsim's pod: %w", derr)
		}
		return nil
	}
	pv, err := podsimView(ctx, m, client, pod)
	if err != nil {
		return PodView{}, nil, errors.Join(err, remove())
	}
	return pv, remove, nil
}

// podsimView reads podsim's pod for a comparison (ComparePod, CompareKubelet):
// the pause and each container with its PID, OCI spec and volume mounts.
func podsimView(ctx context.Context, m *sandbox.Manager, client *containerd.Client, pod *corev1.Pod) (PodView, error) {
	st, err := m.Get(ctx, pod.Namespace, pod.Name)
	if err != nil {
		return PodView{}, err
	}
	pv := PodView{Runtime: "podsim", PodIP: st.IP}
	spec := func(id string) []byte {
		c, err := client.LoadContainer(ctx, id)
		if err != nil {
			return nil
		}
		s, err := c.Spec(ctx)
		if err != nil {
			return nil
		}
		b, _ := json.Marshal(s)
		return b
	}
	pv.Rows = append(pv.Rows, RowView{Name: "POD", PID: int(st.Pause.PID), Spec: spec(st.Pause.ID), Sandbox: true})
	for _, c := range st.Init {
		pv.Rows = append(pv.Rows, RowView{Name: c.Name, Spec: spec(c.ID), Mounts: mountPaths(specContainer(pod, c.Name))})
	}
	for _, c := range st.Containers {
		pv.Rows = append(pv.Rows, RowView{Name: c.Name, PID: int(c.PID), Spec: spec(c.ID), Mounts: mountPaths(specContainer(pod, c.Name))})
	}
	return pv, nil
}

// mountPaths are the container's volume mount paths, as the pod spec lists them.
func mountPaths(c corev1.Container) []string {
	var out []string
	for _, m := range c.VolumeMounts {
		out = append(out, m.MountPath)
	}
	return out
}

// specContainer is the init or app container of the pod spec named name.
func specContainer(pod *corev1.Pod, name string) corev1.Container {
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if c.Name == name {
			return c
		}
	}
	return corev1.Container{}
}
