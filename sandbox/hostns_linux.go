package sandbox

import (
	"fmt"
	"net"
	"time"

	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/namespaces"
)

// useHostNetwork is step 2 of RunPodSandbox for a hostNetwork pod, as CRI
// does it for NamespaceMode NODE: no network namespace is made or pinned
// and no CNI plugin runs (the host's network configuration is not touched);
// the pause and every container stay in the host's network namespace, and
// the pod's IP is the node's, as kubelet reports it.
func (m *Manager) useHostNetwork(rec *Record) error {
	t := time.Now()
	ip, err := NodeIP()
	if err != nil {
		return err
	}
	rec.IP = ip.String()
	if err := m.saveRecord(rec); err != nil {
		return err
	}
	host, _ := namespaces.Read("/proc/self/ns/net", "net")
	m.emitEvent(Event{Pod: rec.Pod.Name, Step: "netns", Concept: "host network namespace (hostNetwork: true): no pin, no CNI", Object: "host",
		Detail: fmt.Sprintf("no network namespace of its own: the pod stays in the host's %s and UTS namespace (hostNetwork: true); no CNI ADD; pod IP = the node's %s; hostname = the node's %s", host, ip, m.node.Hostname),
		Attrs:  map[string]string{"netns": host.String(), "host": "hostNetwork: true", "ip": rec.IP}}, t)
	return nil
}

// NodeIP is the address kubelet reports as the node's (and so as every
// hostNetwork pod's IP): the first IPv4 address of the interface holding
// the default route, else the first global IPv4 address of an interface
// that is up. Read with netlink, from the host's network namespace.
func NodeIP() (net.IP, error) {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("reading the host's routes: %w", err)
	}
	for _, r := range routes {
		if r.Dst != nil && !(r.Dst.IP.IsUnspecified() && r.Dst.Mask != nil && isZeroMask(r.Dst.Mask)) {
			continue
		}
		link, err := netlink.LinkByIndex(r.LinkIndex)
		if err != nil {
			continue
		}
		if ip := firstIPv4(link); ip != nil {
			return ip, nil
		}
	}
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("listing the host's interfaces: %w", err)
	}
	for _, l := range links {
		if l.Attrs().Flags&net.FlagUp == 0 || l.Attrs().Flags&net.FlagLoopback != 0 {
			continue
		}
		if ip := firstIPv4(l); ip != nil {
			return ip, nil
		}
	}
	return nil, fmt.Errorf("%w: the host has no non-loopback IPv4 address to give a hostNetwork pod", ErrMissingTools)
}

func isZeroMask(m net.IPMask) bool {
	ones, _ := m.Size()
	return ones == 0
}

func firstIPv4(l netlink.Link) net.IP {
	addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if a.IP.To4() != nil && !a.IP.IsLoopback() && a.IP.IsGlobalUnicast() {
			return a.IP
		}
	}
	return nil
}

// nsRoles sorts a process's namespaces for the trace: those it shares with
// the pause (joined), those that are the host's (with the pod field that
// asked for it), and its own; other is a namespace it joined elsewhere (an
// ephemeral container's --target), named by otherName.
func nsRoles(pod *corev1.Pod, own, pause, host map[string]namespaces.ID, other map[string]namespaces.ID, otherName string) (joined, mine, hosts []string) {
	for _, t := range []string{"net", "ipc", "uts", "pid", "mnt"} {
		id, ok := own[t]
		if !ok {
			continue
		}
		switch {
		case id == host[t]:
			why := HostReason(&pod.Spec, t)
			if why == "" {
				why = "not isolated"
			}
			hosts = append(hosts, fmt.Sprintf("%s host (%s)", id, why))
		case pause != nil && id == pause[t]:
			joined = append(joined, id.String())
		case other != nil && id == other[t]:
			joined = append(joined, fmt.Sprintf("%s (%s's)", id, otherName))
		default:
			mine = append(mine, id.String())
		}
	}
	return joined, mine, hosts
}
