//go:build !linux

package runtime

import (
	"context"

	containerd "github.com/containerd/containerd"
)

// Connect needs Linux: podsim's containers are Linux kernel features.
func Connect(ctx context.Context, opts Options) (*containerd.Client, Info, error) {
	return nil, Info{}, ErrNotLinux
}

func Stop(ctx context.Context, opts Options) error           { return ErrNotLinux }
func EmbeddedStatus(opts Options) (pid int, running bool)    { return 0, false }
func Supervise(ctx context.Context, configPath string) error { return ErrNotLinux }
func ReadHostLimits() (HostLimits, error)                    { return HostLimits{}, ErrNotLinux }

// NoInheritedFDs is a no-op off Linux.
func NoInheritedFDs() {}
