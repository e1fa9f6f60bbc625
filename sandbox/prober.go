package sandbox

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Probes, as kubelet runs them (pkg/kubelet/prober): one worker per
// container and probe type, each on its own timer (worker.go), runs the
// probe's handler (prober.go → pkg/probe/{exec,http,tcp,grpc}) and turns
// the run's result into the container's probe result only after
// failureThreshold failures or successThreshold successes in a row. The
// results drive the rest (kubelet's results manager): a startup or
// liveness Failure kills the container (restartPolicy then decides), a
// readiness result is the container's Ready, and the pod's Ready condition
// is what the endpoints controller reads to put the pod into its Services.
// The pure parts are in this file; the workers are in prober_linux.go.

// ProbeType is which of a container's probes a worker runs.
type ProbeType string

const (
	StartupProbe   ProbeType = "Startup"
	LivenessProbe  ProbeType = "Liveness"
	ReadinessProbe ProbeType = "Readiness"
)

// ProbeResult is kubelet's proberesults.Result.
type ProbeResult int

const (
	ProbeUnknown ProbeResult = iota
	ProbeSuccess
	ProbeFailure
)

func (r ProbeResult) String() string {
	switch r {
	case ProbeSuccess:
		return "Success"
	case ProbeFailure:
		return "Failure"
	}
	return "Unknown"
}

// probeOf returns the container's probe of type t (nil: none).
func probeOf(c *corev1.Container, t ProbeType) *corev1.Probe {
	switch t {
	case StartupProbe:
		return c.StartupProbe
	case LivenessProbe:
		return c.LivenessProbe
	}
	return c.ReadinessProbe
}

// initialResult is a worker's result before its first verdict, as in
// kubelet's newWorker: a container is live until proven otherwise, not
// ready and not started until its probe says so.
func initialResult(t ProbeType) ProbeResult {
	switch t {
	case LivenessProbe:
		return ProbeSuccess
	case ReadinessProbe:
		return ProbeFailure
	}
	return ProbeUnknown
}

// probeTimings are a probe's parameters with the API's defaults filled in
// (period 10 s, timeout 1 s, success and failure thresholds 1 and 3).
type probeTimings struct {
	InitialDelay, Period, Timeout time.Duration
	Success, Failure              int
}

func timingsOf(p *corev1.Probe) probeTimings {
	t := probeTimings{InitialDelay: time.Duration(p.InitialDelaySeconds) * time.Second,
		Period: 10 * time.Second, Timeout: time.Second, Success: 1, Failure: 3}
	if p.PeriodSeconds > 0 {
		t.Period = time.Duration(p.PeriodSeconds) * time.Second
	}
	if p.TimeoutSeconds > 0 {
		t.Timeout = time.Duration(p.TimeoutSeconds) * time.Second
	}
	if p.SuccessThreshold > 0 {
		t.Success = int(p.SuccessThreshold)
	}
	if p.FailureThreshold > 0 {
		t.Failure = int(p.FailureThreshold)
	}
	return t
}

// probeRun is a worker's memory of its last runs: kubelet's lastResult,
// resultRun and onHold.
type probeRun struct {
	Last   ProbeResult // the last run's result
	Run    int         // how many runs in a row gave Last
	OnHold bool        // a liveness/startup failure was acted on: no more runs for this container
}

// next folds one run's result into the worker's memory and says whether it
// changes the container's probe result (set), kubelet's worker.doProbe: a
// result counts once it repeated failureThreshold (or successThreshold)
// times. A startup or liveness Failure puts the worker on hold: the
// container is killed, and a new one gets a new worker.
func (r probeRun) next(t ProbeType, tm probeTimings, res ProbeResult) (probeRun, bool) {
	if res == r.Last {
		r.Run++
	} else {
		r.Last, r.Run = res, 1
	}
	if (res == ProbeFailure && r.Run < tm.Failure) || (res == ProbeSuccess && r.Run < tm.Success) {
		return r, false
	}
	if res == ProbeFailure && t != ReadinessProbe {
		r.OnHold, r.Run = true, 0
	}
	return r, true
}

