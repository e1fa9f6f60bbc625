package app

import (
	"errors"
	"fmt"
	"os"

	"github.com/containerd/console"
	"github.com/spf13/cobra"

	"github.com/podsim/podsim/sandbox"
)

type debugFlags struct {
	image, target, container string
	stdin, tty               bool
}

func newDebugCommand(e *env) *cobra.Command {
	var f debugFlags
	cmd := &cobra.Command{
		Use:   "debug POD|deploy/NAME --image=IMAGE [-it] [--target=CONTAINER] [-c NAME] [-- COMMAND [ARGS...]]",
		Short: "Add an ephemeral debug container to a running pod (like kubectl debug)",
		Long: `Add an ephemeral container to a running pod, as kubectl debug does: a new
container from another image that joins the pod's network, IPC and UTS
namespaces (the pause container's), so it sees the pod's eth0 and localhost,
with its own mount namespace (its own image's files). With --target it also
joins that container's PID namespace (/proc/<pid>/ns/pid), so ps shows the
target's processes.

The container is recorded in the pod's spec.ephemeralContainers, its state in
status.ephemeralContainerStatuses (podsim get pod POD -o yaml); it is never
restarted and is removed with the pod. With -i its stdio is attached and its
exit code is podsim's; without, it runs detached: read its output with
'podsim logs POD -c NAME'. The arguments after -- replace the image's
Entrypoint and Cmd.`,
		Example: `  podsim debug podtest -it --image=busybox --target=c1 -- sh
  podsim debug podtest --image=busybox --target=c1 -c dbg -- ps aux
  podsim logs podtest -c dbg`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dash := cmd.ArgsLenAtDash(); dash > 1 || (dash < 0 && len(args) > 1) {
				return errors.New("expected 'podsim debug POD --image=IMAGE [-- COMMAND [ARGS...]]': put the command after --")
			}
			if f.image == "" {
				return errors.New("--image is required: the debug container's image (e.g. --image=busybox)")
			}
			m, err := e.manager()
			if err != nil {
				return err
			}
			pod, err := resolvePod(e, m, args[0])
			if err != nil {
				return err
			}
			o := sandbox.DebugOptions{Name: f.container, Image: f.image, Target: f.target, Command: args[1:], Attach: f.stdin || f.tty,
				IO: sandbox.ExecIO{Stdout: e.out, Stderr: e.errOut}}
			if f.stdin {
				o.IO.Stdin = e.in
			}
			if f.tty {
				con, cerr := console.ConsoleFromFile(os.Stdin)
				if cerr != nil || !f.stdin {
					fmt.Fprintln(e.errOut, "Unable to use a TTY - input is not a terminal or the right kind of file")
				} else {
					o.IO.TTY, o.IO.Stderr = true, nil
					if err := con.SetRaw(); err != nil {
						return err
					}
					defer con.Reset()
					if ws, err := con.Size(); err == nil {
						ch := make(chan [2]uint32, 1)
						ch <- [2]uint32{uint32(ws.Width), uint32(ws.Height)}
						o.IO.Resize = ch
					}
				}
			}
			ignorePipe := make(chan os.Signal, 1)
			notifySIGPIPE(ignorePipe)
			name, code, err := m.Debug(e.ctx, e.namespace, pod, o)
			if err != nil {
				if errors.Is(err, sandbox.ErrOutputClosed) {
					return exitError{code}
				}
				return err
			}
			if !o.Attach {
				fmt.Fprintf(e.out, "ephemeral container %s added to pod %s (output: podsim logs %s -c %s)\n", name, pod, pod, name)
				return nil
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.image, "image", "", "the debug container's image")
	fl.StringVar(&f.target, "target", "", "join the PID namespace of this container of the pod")
	fl.StringVarP(&f.container, "container", "c", "", "the debug container's name (default debugger-xxxxx)")
	fl.BoolVarP(&f.stdin, "stdin", "i", false, "attach stdin and stream the output; podsim exits with the container's exit code")
	fl.BoolVarP(&f.tty, "tty", "t", false, "allocate a terminal (with -i)")
	return cmd
}
