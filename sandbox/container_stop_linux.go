package sandbox

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
)

// StopContainer and the containerd calls that remove a container, as CRI's
// container_stop.go and container_remove.go do them. Every call treats
// "not found" as done, so teardown can run after a crash and twice.

// loadTask returns a container's task, or nil when it has none.
func loadTask(ctx context.Context, c containerd.Container) (containerd.Task, error) {
	task, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading task %s: %w", c.ID(), err)
	}
	return task, nil
}

// stopContainerTask ends a container's process (SIGTERM, grace, SIGKILL)
// and leaves its task, container and snapshot to be deleted.
func stopContainerTask(ctx context.Context, c containerd.Container, task containerd.Task, grace time.Duration, interrupted <-chan struct{}) error {
	if task == nil {
		return nil
	}
	if err := stopTask(ctx, task, grace, interrupted); err != nil {
		return fmt.Errorf("stopping container %s: %w", c.ID(), err)
	}
	return nil
}

// removeContainer stops a container's task (if still running) and deletes
// the task, the container and its snapshot. Not-found at any point means
// already done.
func removeContainer(ctx context.Context, c containerd.Container, grace time.Duration, interrupted <-chan struct{}) error {
	task, err := loadTask(ctx, c)
	if err != nil {
		return err
	}
	if err := stopContainerTask(ctx, c, task, grace, interrupted); err != nil {
		return err
	}
	if err := deleteTask(ctx, c.ID(), task); err != nil {
		return err
	}
	return deleteContainer(ctx, c)
}

// deleteTask deletes a container's (stopped) task in its shim; a task that
// still runs is killed. A nil task, or one already gone, is done.
func deleteTask(ctx context.Context, id string, task containerd.Task) error {
	if task == nil {
		return nil
	}
	if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("deleting task %s: %w", id, err)
	}
	return nil
}

// deleteContainer deletes a container's record and its snapshot.
func deleteContainer(ctx context.Context, c containerd.Container) error {
	if err := c.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("deleting container %s: %w", c.ID(), err)
	}
	return nil
}

// stopTask sends SIGTERM, waits up to grace, then SIGKILL — kubelet's
// termination. One kernel rule shortens it: the init process of a PID
// namespace only receives signals it has a handler for, so SIGTERM to a
// PID 1 like `sleep` that never installed one does nothing. Waiting out the
// grace period would only waste time, so podsim goes straight to SIGKILL.
func stopTask(ctx context.Context, task containerd.Task, grace time.Duration, interrupted <-chan struct{}) error {
	st, err := task.Status(ctx)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return nil
		}
		return err
	}
	if st.Status == containerd.Stopped {
		return nil
	}
	exitCh, err := task.Wait(ctx)
	if err != nil {
		return err
	}
	if st.Status == containerd.Created {
		return task.Kill(ctx, syscall.SIGKILL)
	}
	if grace > 0 {
		waitExeced(int(task.Pid()), 2*time.Second)
	}
	if grace > 0 && !ignoresSIGTERM(int(task.Pid())) {
		if err := task.Kill(ctx, syscall.SIGTERM); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		// Re-check while waiting: a container that has just started may
		// still be runc's init (which has handlers) and exec a PID 1
		// without one a moment later — that SIGTERM is then lost.
		deadline := time.After(grace)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
	wait:
		for {
			select {
			case <-exitCh:
				return nil
			case <-tick.C:
				if ignoresSIGTERM(int(task.Pid())) {
					break wait
				}
			case <-deadline:
				break wait
			case <-interrupted: // go straight to SIGKILL
				break wait
			}
		}
	}
	if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	return waitKilled(ctx, task, exitCh)
}

// killWait is how long a SIGKILLed task's exit may take to be reported:
// kubelet gives CRI's StopContainer the grace period plus its
// runtime-request-timeout (2 min by default) and containerd waits that
// long for the exit. The kernel ends a SIGKILLed process at once; what
// takes time is the shim reporting it. containerd 1.6's runc shim handles
// exits one at a time and, for each, reads the PID of every process of the
// container, which waits while a `runc exec` (a probe's, say) is still
// starting: on a slow machine (a TCG VM) that took longer than 10 s.
const killWait = 2 * time.Minute

// killResend is how often SIGKILL is sent again while waiting: a process
// that joined the container's cgroup after runc listed it (an exec that was
// starting) is then killed too.
const killResend = 10 * time.Second

// waitKilled waits for a SIGKILLed task's exit, sending SIGKILL again
// every killResend, for at most killWait. Only a shim that lost the exit
// makes it wait that long; the error then says what the kernel shows.
func waitKilled(ctx context.Context, task containerd.Task, exitCh <-chan containerd.ExitStatus) error {
	deadline := time.After(killWait)
	resend := time.NewTicker(killResend)
	defer resend.Stop()
	for {
		select {
		case <-exitCh:
			return nil
		case <-resend.C:
			// Best effort: the task may be stopping meanwhile; its exit,
			// or the deadline, decides.
			_ = task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll)
		case <-deadline:
			return fmt.Errorf("task %s did not exit %s after SIGKILL (%s): its shim did not report the exit", task.ID(), killWait, procState(int(task.Pid())))
		}
	}
}
