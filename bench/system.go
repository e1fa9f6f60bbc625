package bench

import (
	"context"
	"time"
)

// System is one way of building the bench pods: podsim (in process or its
// CLI), containerd's CRI through crictl, podman, or the runc floor.
type System interface {
	// Name is the short column name (podsim, cri, podman-net, ...).
	Name() string
	// Label says exactly what is measured, for the report.
	Label() string
	// Create builds the pod from the case's manifest and returns when all
	// its containers run; the duration is manifest -> all running.
	Create(ctx context.Context, c *Case, name string) (Handle, time.Duration, error)
	// Delete tears the pod down completely.
	Delete(ctx context.Context, h Handle) (time.Duration, error)
	// IsRoot selects the per-pod runtime processes (shims, conmon) whose
	// trees hold the pod's infrastructure processes, for memory overhead.
	IsRoot(p *Proc) bool
}

// Handle identifies a pod a System built.
type Handle interface{ PodName() string }

// Phaser is a System that reports where the time of its last Create or
// Delete went (podsim, from its Trace events).
type Phaser interface {
	// TakePhases returns and forgets the phase durations of the last call.
	TakePhases() []Phase
}

// Phase is a named part of a create or teardown.
type Phase struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"durationNs"`
	// Overlap marks a phase that overlaps others (an app container's own
	// time when containers are created concurrently): not part of the sum.
	Overlap bool `json:"overlap,omitempty"`
}

type namedHandle string

func (n namedHandle) PodName() string { return string(n) }

// Proc is one process as /proc shows it.
type Proc struct {
	PID, PPID int
	Comm      string
	Cmdline   string // arguments joined by spaces
	RSSKB     int64  // VmRSS
	PSSKB     int64  // Pss from smaps_rollup (shared pages split between their users)
	// MntNS is the mount namespace (the /proc/<pid>/ns/mnt link): a
	// process in its shim's mount namespace runs on the runtime's side
	// (a log driver, a helper), not inside a container.
	MntNS string
}
