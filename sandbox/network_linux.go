package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/containernetworking/cni/libcni"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"

	"github.com/podsim/podsim/namespaces"
)

// cniNetwork runs Debian's CNI plugins through libcni, the library
// containerd's CRI plugin uses (via go-cni). Two network lists, as CRI has:
// loopback (brings up lo inside the pod) and the pod network, a Linux bridge
// with host-local IPAM.
type cniNetwork struct {
	cfg      NetworkConfig
	cni      *libcni.CNIConfig
	loopback *libcni.NetworkConfigList
	podNet   *libcni.NetworkConfigList
}

var _ Network = (*cniNetwork)(nil)

// NewCNINetwork parses the CNI configuration once; it is reused for every pod.
func NewCNINetwork(cfg NetworkConfig, stateDir string) (*cniNetwork, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.BinDirs) == 0 {
		return nil, fmt.Errorf("%w: CNI plugins not found in /usr/lib/cni or /opt/cni/bin: run 'sudo apt-get install containernetworking-plugins'", ErrMissingTools)
	}
	for _, p := range []string{"bridge", "host-local", "loopback"} {
		if _, err := findPlugin(cfg.BinDirs, p); err != nil {
			return nil, err
		}
	}
	lo, err := libcni.ConfListFromBytes([]byte(`{"cniVersion":"1.0.0","name":"podsim-loopback","plugins":[{"type":"loopback"}]}`))
	if err != nil {
		return nil, fmt.Errorf("loopback CNI config: %w", err)
	}
	conf := podNetworkConf(cfg, filepath.Join(stateDir, "networks"))
	podNet, err := libcni.ConfListFromBytes(conf)
	if err != nil {
		return nil, fmt.Errorf("pod CNI config: %w", err)
	}
	if err := os.MkdirAll(stateDir, 0o700); err == nil {
		// Written for people to read (and `ip`-level debugging); podsim
		// itself uses the parsed copy and libcni's cache.
		_ = os.WriteFile(filepath.Join(stateDir, "podsim.conflist"), conf, 0o644)
	}
	return &cniNetwork{
		cfg:      cfg,
		cni:      libcni.NewCNIConfigWithCacheDir(cfg.BinDirs, filepath.Join(stateDir, "cache"), nil),
		loopback: lo,
		podNet:   podNet,
	}, nil
}

// podNetworkConf renders the bridge network. isGateway and ipMasq stay off:
// the bridge plugin turns on net.ipv4.ip_forward when it acts as a gateway,
// and masquerading would route pods to the outside world. Pods reach each
// other over the bridge (one L2 segment); nothing leaves the machine.
func podNetworkConf(cfg NetworkConfig, ipamDir string) []byte {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "podsim",
		"plugins": []any{map[string]any{
			"type":        "bridge",
			"bridge":      cfg.Bridge,
			"isGateway":   false,
			"ipMasq":      false,
			"hairpinMode": true,
			"ipam": map[string]any{
				"type":    "host-local",
				"ranges":  [][]map[string]string{{{"subnet": cfg.Subnet}}},
				"dataDir": ipamDir,
			},
		}},
	}
	b, _ := json.MarshalIndent(conf, "", "  ")
	return b
}

func runtimeConf(p NetworkPod, ifName string) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{
		ContainerID: p.ID,
		NetNS:       p.NetNSPath,
		IfName:      ifName,
		Args: [][2]string{
			{"IgnoreUnknown", "1"},
			{"K8S_POD_NAMESPACE", p.Namespace},
			{"K8S_POD_NAME", p.Name},
			{"K8S_POD_INFRA_CONTAINER_ID", p.ID},
			{"K8S_POD_UID", p.UID},
		},
	}
}

