package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/podsim/podsim/objects"
	"github.com/podsim/podsim/sandbox"
	"github.com/podsim/podsim/sandbox/images"
	"github.com/podsim/podsim/sandbox/runtime"
)

// exitError carries a specific exit code (exec's command, a failed scenario).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit code %d", e.code) }

// env is what every command shares: streams, global flags, and the lazily
// built containerd connection and pod manager.
type env struct {
	ctx            context.Context
	in             io.Reader
	out, errOut    io.Writer
	namespace      string
	allNamespaces  bool
	watch          bool // get -w
	address        string
	verbose        bool
	traceFmt       traceFormat         // --trace[=text|json], see trace.go
	tracer         *tracePrinter       // prints events for --trace and -v
	traceTap       func(sandbox.Event) // an extra consumer of events (the tour)
	client         *containerd.Client
	info           runtime.Info
	mgr            *sandbox.Manager
	catalog        *images.Catalog
	netCfg         sandbox.NetworkConfig
	progressPrefix string
	// noAgent: this command must not start the node agent (the agent
	// itself, system stop, gc).
	noAgent bool
	// agentStarted: when ensureAgent last started one.
	agentStarted time.Time
	exe          string
	network      sandbox.Network
	// wantAgent: the agent was not there to serve this command; start it
	// for the next ones (agent_api.go).
	wantAgent bool
	// cwd and warm are set when the node agent runs a CLI's command: its
	// relative paths are the CLI's, and the agent's connection, images,
	// and CNI configuration serve it (agent_api.go).
	cwd  string
	warm *env
}

// Run runs podsim with args and returns the process exit code.
func Run(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) int {
	e := &env{ctx: ctx, in: in, out: out, errOut: errOut}
	// apply, create and delete are handed to the node agent when it runs
	// (agent_api.go); else, or when it cannot take them, they run here.
	if code, done := e.viaAgent(args); done {
		return code
	}
	code := e.execute(args)
	if e.mgr != nil && !e.noAgent {
		// The node agent now reads the output of the containers this
		// command made; until it does, this process holds it.
		if herr := e.mgr.WaitLogHandoff(); herr != nil {
			fmt.Fprintln(errOut, "Warning: "+herr.Error())
		}
	}
	if e.wantAgent {
		// Started after the command, the agent does not compete with it
		// for the CPU while it comes up; it serves the next commands.
		e.ensureAgent()
	}
	if e.client != nil {
		e.client.Close()
	}
	return code
}

// execute runs the command line args and returns the exit code, printing
// the error line: the same code runs in the CLI and, for a CLI's request,
// in the node agent.
func (e *env) execute(args []string) int {
	root := newRootCommand(e)
	root.SetArgs(args)
	root.SetIn(e.in)
	root.SetOut(e.out)
	root.SetErr(e.errOut)
	err := root.ExecuteContext(e.ctx)
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(e.errOut, "error: "+strings.TrimSpace(podHint(err).Error()))
	return 1
}

