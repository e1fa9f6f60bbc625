// Command podsim-cluster is the helper hack/cluster's scripts call for what
// needs Go: importing podsim's offline images into the local cluster's
// containerd.
//
//	podsim-cluster pause-image
//	podsim-cluster images --address SOCKET [--bin DIR] [REF...]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/podsim/podsim/cluster"
	"github.com/podsim/podsim/sandbox/images"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	usage := "usage: podsim-cluster pause-image | images --address SOCKET [--bin DIR] [REF...]"
	if len(args) == 0 {
		fmt.Fprintln(errOut, usage)
		return 2
	}
	switch args[0] {
	case "pause-image":
		fmt.Fprintln(out, images.PauseImage)
		return 0
	case "images":
		fs := flag.NewFlagSet("images", flag.ContinueOnError)
		fs.SetOutput(errOut)
		address := fs.String("address", "", "the cluster containerd's socket")
		self, _ := os.Executable()
		bin := fs.String("bin", filepath.Dir(self), "directory of podsim's pause and stand-in programs (make build puts them in bin/)")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if *address == "" {
			fmt.Fprintln(errOut, "podsim-cluster images: --address is required")
			return 2
		}
		names, err := cluster.ImportImages(ctx, *address, images.NewCatalog(*bin), fs.Args(), func(s string) { fmt.Fprintln(errOut, s) })
		for _, n := range names {
			fmt.Fprintf(out, "imported %s\n", n)
		}
		if err != nil {
			fmt.Fprintf(errOut, "podsim-cluster: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintln(errOut, usage)
	return 2
}
