// Command podsim builds real Kubernetes-style pods on one machine with
// containerd, and runs the multi-container pod patterns as scenarios.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/podsim/podsim/cmd/podsim/app"
	"github.com/podsim/podsim/sandbox/crilog"
)

func main() {
	// The runc shim starts podsim as a container's log driver when no
	// podsim-logger binary sits beside it (see crilog); that path must not
	// touch cobra or containerd.
	if crilog.IsLoggerInvocation(os.Args[1:]) {
		os.Exit(crilog.Run(os.Args[1:]))
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}
