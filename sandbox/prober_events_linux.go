package sandbox

import "context"

// taskEvent hands a container's task start or exit (decoded once by the
// agent, see taskEventOf) to the prober: a start starts the attempt's
// workers, an exit stops them.
func (p *prober) taskEvent(ctx context.Context, ev taskEvent) {
	switch {
	case !ev.started:
		p.containerExited(ev.containerID)
	case ev.podID != "":
		p.containerStarted(ctx, ev.podID, ev.containerID)
	}
}
