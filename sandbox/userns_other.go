//go:build !linux

package sandbox

// lockedFlagsOf needs statfs: Linux only.
func lockedFlagsOf(path string) []string { return nil }
