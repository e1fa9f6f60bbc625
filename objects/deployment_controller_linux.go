package objects

import (
	"context"
	"fmt"
	"time"

	"github.com/podsim/podsim/sandbox/runtime"
)

// ContainerDeleteFilter is the controller's containerd event filter: a
// container removed in podsim's namespace may be a Deployment's pod gone.
var ContainerDeleteFilter = fmt.Sprintf(`topic=="/containers/delete",namespace==%q`, runtime.Namespace)

// controllerBackoff bounds the retries of a Deployment whose pods cannot be
// built: kube-controller-manager's rate-limited work queue, doubling from
// 1 s to 5 min.
var controllerBackoff = struct{ Base, Max time.Duration }{time.Second, 5 * time.Minute}

// RunDeploymentController is kube-controller-manager's Deployment and
// ReplicaSet controllers for podsim's node: it runs in the node agent,
// beside kubelet's loop (sandbox.RunAgent), and keeps every Deployment's
// replicas. Event-driven like the agent: it reconciles every Deployment
// when it starts (pods lost while no agent ran: a crash, `podsim gc`), and
// again shortly after containerd removes a container (a pod deleted);
// failed reconciles retry on a back-off timer. It returns when ctx ends, or
// with an error when containerd's event stream breaks.
func (m *Manager) RunDeploymentController(ctx context.Context, logf func(string, ...any)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	evCh, errCh := m.pods.Client().EventService().Subscribe(ctx, ContainerDeleteFilter)
	c := &deploymentController{m: m, logf: logf, failures: map[string]int{}, notBefore: map[string]time.Time{}}
	retry := c.reconcileAll(ctx)
	var settle <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errCh:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("containerd's event stream ended: %w", err)
		case <-evCh:
			// A pod's containers go one by one: act once they settle.
			if settle == nil {
				settle = time.After(100 * time.Millisecond)
			}
			continue
		case <-settle:
		case <-retry:
		}
		settle = nil
		retry = c.reconcileAll(ctx)
	}
}

type deploymentController struct {
	m         *Manager
	logf      func(string, ...any)
	failures  map[string]int       // consecutive failed reconciles, by namespace/name
	notBefore map[string]time.Time // end of each failing Deployment's back-off
}

// reconcileAll reconciles every stored Deployment not backing off, and
// returns a timer for the earliest back-off that ends (nil: none).
func (c *deploymentController) reconcileAll(ctx context.Context) <-chan time.Time {
	ds, err := c.m.store.ListDeployments("")
	if err != nil {
		c.logf("deployments: %v", err)
	}
	now := time.Now()
	var next time.Time
	for _, d := range ds {
		key := d.Namespace + "/" + d.Name
		if t := c.notBefore[key]; now.Before(t) {
			next = earliest(next, t)
			continue
		}
		created, err := c.m.reconcileDeployment(ctx, d.Namespace, d.Name)
		if len(created) > 0 {
			c.logf("deployment %s: created %v", key, created)
		}
		if err == nil {
			delete(c.failures, key)
			delete(c.notBefore, key)
			continue
		}
		c.failures[key]++
		wait := min(controllerBackoff.Base<<min(c.failures[key]-1, 20), controllerBackoff.Max)
		c.notBefore[key] = now.Add(wait)
		next = earliest(next, c.notBefore[key])
		c.logf("deployment %s: %v (retrying in %s)", key, err, wait)
	}
	if next.IsZero() {
		return nil
	}
	return time.After(time.Until(next))
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// reconcileDeployment runs one Deployment's rollout without waiting for
// readiness. If a podsim command holds the Deployment's lock (an apply or
// delete in progress), it does nothing: that command reconciles it, and
// its pods' changes bring the controller back.
func (m *Manager) reconcileDeployment(ctx context.Context, namespace, name string) ([]string, error) {
	lctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	unlock, err := m.lockDeployment(lctx, namespace, name)
	cancel()
	if err != nil {
		return nil, nil
	}
	defer unlock()
	d, err := m.store.Deployment(namespace, name)
	if err != nil {
		return nil, nil // deleted meanwhile
	}
	return m.rollout(ctx, d, false)
}

// HasDeployments reports whether any Deployment is stored: then the node
// agent must run, for its controller.
func (m *Manager) HasDeployments() bool {
	ds, _ := m.store.ListDeployments("")
	return len(ds) > 0
}