func (n *cniNetwork) Setup(ctx context.Context, p NetworkPod) (*NetworkResult, error) {
	if _, err := n.cni.AddNetworkList(ctx, n.loopback, runtimeConf(p, "lo")); err != nil {
		return nil, fmt.Errorf("CNI ADD loopback for pod %s: %w", p.Name, err)
	}
	res, err := n.cni.AddNetworkList(ctx, n.podNet, runtimeConf(p, "eth0"))
	if err != nil {
		return nil, fmt.Errorf("CNI ADD bridge %s for pod %s: %w", n.cfg.Bridge, p.Name, err)
	}
	r, err := current.NewResultFromResult(res)
	if err != nil {
		return nil, fmt.Errorf("reading CNI result for pod %s: %w", p.Name, err)
	}
	out := &NetworkResult{Bridge: n.cfg.Bridge}
	for _, ip := range r.IPs {
		if ip.Address.IP.To4() != nil {
			out.IP = ip.Address.IP
			out.Gateway = ip.Gateway
			break
		}
	}
	for _, itf := range r.Interfaces {
		switch {
		case itf.Sandbox != "" && itf.Name == "eth0":
			out.MAC = itf.Mac
		case itf.Sandbox == "" && itf.Name != n.cfg.Bridge:
			out.HostIf = itf.Name
		}
	}
	if out.IP == nil {
		return nil, fmt.Errorf("CNI gave pod %s no IPv4 address (is subnet %s exhausted?)", p.Name, n.cfg.Subnet)
	}
	if err := ensureBridgeAddr(n.cfg.Bridge, n.cfg.Subnet); err != nil {
		return nil, err
	}
	return out, nil
}

// ensureBridgeAddr gives the bridge the subnet's first address (host-local
// never hands it to a pod), as a node's cni0 has: the host can then reach
// pod IPs over a connected route, and pods reach the node. This is not a
// gateway: pods get no default route, nothing is forwarded or NATed, and
// net.ipv4.ip_forward is left as it is.
func ensureBridgeAddr(bridge, subnet string) error {
	_, n, err := net.ParseCIDR(subnet)
	if err != nil {
		return err
	}
	ip := make(net.IP, len(n.IP.To4()))
	copy(ip, n.IP.To4())
	ip[3]++
	br, err := netlink.LinkByName(bridge)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", bridge, err)
	}
	want := &netlink.Addr{IPNet: &net.IPNet{IP: ip, Mask: n.Mask}}
	addrs, err := netlink.AddrList(br, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("addresses of %s: %w", bridge, err)
	}
	for _, a := range addrs {
		if a.IP.Equal(ip) {
			return nil
		}
	}
	if err := netlink.AddrAdd(br, want); err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("adding %s to bridge %s: %w", want.IPNet, bridge, err)
	}
	return nil
}

// Teardown runs DEL for both lists. DEL uses the config libcni cached at ADD
// (so a changed subnet does not strand addresses), and the plugins release
// the IP even when the namespace is already gone.
func (n *cniNetwork) Teardown(ctx context.Context, p NetworkPod) error {
	var errs []error
	for _, l := range []struct {
		list   *libcni.NetworkConfigList
		ifName string
	}{{n.podNet, "eth0"}, {n.loopback, "lo"}} {
		rt := runtimeConf(p, l.ifName)
		list := l.list
		if cached, _, err := n.cni.GetNetworkListCachedConfig(list, rt); err == nil && cached != nil {
			if cl, err := libcni.ConfListFromBytes(cached); err == nil {
				list = cl
			}
		}
		if !namespaces.IsPinned(p.NetNSPath) {
			rt.NetNS = "" // namespace gone (or a pin file left unmounted): plugins still release IPAM state
		}
		if err := n.cni.DelNetworkList(ctx, list, rt); err != nil && !strings.Contains(err.Error(), "no such file") {
			errs = append(errs, fmt.Errorf("CNI DEL %s for pod %s: %w", list.Name, p.Name, err))
		}
	}
	return errors.Join(errs...)
}

// RemoveBridgeIfUnused deletes a bridge once no veth is plugged into it,
// so that gc leaves the host as it was; it reports whether it deleted one.
func RemoveBridgeIfUnused(name string) (bool, error) {
	br, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return false, nil
		}
		return false, fmt.Errorf("looking up bridge %s: %w", name, err)
	}
	links, err := netlink.LinkList()
	if err != nil {
		return false, fmt.Errorf("listing links: %w", err)
	}
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			return false, nil // still in use
		}
	}
	if err := netlink.LinkDel(br); err != nil {
		return false, fmt.Errorf("deleting bridge %s: %w", name, err)
	}
	return true, nil
}

func findPlugin(dirs []string, name string) (string, error) {
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: CNI plugin %q not found in %v: run 'sudo apt-get install containernetworking-plugins'", ErrMissingTools, name, dirs)
}
