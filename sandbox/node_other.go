//go:build !linux

package sandbox

// readNodeConfig: no cgroups, no OOM scores outside Linux.
func readNodeConfig() nodeConfig { return nodeConfig{} }
