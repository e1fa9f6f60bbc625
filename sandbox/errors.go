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
)
