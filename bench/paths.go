package bench

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/podsim/podsim/sandbox/runtime"
)

// Layout is where the bench keeps the reference systems' files. Everything
// lives below Run and State, which the bench removes again at the end.
type Layout struct {
	Run   string // volatile: sockets, containerd state, runc state (/run/podsim-bench)
	State string // persistent while the bench runs: containerd root, podman storage (/var/lib/podsim-bench)
}

// DefaultLayout is the layout a root bench uses.
func DefaultLayout() Layout {
	return Layout{Run: "/run/podsim-bench", State: "/var/lib/podsim-bench"}
}

// Names of the kernel objects the reference systems make, chosen so they
// never collide with podsim's own (podsim0, 10.222.0.0/16, /podsim cgroups).
const (
	CRIBridge      = "podsimbench0"
	CRISubnet      = "10.223.0.0/16"
	PodmanBridge   = "podsimpm0"
	PodmanSubnet   = "10.224.0.0/16"
	PodmanNetwork  = "podsimbenchpm"
	CgroupParent   = "/podsimbench"       // CRI pods: /podsimbench/pod<uid>/<container>
	FloorCgroup    = "/podsimbench-floor" // runc floor containers
	FloorNetNSName = "podsimbench-floor"
	// BenchNamespace is the Kubernetes namespace of podsim's bench pods.
	BenchNamespace = "podsim-bench"
)

func (l Layout) criDir() string          { return filepath.Join(l.Run, "containerd") }
func (l Layout) criRoot() string         { return filepath.Join(l.State, "containerd") }
func (l Layout) criSocket() string       { return filepath.Join(l.criDir(), "containerd.sock") }
func (l Layout) criConfig() string       { return filepath.Join(l.criDir(), "config.toml") }
func (l Layout) criLog() string          { return filepath.Join(l.criRoot(), "containerd.log") }
func (l Layout) cniConfDir() string      { return filepath.Join(l.State, "cni", "net.d") }
func (l Layout) cniIPAMDir() string      { return filepath.Join(l.State, "cni", "networks") }
func (l Layout) crictlConfig() string    { return filepath.Join(l.Run, "crictl.yaml") }
func (l Layout) kubeletDir() string      { return filepath.Join(l.State, "kubelet") } // pods/<uid>/...
func (l Layout) kubeletLogs() string     { return filepath.Join(l.State, "logs", "pods") }
func (l Layout) criPodFiles() string     { return filepath.Join(l.Run, "cri-pods") }
func (l Layout) podmanState() string     { return filepath.Join(l.State, "podman") }
func (l Layout) podmanRun() string       { return filepath.Join(l.Run, "podman") }
func (l Layout) podmanManifests() string { return filepath.Join(l.Run, "podman-pods") }
func (l Layout) floorRootfs() string     { return filepath.Join(l.State, "floor", "rootfs") }
func (l Layout) floorBundles() string    { return filepath.Join(l.Run, "floor", "bundles") }
func (l Layout) runcRoot() string        { return filepath.Join(l.Run, "runc") }
func (l Layout) podsimCLIFiles() string  { return filepath.Join(l.Run, "podsim-cli") }

