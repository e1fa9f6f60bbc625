// Command podsim builds real Kubernetes-style pods on one machine with
// containerd, and runs the multi-container pod patterns as scenarios.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/podsim/podsim/cmd/podsim/app"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}
