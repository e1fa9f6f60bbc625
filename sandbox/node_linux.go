package sandbox

import (
	"os"

	cg "github.com/containerd/cgroups/v3"
)

// readNodeConfig reads the host facts every spec depends on, once.
func readNodeConfig() nodeConfig {
	return nodeConfig{Unified: cg.Mode() == cg.Unified, OOMFloor: oomFloor(), MemCapacity: HostMemoryBytes(),
		MaskedPaths: NodeMaskedPaths(), Hostname: hostname(), Security: readSecurityNode()}
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
