package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/podsim/podsim/objects"
	"github.com/podsim/podsim/sandbox"
)

// Hints for people. The engine's errors say what went wrong and to which
// object, typed with sentinel errors; the CLI knows its own commands and
// adds which one helps, from the error's type (errors.Is/As).

// withHint appends "(hint)" to err, unless the text already says it (some
// of sandbox's pod errors still carry their hint themselves).
func withHint(err error, hint string) error {
	if err == nil || strings.Contains(err.Error(), hint) {
		return err
	}
	return fmt.Errorf("%w (%s)", err, hint)
}

// notFoundHint says how to list the objects of a kind when one of them
// was not found.
func notFoundHint(k *objects.Kind, err error) error {
	if !objects.IsNotFound(err) {
		return err
	}
	if k.Kind == "Pod" {
		return withHint(err, "list pods with 'podsim get pods'")
	}
	return withHint(err, "list them with 'podsim get "+k.Plural+"'")
}

// applyHint says what to do about a pod apply cannot change.
func applyHint(err error) error {
	var pc *objects.PodChangedError
	if errors.As(err, &pc) {
		return fmt.Errorf("%w: run 'podsim delete pod %s' first, or use a Deployment", err, pc.Name)
	}
	return err
}

// podHint adds the hint for people to an error about a pod, from the
// sentinel it wraps and the pod it names (sandbox.PodError).
func podHint(err error) error {
	var pe *sandbox.PodError
	if !errors.As(err, &pe) {
		if errors.Is(err, sandbox.ErrPodNotFound) {
			return withHint(err, "list pods with 'podsim get pods'")
		}
		return err
	}
	ns := ""
	if pe.Namespace != "" && pe.Namespace != "default" {
		ns = " -n " + pe.Namespace
	}
	switch {
	case errors.Is(err, sandbox.ErrPodExists):
		return withHint(err, fmt.Sprintf("delete it first with 'podsim delete pod %s%s'", pe.Name, ns))
	case errors.Is(err, sandbox.ErrInitFailed):
		return withHint(err, fmt.Sprintf("see 'podsim logs %s%s -c %s'", pe.Name, ns, pe.Container))
	case errors.Is(err, sandbox.ErrPodKept):
		return withHint(err, fmt.Sprintf("retry 'podsim delete pod %s%s' or run 'podsim gc' once containerd answers", pe.Name, ns))
	case errors.Is(err, sandbox.ErrPodNotFound):
		return withHint(err, "list pods with 'podsim get pods'")
	}
	return err
}

// resolvePod turns "deploy/NAME", "pod/NAME" or "NAME" into a pod name
// (exec, logs, inspect).
func resolvePod(e *env, m *sandbox.Manager, ref string) (string, error) {
	pod, err := objects.New(m).ResolvePod(e.ctx, e.namespace, ref)
	if errors.Is(err, sandbox.ErrPodNotFound) {
		err = withHint(err, "see 'podsim get deployments'")
	}
	return pod, err
}
