package sandbox

import (
	"context"
	"fmt"
	"net"
	"os"
)

// Network wires a pinned network namespace into the pod network. It is the
// small interface the sandbox needs; the CNI implementation is in
// network_linux.go.
type Network interface {
	// Setup runs CNI ADD for the pod and returns what the plugins made.
	Setup(ctx context.Context, p NetworkPod) (*NetworkResult, error)
	// Teardown runs CNI DEL with the configuration ADD used. It must be
	// idempotent: a missing namespace or a second call is not an error.
	Teardown(ctx context.Context, p NetworkPod) error
}

// NetworkPod identifies the pod to the CNI plugins (CNI_CONTAINERID,
// CNI_NETNS and the K8S_POD_* args kubelet passes).
type NetworkPod struct {
	ID, Name, Namespace, UID string
	NetNSPath                string
}

// NetworkResult is what the pod got: its IP, the MAC of eth0, and the host
// side of the veth pair plugged into the bridge.
type NetworkResult struct {
	IP      net.IP
	MAC     string
	HostIf  string
	Bridge  string
	Gateway net.IP
}

// NetworkConfig configures podsim's pod network.
type NetworkConfig struct {
	Bridge  string   // bridge name, default podsim0
	Subnet  string   // pod range, default 10.222.0.0/16 (not podman's 10.88/16, not docker0's 172.17/16)
	BinDirs []string // where the CNI plugin binaries are
}

// DefaultSubnet is private and clear of podman (10.88.0.0/16, 10.89.x) and
// docker (172.17.0.0/16). Override with PODSIM_POD_SUBNET.
const DefaultSubnet = "10.222.0.0/16"

// DefaultNetworkConfig reads PODSIM_POD_SUBNET and finds the plugin dirs.
func DefaultNetworkConfig() NetworkConfig {
	c := NetworkConfig{Bridge: "podsim0", Subnet: DefaultSubnet}
	if s := os.Getenv("PODSIM_POD_SUBNET"); s != "" {
		c.Subnet = s
	}
	for _, d := range []string{"/usr/lib/cni", "/opt/cni/bin", "/usr/libexec/cni"} {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			c.BinDirs = append(c.BinDirs, d)
		}
	}
	return c
}

// Validate checks the subnet is a private IPv4 range.
func (c NetworkConfig) Validate() error {
	_, n, err := net.ParseCIDR(c.Subnet)
	if err != nil {
		return fmt.Errorf("pod subnet %q is not a CIDR (set PODSIM_POD_SUBNET like 10.222.0.0/16): %w", c.Subnet, err)
	}
	if n.IP.To4() == nil || !n.IP.IsPrivate() {
		return fmt.Errorf("pod subnet %q must be a private IPv4 range (10/8, 172.16/12, 192.168/16)", c.Subnet)
	}
	if ones, _ := n.Mask.Size(); ones > 28 {
		return fmt.Errorf("pod subnet %q is too small: use at most /28", c.Subnet)
	}
	return nil
}