// probeGates says whether a worker of type t runs now, given whether the
// container has Started (its startup probe succeeded, or it has none):
// the startup probe runs until it succeeds, the others only after.
func probeGates(t ProbeType, started bool) bool {
	if t == StartupProbe {
		return !started
	}
	return started
}

// killMessage is the Killing event's text for a startup or liveness
// failure, kubelet's computePodActions: "will be restarted" only when the
// restartPolicy restarts a failed container.
func killMessage(pod *corev1.Pod, name string, t ProbeType) string {
	msg := fmt.Sprintf("Container %s failed %s probe", name, strings.ToLower(string(t)))
	if pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		msg += ", will be restarted"
	}
	return msg
}

// killGrace is the grace period of a kill for a failed probe: the probe's
// terminationGracePeriodSeconds when set (KEP-2238), else the pod's.
func killGrace(pod *corev1.Pod, p *corev1.Probe) time.Duration {
	if p != nil && p.TerminationGracePeriodSeconds != nil {
		return time.Duration(*p.TerminationGracePeriodSeconds) * time.Second
	}
	return GracePeriod(pod)
}

// HasProbes reports whether a container of the pod (an app container or a
// native sidecar) has a probe: then the node agent must run it.
func HasProbes(pod *corev1.Pod) bool {
	for _, c := range probedContainers(pod) {
		if c.StartupProbe != nil || c.LivenessProbe != nil || c.ReadinessProbe != nil {
			return true
		}
	}
	return false
}

// agentKeeps reports whether the node agent has work for the pod: a
// restartPolicy that restarts containers, probes (under Never too: a
// failing liveness probe kills the container, and readiness gates
// Services), or a disk emptyDir with a sizeLimit (the eviction manager's).
func agentKeeps(pod *corev1.Pod) bool {
	return RestartsContainers(pod) || HasProbes(pod) || len(diskEmptyDirLimits(pod)) > 0
}

// probedContainers are the containers kubelet probes: app containers and
// native sidecars (init containers with restartPolicy Always).
func probedContainers(pod *corev1.Pod) []*corev1.Container {
	var out []*corev1.Container
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			out = append(out, c)
		}
	}
	for i := range pod.Spec.Containers {
		out = append(out, &pod.Spec.Containers[i])
	}
	return out
}

