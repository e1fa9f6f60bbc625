package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// Options say which cluster to run scenarios on and how.
type Options struct {
	Kubeconfig string // path; "" = $KUBECONFIG or ~/.kube/config, as kubectl
	Context    string // "" = the kubeconfig's current context
	// Namespace to run in; "" = a new namespace per scenario (deleted at
	// the end). A given namespace is created when missing (and then
	// deleted), else kept: only the scenario's own objects are deleted.
	Namespace string
	// Node binds every pod to this node with spec.nodeName; "" = only when
	// the cluster has no scheduler and a single node (make cluster-up's).
	Node string
	// PullPolicy for every container; "" = IfNotPresent: the scenarios use
	// podsim's own images (stand-ins), which must be in the node's
	// containerd already (make cluster-up imports them).
	PullPolicy corev1.PullPolicy
	// Timeout for a manifest's pods to come up; 0 = 3 minutes.
	Timeout time.Duration
	// NodeImage runs the node-reader pod; "" = busybox (podsim's).
	NodeImage string
}

// Cluster is a connection to a Kubernetes API server and what podsim
// learned about the cluster once.
type Cluster struct {
	opts    Options
	cfg     *rest.Config
	cs      kubernetes.Interface
	dyn     dynamic.Interface
	mapper  meta.RESTMapper
	context string
	node    string // pods are bound to it ("" = the scheduler decides)
	nodes   []string
	dns     bool // kube-system/kube-dns exists
	rt      runtimeInfo
	notes   []string
}

// runtimeInfo is what the API says about the container runtime of the
// node the scenarios' pods run on.
type runtimeInfo struct {
	node        string
	version     string // status.nodeInfo.containerRuntimeVersion
	handler     []corev1.NodeRuntimeHandler
	gvisorClass bool // a RuntimeClass named gvisor exists
}

// userNamespaces: the default runtime handler says it supports them.
func (r runtimeInfo) userNamespaces() bool {
	for _, h := range r.handler {
		if h.Name == "" && h.Features != nil && h.Features.UserNamespaces != nil && *h.Features.UserNamespaces {
			return true
		}
	}
	return false
}

// containerd1 says, for a containerd 1.x node, why it reports nothing:
// its CRI has no runtime handler features (user namespaces came with
// containerd 2.0's CRI).
func (r runtimeInfo) containerd1() string {
	if strings.HasPrefix(r.version, "containerd://1.") {
		return "; containerd 1.x's CRI reports no runtime handlers and has no user namespaces (containerd 2.0's has)"
	}
	return ""
}

// handlers lists the runtime handlers the node reports, for a reason.
func (r runtimeInfo) handlers() string {
	if len(r.handler) == 0 {
		return "none reported"
	}
	var names []string
	for _, h := range r.handler {
		n := h.Name
		if n == "" {
			n = "(default)"
		}
		if h.Features != nil && h.Features.UserNamespaces != nil {
			n += fmt.Sprintf(" userNamespaces=%v", *h.Features.UserNamespaces)
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

// Connect reads the kubeconfig like kubectl does and looks at the cluster:
// its nodes, whether a scheduler and a DNS Service are there.
func Connect(ctx context.Context, o Options) (*Cluster, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.Context})
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("reading kubeconfig %s: %w", o.Kubeconfig, err)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w (check --kubeconfig and --context)", o.Kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	c := &Cluster{opts: o, cfg: cfg, context: o.Context}
	if c.context == "" {
		c.context = raw.CurrentContext
	}
	if c.cs, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, err
	}
	c.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.cs.Discovery()))
	if c.opts.Timeout == 0 {
		c.opts.Timeout = 3 * time.Minute
	}
	if c.opts.PullPolicy == "" {
		c.opts.PullPolicy = corev1.PullIfNotPresent
	}
	if c.opts.NodeImage == "" {
		c.opts.NodeImage = "busybox"
	}
	return c, c.look(ctx)
}

// look learns the nodes, whether pods need binding and whether Service
// names resolve.
func (c *Cluster) look(ctx context.Context) error {
	nodes, err := c.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing the nodes of cluster %q at %s: %w", c.context, c.cfg.Host, err)
	}
	for _, n := range nodes.Items {
		c.nodes = append(c.nodes, n.Name)
	}
	if len(c.nodes) == 0 {
		return fmt.Errorf("cluster %q has no nodes", c.context)
	}
	c.node = c.opts.Node
	if c.node == "" && len(c.nodes) == 1 && !c.hasScheduler(ctx) {
		c.node = c.nodes[0]
		c.notes = append(c.notes, fmt.Sprintf("no kube-scheduler seen (no kube-system/kube-scheduler lease or pod): pods are bound to the only node, %s, with spec.nodeName", c.node))
	}
	// The runtime of the pods' node (or the first node's).
	for _, n := range nodes.Items {
		if n.Name == c.node || (c.node == "" && c.rt.node == "") {
			c.rt = runtimeInfo{node: n.Name, version: n.Status.NodeInfo.ContainerRuntimeVersion, handler: n.Status.RuntimeHandlers}
		}
	}
	_, err = c.cs.NodeV1().RuntimeClasses().Get(ctx, "gvisor", metav1.GetOptions{})
	c.rt.gvisorClass = err == nil // not found, or not ours to see: the scenario says so
	_, err = c.cs.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	c.dns = err == nil
	if !c.dns && !apierrors.IsNotFound(err) {
		return fmt.Errorf("looking for the cluster's DNS Service: %w", err)
	}
	return nil
}

// hasScheduler looks for the traces a running kube-scheduler leaves: its
// leader-election Lease, or its static pod (kubeadm, kind).
func (c *Cluster) hasScheduler(ctx context.Context) bool {
	if _, err := c.cs.CoordinationV1().Leases("kube-system").Get(ctx, "kube-scheduler", metav1.GetOptions{}); err == nil {
		return true
	}
	pods, err := c.cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "component=kube-scheduler"})
	return err == nil && len(pods.Items) > 0
}

// Name is "cluster CONTEXT".
func (c *Cluster) Name() string { return "cluster " + c.context }

// Notes are what podsim decided about the cluster, for the output.
func (c *Cluster) Notes() []string { return c.notes }
