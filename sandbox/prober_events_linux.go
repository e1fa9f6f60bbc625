package sandbox

import (
	"context"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/containerd/events"
	"github.com/containerd/typeurl/v2"
)

// taskEvent hands a task start or exit to the prober: a start starts the
// container's workers (true: nothing else to do), an exit stops them
// (false: the agent syncs the pod as for any exit).
func (p *prober) taskEvent(ctx context.Context, env *events.Envelope) bool {
	if env == nil || env.Event == nil {
		return false
	}
	v, err := typeurl.UnmarshalAny(env.Event)
	if err != nil {
		return false
	}
	switch e := v.(type) {
	case *apievents.TaskStart:
		if id, ok := podOf(ctx, p.m.client, e.ContainerID); ok {
			p.containerStarted(ctx, id, e.ContainerID)
		}
		return true
	case *apievents.TaskExit:
		if e.ID != e.ContainerID {
			return false // an exec'd process (a probe's, say)
		}
		p.containerExited(e.ContainerID)
	}
	return false
}