// probePort resolves a probe's port, a number or the name of one of the
// container's ports (kubelet's probe.ResolveContainerPort).
func probePort(port intstr.IntOrString, c *corev1.Container) (int, error) {
	if port.Type == intstr.Int {
		if port.IntVal < 1 || port.IntVal > 65535 {
			return 0, fmt.Errorf("port %d is out of range 1-65535", port.IntVal)
		}
		return int(port.IntVal), nil
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return int(p.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("port %q is not the name of one of container %s's ports", port.StrVal, c.Name)
}

// validateProbes checks a container's probes as the API server would:
// exactly one handler, ports that resolve, non-negative parameters, and a
// successThreshold of 1 for liveness and startup probes. f names the
// container in the messages.
func validateProbes(f string, c *corev1.Container) []string {
	var errs []string
	for _, t := range []ProbeType{StartupProbe, LivenessProbe, ReadinessProbe} {
		p := probeOf(c, t)
		if p == nil {
			continue
		}
		pf := fmt.Sprintf("%s.%sProbe", f, strings.ToLower(string(t)))
		errs = append(errs, validateProbe(pf, t, p, c)...)
	}
	return errs
}

// checkContainerProbes is validateProbes for a container of kind
// (containers or initContainers): like the API server, podsim refuses
// probes on an init container that is not a native sidecar (it runs to
// completion: there is nothing to probe).
func checkContainerProbes(kind, f string, c *corev1.Container) []string {
	if kind == "initContainers" && !isSidecar(c) && (c.StartupProbe != nil || c.LivenessProbe != nil || c.ReadinessProbe != nil) {
		return []string{f + ": probes are only allowed on init containers with restartPolicy: Always (native sidecars): remove them"}
	}
	return validateProbes(f, c)
}

func validateProbe(pf string, t ProbeType, p *corev1.Probe, c *corev1.Container) []string {
	var errs []string
	h := p.ProbeHandler
	n := 0
	for _, set := range []bool{h.Exec != nil, h.HTTPGet != nil, h.TCPSocket != nil, h.GRPC != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		errs = append(errs, fmt.Sprintf("%s needs exactly one handler (exec, httpGet, tcpSocket or grpc), it has %d", pf, n))
	}
	if h.Exec != nil && len(h.Exec.Command) == 0 {
		errs = append(errs, pf+".exec.command must not be empty")
	}
	if h.HTTPGet != nil {
		if _, err := probePort(h.HTTPGet.Port, c); err != nil {
			errs = append(errs, pf+".httpGet: "+err.Error())
		}
		if s := h.HTTPGet.Scheme; s != "" && s != corev1.URISchemeHTTP && s != corev1.URISchemeHTTPS {
			errs = append(errs, fmt.Sprintf("%s.httpGet.scheme %q must be HTTP or HTTPS", pf, s))
		}
	}
	if h.TCPSocket != nil {
		if _, err := probePort(h.TCPSocket.Port, c); err != nil {
			errs = append(errs, pf+".tcpSocket: "+err.Error())
		}
	}
	if h.GRPC != nil && (h.GRPC.Port < 1 || h.GRPC.Port > 65535) {
		errs = append(errs, fmt.Sprintf("%s.grpc.port %d is out of range 1-65535", pf, h.GRPC.Port))
	}
	if p.InitialDelaySeconds < 0 || p.PeriodSeconds < 0 || p.TimeoutSeconds < 0 || p.SuccessThreshold < 0 || p.FailureThreshold < 0 {
		errs = append(errs, pf+": initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold and failureThreshold must not be negative")
	}
	if t != ReadinessProbe && p.SuccessThreshold > 1 {
		errs = append(errs, fmt.Sprintf("%s.successThreshold must be 1 for a %s probe (it is %d)", pf, strings.ToLower(string(t)), p.SuccessThreshold))
	}
	if t == ReadinessProbe && p.TerminationGracePeriodSeconds != nil {
		errs = append(errs, pf+".terminationGracePeriodSeconds is only for liveness and startup probes (a readiness failure kills nothing): remove it")
	}
	return errs
}

// probeFieldText is the fields table's text (podsim explain) of the three
// probes of an app container or (init) of a native sidecar.
func probeFieldText(init bool) map[string]string {
	common := " The node agent runs it as kubelet's prober does: one worker per container and probe on its own timer, " +
		"handlers exec (through containerd's exec, like CRI ExecSync, timeoutSeconds honoured), httpGet (from the host to the pod IP, " +
		"port by number or name, host, scheme HTTP/HTTPS without certificate checks, httpHeaders; 200-399 is success), tcpSocket and grpc " +
		"(grpc.health.v1 Check); initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold and failureThreshold with the API's defaults."
	if init {
		common += " Only on native sidecars (restartPolicy: Always); refused on other init containers, as by the API server."
	}
	return map[string]string{
		"liveness": "Honoured." + common + " After failureThreshold failures the container is killed (Unhealthy and Killing events; " +
			"the probe's terminationGracePeriodSeconds or the pod's) and restarted per restartPolicy; it waits for the startup probe.",
		"readiness": "Honoured." + common + " The container's Ready, the pod's ContainersReady/Ready conditions and READY column follow it, " +
			"and a Service's names resolve only to ready pods (every pod's /etc/hosts is rewritten when readiness flips); it waits for the startup probe.",
		"startup": "Honoured." + common + " Liveness and readiness wait until it succeeds (the container's started); " +
			"after failureThreshold failures the container is killed and restarted per restartPolicy.",
	}
}
