package app

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/containerd/console"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/podsim/podsim/sandbox"
)

type clientPod struct {
	image, restart, labels  string
	stdin, tty, rm, command bool
	attach                  bool
	env                     []string
}

// runClientPod is `kubectl run NAME --image=...`: a one-container pod.
func runClientPod(e *env, cmd *cobra.Command, c *clientPod, args []string) error {
	dash := cmd.ArgsLenAtDash()
	name, rest := args[0], args[1:]
	if dash == 0 {
		return errors.New("give the pod a name before --: podsim run NAME --image=IMAGE -- ARGS")
	}
	if dash > 1 {
		return fmt.Errorf("unexpected arguments %v before --: podsim run NAME --image=IMAGE -- ARGS", args[1:dash])
	}
	if c.image == "" {
		return errors.New("--image is required")
	}
	attach := c.attach || c.stdin || c.tty
	if c.rm && !attach {
		return errors.New("--rm should only be used for attached containers: add -i (or --attach)")
	}
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.namespace, Labels: map[string]string{"run": name}},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicy(c.restart),
			Containers:    []corev1.Container{{Name: name, Image: c.image, Stdin: false}},
		},
	}
	if c.restart == "Never" || c.restart == "" {
		pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	}
	if c.labels != "" {
		set, err := labels.ConvertSelectorToLabelsMap(c.labels)
		if err != nil {
			return fmt.Errorf("--labels %q: %w", c.labels, err)
		}
		pod.Labels = set
	}
	if c.command {
		pod.Spec.Containers[0].Command = rest
	} else {
		pod.Spec.Containers[0].Args = rest
	}
	for _, kv := range c.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("--env %q must be K=V", kv)
		}
		pod.Spec.Containers[0].Env = append(pod.Spec.Containers[0].Env, corev1.EnvVar{Name: k, Value: v})
	}
	m, err := e.manager()
	if err != nil {
		return err
	}
	if !attach {
		if _, err := m.CreatePod(e.ctx, pod); err != nil {
			return err
		}
		fmt.Fprintf(e.out, "pod/%s created\n", name)
		return nil
	}

	eio := sandbox.ExecIO{Stdout: e.out, Stderr: e.errOut}
	if c.stdin {
		eio.Stdin = e.in
	}
	if c.tty {
		con, cerr := console.ConsoleFromFile(os.Stdin)
		if cerr != nil || !c.stdin {
			// Same as kubectl: carry on without a terminal (scripts, pipes).
			fmt.Fprintln(e.errOut, "Unable to use a TTY - input is not a terminal or the right kind of file")
		} else {
			eio.TTY = true
			eio.Stderr = nil
			if err := con.SetRaw(); err != nil {
				return err
			}
			defer con.Reset()
			if ws, err := con.Size(); err == nil {
				ch := make(chan [2]uint32, 1)
				ch <- [2]uint32{uint32(ws.Width), uint32(ws.Height)}
				eio.Resize = ch
			}
		}
	}
	// A reader that goes away (`| head`) must not kill podsim before --rm
	// has cleaned up: with SIGPIPE handled, writes return EPIPE instead.
	ignorePipe := make(chan os.Signal, 1)
	notifySIGPIPE(ignorePipe)
	code, runErr := m.RunAttached(e.ctx, pod, eio)
	if c.rm {
		if err := m.DeletePod(e.ctx, e.namespace, name, time.Second); err != nil && !errors.Is(err, sandbox.ErrPodNotFound) {
			runErr = errors.Join(runErr, err)
		} else if err == nil {
			fmt.Fprintf(e.errOut, "pod %q deleted\n", name)
		}
	}
	if errors.Is(runErr, sandbox.ErrOutputClosed) {
		return exitError{code}
	}
	if runErr != nil {
		return runErr
	}
	if code != 0 {
		return exitError{code}
	}
	return nil
}
