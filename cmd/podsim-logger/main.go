// Command podsim-logger is the log driver containerd's runc shim starts for
// each container of a podsim pod (a "binary://" log URI): it reads the
// container's stdout and stderr from fds 3 and 4 and writes them in CRI's
// log format. It is separate from podsim so that each copy costs about a
// megabyte instead of the whole CLI.
package main

import (
	"os"

	"github.com/podsim/podsim/sandbox/crilog"
)

func main() { os.Exit(crilog.Run(os.Args[1:])) }