func newRootCommand(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "podsim",
		Short: "Build real Kubernetes-style pods with containerd, and see the namespaces that make them",
		Long: `podsim builds pods the way kubelet and containerd's CRI plugin do — a pod cgroup,
a pinned network namespace wired by CNI, a pause container holding the shared
namespaces, app containers joining them — and shows and checks what the kernel did.

Its commands follow kubectl: apply, get, exec, logs, delete. 'podsim run all'
runs the article's multi-container pod scenarios.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVarP(&e.namespace, "namespace", "n", "default", "Kubernetes namespace of the objects")
	pf.StringVar(&e.address, "containerd-address", os.Getenv(runtime.EnvAddress), "containerd socket (default: "+runtime.EnvAddress+", else the system socket if a daemon answers, else podsim's own containerd)")
	pf.BoolVarP(&e.verbose, "verbose", "v", false, "print each step podsim takes (same as --trace=text)")
	addTraceFlag(pf, e)
	root.AddCommand(
		newApplyCommand(e), newGetCommand(e), newExecCommand(e), newDebugCommand(e), newLogsCommand(e),
		newRunCommand(e), newScenariosCommand(e), newInspectCommand(e), newDeleteCommand(e),
		newCreateCommand(e), newExportCommand(e), newGCCommand(e), newDoctorCommand(e), newVersionCommand(e), newImagesCommand(e),
		newSystemCommand(e), newWaitCommand(e), newTourCommand(e), newDescribeCommand(e), newDocsCommand(), newBenchCommand(e), newCompareCommand(e), newExplainCommand(e),
		newLabelCommand(e), newAnnotateCommand(e),
	)
	return root
}

// manager connects to containerd (starting podsim's own if needed) and
// builds the pod manager, once per command.
func (e *env) manager() (*sandbox.Manager, error) {
	if e.mgr != nil {
		return e.mgr, nil
	}
	if os.Geteuid() != 0 {
		return nil, sandbox.ErrNotRoot
	}
	if msgs := validation.IsDNS1123Label(e.namespace); len(msgs) > 0 {
		return nil, fmt.Errorf("namespace %q is not valid: %s", e.namespace, strings.Join(msgs, ", "))
	}
	if e.warm != nil {
		return e.warmManager(), nil
	}
	exe, err := selfExe()
	if err != nil {
		return nil, err
	}
	for _, bin := range []string{"runc", "containerd-shim-runc-v2"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("%w: %s is not installed: run 'sudo apt-get install containerd runc' (or 'sudo make deps')", sandbox.ErrMissingTools, bin)
		}
	}
	client, info, err := runtime.Connect(e.ctx, runtime.Options{Address: e.address, SelfExe: exe, Progress: e.progress})
	if err != nil {
		return nil, err
	}
	e.client, e.info = client, info
	e.ctx = namespaces.WithNamespace(e.ctx, runtime.Namespace)
	if _, err := e.images(); err != nil {
		return nil, err
	}
	e.netCfg = sandbox.DefaultNetworkConfig()
	paths := sandbox.DefaultPaths()
	network, err := sandbox.NewCNINetwork(e.netCfg, filepath.Join(paths.State, "cni"))
	if err != nil {
		return nil, err
	}
	e.exe, e.network = exe, network
	e.newManager()
	// A command run while pods need the node agent starts it if it is
	// not running (it was stopped, killed, or containerd restarted). The
	// pid-file check comes first: reading every pod record on each
	// command's start is only worth it when no agent runs.
	if _, running := runtime.AgentPID(runtime.Options{}); !running && !e.noAgent && !e.wantAgent && e.mgr.NeedsAgent() {
		e.ensureAgent()
	}
	return e.mgr, nil
}

// newManager builds the pod manager over the connection, images and
// network already set up, its output going to this command's streams.
func (e *env) newManager() {
	e.mgr = sandbox.New(sandbox.Options{
		Client: e.client, Images: e.catalog, Network: e.network, Paths: sandbox.DefaultPaths(), SelfExe: e.exe,
		Trace:     e.trace,
		Progress:  e.progress,
		Warn:      func(s string) { fmt.Fprintln(e.errOut, "Warning: "+s) },
		NeedAgent: e.ensureAgent,
	})
}

// objectManager is the manager of Deployments, Services, ConfigMaps and
// Secrets over the pod manager.
func (e *env) objectManager() (*objects.Manager, error) {
	m, err := e.manager()
	if err != nil {
		return nil, err
	}
	om := objects.New(m)
	// Deployments need the agent even when none of their pods is left
	// (lost in a crash): its controller makes them again.
	if _, running := runtime.AgentPID(runtime.Options{}); !running && !e.noAgent && om.HasDeployments() {
		e.ensureAgent()
	}
	return om, nil
}

// ensureAgent starts the node agent (see agent.go) unless this command is
// one that must not, or it runs already. Quiet: the agent logs to its own file.
func (e *env) ensureAgent() {
	// Not twice in a few seconds: an agent still starting has no pid file
	// yet, and a second one started meanwhile would take over from it if
	// it were stopped (each container's log hand-off asks for the agent).
	if e.noAgent || e.exe == "" || time.Since(e.agentStarted) < 5*time.Second {
		return
	}
	e.agentStarted = time.Now()
	if _, err := runtime.StartAgent(runtime.Options{SelfExe: e.exe}, e.info.Address); err != nil {
		fmt.Fprintln(e.errOut, "Warning: the node agent could not start, containers will not be restarted: "+err.Error())
	}
}

func (e *env) images() (*images.Catalog, error) {
	if e.catalog != nil {
		return e.catalog, nil
	}
	pause, err := pauseBinary()
	if err != nil {
		return nil, err
	}
	e.catalog = images.NewCatalog(filepath.Dir(pause))
	return e.catalog, nil
}

func (e *env) progress(s string) { fmt.Fprintln(e.errOut, s) }

// selfExe is the absolute path of this binary: runtime re-executes it as containerd's supervisor.
func selfExe() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(exe)
}

// pauseBinary finds podsim's static pause program: PODSIM_PAUSE_BINARY, next
// to the podsim binary (make build puts both in bin/), or the install dirs.
func pauseBinary() (string, error) {
	cands := []string{os.Getenv("PODSIM_PAUSE_BINARY")}
	if exe, err := selfExe(); err == nil {
		cands = append(cands, filepath.Join(filepath.Dir(exe), "pause"))
	}
	cands = append(cands, "/usr/local/lib/podsim/pause", "/usr/lib/podsim/pause")
	for _, c := range cands {
		if c == "" {
			continue
		}
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c, nil
		}
	}
	return "", fmt.Errorf("podsim's pause binary was not found next to podsim or in /usr/local/lib/podsim: run 'make build' (or set PODSIM_PAUSE_BINARY)")
}

// ns is the namespace for reads: "" when --all-namespaces.
func (e *env) ns() string {
	if e.allNamespaces {
		return ""
	}
	return e.namespace
}

func fileIsExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
