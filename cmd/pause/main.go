// Command pause is podsim's pause container: the first process of every pod
// sandbox, like registry.k8s.io/pause.
//
// It exists to hold the pod's shared namespaces (net, ipc, uts) open for as
// long as the pod lives: a namespace disappears when its last process exits,
// so something long-lived and inert must own them while app containers come
// and go. As PID 1 of the sandbox's PID namespace it also reaps zombies, which
// matters when the pod uses shareProcessNamespace and orphaned processes of app
// containers are re-parented to it.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-v" || os.Args[1] == "--version") {
		fmt.Println("podsim pause 1.0")
		return
	}
	if os.Getpid() != 1 {
		// Same warning the upstream pause prints: outside a PID namespace
		// it cannot do its reaping job for the pod.
		fmt.Fprintln(os.Stderr, "pause: warning: not running as PID 1")
	}

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		switch s {
		case syscall.SIGCHLD:
			reap()
		default:
			// PID 1 of a namespace ignores signals it has no handler for,
			// so SIGTERM only works because we handle it here.
			fmt.Fprintf(os.Stderr, "pause: shutting down on %v\n", s)
			os.Exit(0)
		}
	}
}

// reap collects every exited child without blocking; SIGCHLD coalesces, so
// one signal may stand for many exits.
func reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
