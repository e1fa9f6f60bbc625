package app

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/containerd/console"
	"github.com/spf13/cobra"

	"github.com/podsim/podsim/sandbox"
)

func newExecCommand(e *env) *cobra.Command {
	var container string
	var stdin, tty bool
	cmd := &cobra.Command{
		Use:   "exec [-i] [-t] POD|deploy/NAME [-c CONTAINER] -- COMMAND [ARGS...]",
		Short: "Run a command in a container of a pod (like kubectl exec)",
		Long: `Run a command in a running container. The new process enters every namespace
of the container (net, ipc and uts shared with the pod's pause container; the
container's own mnt and pid), and the container's cgroup. Its exit code is
podsim's exit code.`,
		Example: `  podsim exec -it podtest --container c1 -- sh
  podsim exec podtest -c c1 -- ip link`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			if dash != 1 {
				return errors.New("expected 'podsim exec POD -- COMMAND [ARGS...]': put the command after --")
			}
			m, err := e.manager()
			if err != nil {
				return err
			}
			pod, err := resolvePod(e, m, args[0])
			if err != nil {
				return err
			}
			eio := sandbox.ExecIO{Stdout: e.out, Stderr: e.errOut}
			if stdin {
				eio.Stdin = e.in
			}
			if tty {
				con, err := console.ConsoleFromFile(os.Stdin)
				if err != nil || !stdin {
					if !stdin {
						fmt.Fprintln(e.errOut, "Unable to use a TTY - input is not enabled (add -i)")
					} else {
						fmt.Fprintln(e.errOut, "Unable to use a TTY - input is not a terminal or the right kind of file")
					}
				} else {
					eio.TTY = true
					if err := con.SetRaw(); err != nil {
						return err
					}
					defer con.Reset()
					resize := make(chan [2]uint32, 1)
					send := func() {
						if ws, err := con.Size(); err == nil {
							select {
							case resize <- [2]uint32{uint32(ws.Width), uint32(ws.Height)}:
							default:
							}
						}
					}
					send()
					winch := make(chan os.Signal, 1)
					signal.Notify(winch, syscall.SIGWINCH)
					defer signal.Stop(winch)
					go func() {
						for range winch {
							send()
						}
					}()
					eio.Resize = resize
					eio.Stderr = e.out // a terminal has one output stream
				}
			}
			code, err := m.Exec(e.ctx, e.namespace, pod, container, args[1:], eio)
			if err != nil {
				// The shell's codes for a command that cannot run (kubectl passes them on too).
				switch msg := err.Error(); {
				case strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory"):
					fmt.Fprintln(e.errOut, "error: "+msg)
					return exitError{127}
				case strings.Contains(msg, "permission denied"):
					fmt.Fprintln(e.errOut, "error: "+msg)
					return exitError{126}
				}
				return err
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&container, "container", "c", "", "container name (default: the pod's first container)")
	f.BoolVarP(&stdin, "stdin", "i", false, "pass stdin to the command")
	f.BoolVarP(&tty, "tty", "t", false, "allocate a terminal")
	return cmd
}
