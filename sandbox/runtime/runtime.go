// Package runtime finds the containerd daemon podsim talks to, and starts
// podsim's own ("embedded") containerd when the host has none.
//
// Kubernetes nodes run containerd as a system service (systemd starts it and
// the kubelet talks to /run/containerd/containerd.sock). podsim is a teaching
// tool that must also work on machines where nothing starts daemons, so it
// resolves the daemon in this order:
//
//  1. an explicit address (--containerd-address or PODSIM_CONTAINERD_ADDRESS);
//  2. the system socket /run/containerd/containerd.sock, if a daemon answers;
//  3. podsim's own containerd, with its own root, state and sockets under
//     /var/lib/podsim and /run/podsim, started on first use and left running
//     for the next podsim commands (`podsim system stop-containerd` stops it).
//
// The embedded containerd runs under a tiny supervisor process (podsim
// re-executed as `podsim system supervise-containerd`). The supervisor is a
// "child subreaper": runc-v2 shims daemonize (their parent exits), and the
// kernel re-parents such orphans to the nearest ancestor that asked to be a
// subreaper instead of to PID 1. The supervisor reaps them the moment they
// exit, so dead shims never linger as zombies, even on hosts whose PID 1 is
// slow to reap (as inside many containers and CI sandboxes).
package runtime

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	containerd "github.com/containerd/containerd"
)

// Namespace is the containerd namespace of podsim's own objects. containerd
// namespaces are not kernel namespaces: they only partition containerd's
// metadata (images, containers, snapshots), so podsim's objects do not mix
// with Docker's ("moby") or the kubelet's ("k8s.io") on a shared daemon.
const Namespace = "podsim"

// RuntimeName is the containerd runtime (shim) podsim's containers use:
// containerd-shim-runc-v2, one shim per container (or per pod, if grouped).
// Without the CRI plugin containerd has no daemon-side "default runtime"
// setting: the client names the runtime of every container, so Connect sets it
// as the client's default.
const RuntimeName = "io.containerd.runc.v2"

// Snapshotter is the snapshotter podsim uses to unpack image layers and build
// container root filesystems (stacked overlay mounts).
const Snapshotter = "overlayfs"

// EnvAddress is the environment variable naming an explicit containerd socket
// (the same as the --containerd-address flag; the command layer reads it).
const EnvAddress = "PODSIM_CONTAINERD_ADDRESS"

// SystemSocket is where a containerd started by the OS (systemd, apt's
// service, Docker) listens.
const SystemSocket = "/run/containerd/containerd.sock"

// SuperviseArgs are the arguments after the podsim binary that run the
// supervisor: `podsim system supervise-containerd --config <path>`.
var SuperviseArgs = []string{"system", "supervise-containerd"}

// Default directories of podsim's own containerd.
const (
	DefaultStateDir = "/var/lib/podsim"
	DefaultRunDir   = "/run/podsim"
)

// ErrNotLinux is returned on platforms without containerd's Linux runtime.
var ErrNotLinux = errors.New("podsim needs Linux: containers are built from Linux kernel features (namespaces, cgroups, overlayfs)")

// errNotInstalled is the message when no containerd binary is on PATH.
var errNotInstalled = errors.New("containerd is not installed: run 'sudo apt-get install containerd runc' (or 'sudo make deps')")

// Options tell Connect where to look for containerd and where podsim's own
// containerd keeps its files.
type Options struct {
	Address  string       // explicit address (--containerd-address / PODSIM_CONTAINERD_ADDRESS); "" = auto
	StateDir string       // default /var/lib/podsim (own containerd root: StateDir/containerd)
	RunDir   string       // default /run/podsim (own containerd state, sockets, pid files: RunDir/containerd)
	SelfExe  string       // path of the podsim binary, re-executed as the supervisor; default os.Executable()
	Progress func(string) // may be nil: short human lines about what Connect does

	// SystemSocket overrides the system socket probed in step 2 ("" means
	// /run/containerd/containerd.sock). Tests point it at a path that does not
	// exist to force the embedded daemon without touching the host's.
	SystemSocket string
}

// Info describes the daemon Connect found.
type Info struct {
	Address string
	Kind    string // "explicit" | "system" | "embedded"
	PID     int    // supervisor pid when embedded and known, else 0
	Version string // daemon version from client.Version
	Log     string // log file for embedded
}

// Kinds of daemon in Info.Kind.
const (
	KindExplicit = "explicit"
	KindSystem   = "system"
	KindEmbedded = "embedded"
)

// HostLimits describes what this host forbids (for `podsim doctor`).
type HostLimits struct {
	CapSysResource bool   // CAP_SYS_RESOURCE in the effective set (needed to lower oom_score_adj or raise hard rlimits)
	OOMScoreAdj    int    // this process's /proc/self/oom_score_adj
	NoFileSoft     uint64 // RLIMIT_NOFILE soft limit (the Go runtime raises it to the hard limit at start-up)
	NoFileHard     uint64 // RLIMIT_NOFILE hard limit
}

// paths are the files of podsim's own containerd, derived from Options.
type paths struct {
	Root       string // containerd "root": persistent data (content store, snapshots, metadata.db)
	State      string // containerd "state": runtime data (task bundles) that must not survive a reboot
	Dir        string // RunDir/containerd: sockets, pid files, config, lock
	Socket     string // gRPC API socket (what clients dial)
	TTRPC      string // ttrpc socket (shims call back into containerd on it)
	Config     string // config.toml written at every start
	PIDFile    string // supervisor pid
	CtrdPID    string // containerd's own pid, written by the supervisor
	Lock       string // flock target serialising concurrent starts
	Log        string // stdout/stderr of the supervisor and containerd
	OptDir     string // the "opt" plugin's directory (default /opt/containerd)
	SystemSock string // system socket to probe
}