// RenderCRIConfig renders the config of the bench's containerd: the CRI
// plugin on, its own root, state and sockets, podsim's pause image as the
// sandbox image, and a CNI configuration directory of its own.
//
//   - restrict_oom_score_adj: CRI gives sandboxes oom_score_adj -998 and
//     Guaranteed containers -997; lowering a score needs CAP_SYS_RESOURCE,
//     which these hosts lack, so CRI must clamp to containerd's own score.
//   - disable_apparmor: no AppArmor on these hosts; without it CRI would
//     still ask runc for its default profile when the kernel has one.
//   - no hugetlb controller on cgroup v1 hybrid hosts here.
func RenderCRIConfig(l Layout, cniBinDirs []string, sandboxImage string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	q := runtime.TOMLString
	w("# Written by `podsim bench` for its reference containerd (CRI plugin on).")
	w("version = 2")
	w("root = %s", q(l.criRoot()))
	w("state = %s", q(filepath.Join(l.criDir(), "state")))
	w("oom_score = 0")
	w("")
	w("[grpc]")
	w("  address = %s", q(l.criSocket()))
	w("[ttrpc]")
	w("  address = %s", q(l.criSocket()+".ttrpc"))
	w("")
	w("[plugins]")
	w("  [plugins.%s]", q("io.containerd.internal.v1.opt"))
	w("    path = %s", q(filepath.Join(l.criRoot(), "opt")))
	w("  [plugins.%s]", q("io.containerd.grpc.v1.cri"))
	w("    sandbox_image = %s", q(sandboxImage))
	w("    restrict_oom_score_adj = true")
	w("    disable_apparmor = true")
	w("    enable_selinux = false")
	w("    tolerate_missing_hugetlb_controller = true")
	w("    disable_hugetlb_controller = true")
	w("    stream_server_address = %s", q("127.0.0.1"))
	w("    [plugins.%s.containerd]", q("io.containerd.grpc.v1.cri"))
	w("      snapshotter = %s", q("overlayfs"))
	w("      default_runtime_name = %s", q("runc"))
	w("      [plugins.%s.containerd.runtimes.runc]", q("io.containerd.grpc.v1.cri"))
	w("        runtime_type = %s", q("io.containerd.runc.v2"))
	w("        [plugins.%s.containerd.runtimes.runc.options]", q("io.containerd.grpc.v1.cri"))
	w("          SystemdCgroup = false")
	w("    [plugins.%s.cni]", q("io.containerd.grpc.v1.cri"))
	bin := "/usr/lib/cni"
	if len(cniBinDirs) > 0 {
		bin = cniBinDirs[0]
	}
	w("      bin_dir = %s", q(bin))
	w("      conf_dir = %s", q(l.cniConfDir()))
	w("      max_conf_num = 1")
	return b.String()
}

// RenderCNIConf is the CRI containerd's pod network: podsim's network with
// another bridge and subnet. isGateway and ipMasq stay off, as in podsim's
// own: the bridge plugin turns on IP forwarding only for a gateway, and
// nothing may leave the machine.
func RenderCNIConf(name, bridge, subnet, ipamDir, cniVersion string) string {
	return fmt.Sprintf(`{
  "cniVersion": %q,
  "name": %q,
  "plugins": [
    {
      "type": "bridge",
      "bridge": %q,
      "isGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": %q}]],
        "dataDir": %q
      }
    }
  ]
}
`, cniVersion, name, bridge, subnet, ipamDir)
}

// RenderCrictlConfig points crictl at the bench's containerd.
func RenderCrictlConfig(socket string) string {
	return fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 60\ndebug: false\npull-image-on-create: false\n", socket, socket)
}

// RenderPodmanConf is podman's containers.conf for the bench: cgroupfs (no
// systemd here), runc like podsim and CRI, rlimits within this host's hard
// limits (podman's defaults, 1048576, need CAP_SYS_RESOURCE, and runc then
// fails with "error setting rlimits"), and a default network that has no
// gateway and no NAT, so nothing can reach outside even by mistake.
func RenderPodmanConf(l Layout, nofile, nproc uint64) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	q := runtime.TOMLString
	w("# Written by `podsim bench` (CONTAINERS_CONF); nothing system-wide is changed.")
	w("[containers]")
	w("default_ulimits = [%s, %s]", q(fmt.Sprintf("nofile=%d:%d", nofile, nofile)), q(fmt.Sprintf("nproc=%d:%d", nproc, nproc)))
	w("log_driver = %s", q("k8s-file"))
	w("[engine]")
	w("cgroup_manager = %s", q("cgroupfs"))
	w("events_logger = %s", q("file"))
	w("events_logfile_path = %s", q(filepath.Join(l.podmanRun(), "events.log")))
	w("runtime = %s", q("runc"))
	w("tmp_dir = %s", q(filepath.Join(l.podmanRun(), "tmp")))
	w("static_dir = %s", q(filepath.Join(l.podmanState(), "libpod")))
	w("volume_path = %s", q(filepath.Join(l.podmanState(), "volumes")))
	w("[network]")
	w("network_backend = %s", q("cni"))
	w("network_config_dir = %s", q(filepath.Join(l.podmanState(), "net.d")))
	w("default_network = %s", q(PodmanNetwork))
	w("default_subnet = %s", q(PodmanSubnet))
	return b.String()
}

// RenderPodmanStorage is podman's storage.conf (CONTAINERS_STORAGE_CONF).
func RenderPodmanStorage(l Layout) string {
	return fmt.Sprintf("[storage]\ndriver = \"overlay\"\ngraphroot = %s\nrunroot = %s\n",
		runtime.TOMLString(filepath.Join(l.podmanState(), "storage")), runtime.TOMLString(filepath.Join(l.podmanRun(), "runroot")))
}
