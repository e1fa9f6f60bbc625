//go:build !linux

package app

import (
	"context"
	"fmt"
	"io"
)

// Run on a platform without Linux namespaces, cgroups and runc: podsim can
// build nothing there, and says so (exit code 1).
func Run(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) int {
	fmt.Fprintf(errOut, "error: podsim %s needs Linux: pods are built from Linux kernel features (namespaces, cgroups) with containerd and runc; run it in a Linux VM (see the README's Vagrantfile)\n", Version)
	return 1
}