func (o Options) paths() paths {
	state, run := o.StateDir, o.RunDir
	if state == "" {
		state = DefaultStateDir
	}
	if run == "" {
		run = DefaultRunDir
	}
	// Absolute paths: they are written into the config and compared with
	// /proc/PID/cmdline, and the supervisor runs with a different cwd.
	if a, err := filepath.Abs(state); err == nil {
		state = a
	}
	if a, err := filepath.Abs(run); err == nil {
		run = a
	}
	dir := filepath.Join(run, "containerd")
	root := filepath.Join(state, "containerd")
	sys := o.SystemSocket
	if sys == "" {
		sys = SystemSocket
	}
	return paths{
		Root:       root,
		State:      filepath.Join(dir, "state"),
		Dir:        dir,
		Socket:     filepath.Join(dir, "containerd.sock"),
		TTRPC:      filepath.Join(dir, "containerd.sock.ttrpc"),
		Config:     filepath.Join(dir, "config.toml"),
		PIDFile:    filepath.Join(dir, "supervisor.pid"),
		CtrdPID:    filepath.Join(dir, "containerd.pid"),
		Lock:       filepath.Join(dir, "start.lock"),
		Log:        filepath.Join(root, "containerd.log"),
		OptDir:     filepath.Join(root, "opt"),
		SystemSock: sys,
	}
}

// renderConfig renders the containerd config (format version 2, understood by
// containerd 1.5 to 1.7) of podsim's own daemon. Key names follow
// services/server/config.Config in containerd's source.
func renderConfig(p paths) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# Written by podsim every time it starts its own containerd; edits are overwritten.")
	w("version = 2")
	w("")
	w("# root keeps what must survive a reboot (images, snapshots, metadata.db);")
	w("# state keeps runtime data (task bundles) on tmpfs-like /run.")
	w("root = %s", TOMLString(p.Root))
	w("state = %s", TOMLString(p.State))
	w("")
	w("# 0 means \"leave containerd's OOM score alone\". A negative score (what")
	w("# systemd units usually request) needs CAP_SYS_RESOURCE, which podsim may lack.")
	w("oom_score = 0")
	w("")
	w("# podsim drives containerd through its native API, not through the")
	w("# Kubernetes CRI; skipping the CRI plugin makes start-up fast and keeps")
	w("# it from loading CNI configuration of its own.")
	w("disabled_plugins = [%s]", TOMLString("io.containerd.grpc.v1.cri"))
	w("")
	w("[grpc]")
	w("  address = %s", TOMLString(p.Socket))
	w("")
	w("# The second socket: shims report task events back over ttrpc, a lighter gRPC.")
	w("[ttrpc]")
	w("  address = %s", TOMLString(p.TTRPC))
	w("")
	w("[plugins]")
	w("  # Keep the opt plugin's directory inside podsim's root, not /opt/containerd.")
	w("  [plugins.%s]", TOMLString("io.containerd.internal.v1.opt"))
	w("    path = %s", TOMLString(p.OptDir))
	w("")
	w("  # overlayfs snapshotter: image layers become lowerdirs of an overlay mount;")
	w("  # an empty root_path means <root>/io.containerd.snapshotter.v1.overlayfs.")
	w("  [plugins.%s]", TOMLString("io.containerd.snapshotter.v1."+Snapshotter))
	w("    root_path = \"\"")
	w("")
	w("# Runtime: without the CRI plugin there is no daemon-side default runtime;")
	w("# podsim's client asks for %s (containerd-shim-runc-v2 + runc)", RuntimeName)
	w("# for every container, and the runtime.v2.task plugin's defaults fit.")
	return b.String()
}

// TOMLString quotes s as a TOML basic string (the bench writes containerd configs too).
func TOMLString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// normalizeAddress accepts "unix:///path" as well as "/path": the containerd
// client adds the unix:// scheme itself.
func normalizeAddress(a string) string {
	return strings.TrimPrefix(strings.TrimSpace(a), "unix://")
}

// dialFunc connects to address and returns a client and the daemon version,
// or an error if no containerd answers there.
type dialFunc func(ctx context.Context, address string) (*containerd.Client, string, error)

// startFunc makes sure podsim's own containerd runs and answers, and returns
// its supervisor pid (0 if unknown).
type startFunc func(ctx context.Context, o Options, p paths) (pid int, err error)

// resolve implements the address order of Connect. dial and start are
// parameters so the order can be tested without any daemon.
func resolve(ctx context.Context, o Options, dial dialFunc, start startFunc) (*containerd.Client, Info, error) {
	if a := normalizeAddress(o.Address); a != "" {
		c, v, err := dial(ctx, a)
		if err != nil {
			return nil, Info{}, fmt.Errorf("no containerd answers at %s (from --containerd-address or %s): %w", a, EnvAddress, err)
		}
		return c, Info{Address: a, Kind: KindExplicit, Version: v}, nil
	}
	p := o.paths()
	if c, v, err := dial(ctx, p.SystemSock); err == nil {
		return c, Info{Address: p.SystemSock, Kind: KindSystem, Version: v}, nil
	}
	pid, err := start(ctx, o, p)
	if err != nil {
		return nil, Info{}, err
	}
	c, v, err := dial(ctx, p.Socket)
	if err != nil {
		return nil, Info{}, fmt.Errorf("podsim's containerd at %s stopped answering (log: %s): %w", p.Socket, p.Log, err)
	}
	return c, Info{Address: p.Socket, Kind: KindEmbedded, PID: pid, Version: v, Log: p.Log}, nil
}

func (o Options) progress(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(fmt.Sprintf(format, args...))
	}
}
