package sandbox

import "errors"

// Sentinel errors; callers test them with errors.Is. Their wrapped text names
// the object and the fix.
var (
	ErrInvalidPod   = errors.New("invalid pod")
	ErrPodExists    = errors.New("pod already exists")
	ErrPodNotFound  = errors.New("pod not found")
	ErrNoContainer  = errors.New("container not found")
	ErrNotRunning   = errors.New("container is not running")
	ErrNotRoot      = errors.New("podsim needs root: run it with sudo")
	ErrMissingTools = errors.New("required host tools are missing")
	// ErrPodKept: a teardown or rollback could not finish; the pod's record
	// is kept so a later delete or gc can.
	ErrPodKept = errors.New("the pod is kept")
)

// PodError is an error about one pod (and, where it says so, one of its
// containers). Its text is the engine's; the CLI adds the hint for people
// ("delete it first with 'podsim delete pod NAME'") from the sentinel it
// wraps and the names it carries (errors.As), so the engine never writes
// CLI commands into its errors.
type PodError struct {
	Namespace, Name, Container string
	Err                        error
}

func (e *PodError) Error() string { return e.Err.Error() }
func (e *PodError) Unwrap() error { return e.Err }

// podErr wraps err as a PodError about pod (and container c, if any).
func podErr(namespace, name, c string, err error) error {
	return &PodError{Namespace: namespace, Name: name, Container: c, Err: err}
}
