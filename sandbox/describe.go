package sandbox

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// DescribePod writes kubectl describe pod's text for a pod with its status
// (PodState.KubePod) and its events, in kubectl's layout and order
// (k8s.io/kubectl/pkg/describe: describePod, describeContainers,
// describeProbe, describeVolumes, DescribeEvents): one tabwriter over the
// whole text, two spaces per level. Sections the pod has no data for
// (conditions before the prober fills them, probes, ports) are left out or
// say <none>, as kubectl does. node is the node's name, now the clock for
// the events' ages.
func DescribePod(out io.Writer, pod *corev1.Pod, node string, events []PodEvent, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	p := func(level int, format string, args ...any) {
		fmt.Fprintf(w, strings.Repeat("  ", level)+format, args...)
	}
	p(0, "Name:\t%s\n", pod.Name)
	p(0, "Namespace:\t%s\n", pod.Namespace)
	p(0, "Priority:\t%d\n", valueOr(pod.Spec.Priority, 0))
	p(0, "Service Account:\t%s\n", orDefault(pod.Spec.ServiceAccountName, "default"))
	p(0, "Node:\t%s/%s\n", node, pod.Status.HostIP)
	if st := pod.Status.StartTime; st != nil {
		p(0, "Start Time:\t%s\n", st.Time.Format(time.RFC1123Z))
	}
	describeMap(p, "Labels", pod.Labels)
	describeMap(p, "Annotations", pod.Annotations)
	p(0, "Status:\t%s\n", pod.Status.Phase)
	p(0, "IP:\t%s\n", pod.Status.PodIP)
	if len(pod.Status.PodIPs) > 0 {
		p(0, "IPs:\n")
		for _, ip := range pod.Status.PodIPs {
			p(1, "IP:\t%s\n", ip.IP)
		}
	} else {
		p(0, "IPs:\t<none>\n")
	}
	if len(pod.Spec.InitContainers) > 0 {
		p(0, "Init Containers:\n")
		describeContainers(p, pod.Spec.InitContainers, pod.Status.InitContainerStatuses)
	}
	p(0, "Containers:\n")
	describeContainers(p, pod.Spec.Containers, pod.Status.ContainerStatuses)
	if len(pod.Status.Conditions) > 0 {
		p(0, "Conditions:\n")
		p(1, "Type\tStatus\n")
		for _, c := range pod.Status.Conditions {
			p(1, "%v \t%v \n", c.Type, c.Status)
		}
	}
	describeVolumes(p, pod.Spec.Volumes)
	p(0, "QoS Class:\t%s\n", QOSClass(&pod.Spec))
	describeMap(p, "Node-Selectors", pod.Spec.NodeSelector)
	describeTolerations(p, pod.Spec.Tolerations)
	describeEvents(p, events, now)
	return w.Flush()
}

type printer func(level int, format string, args ...any)

func valueOr[T any](v *T, def T) T {
	if v == nil {
		return def
	}
	return *v
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// describeMap prints labels or annotations as kubectl does: sorted,
// key=value, one a line, <none> when empty.
func describeMap(p printer, title string, m map[string]string) {
	if len(m) == 0 {
		p(0, "%s:\t<none>\n", title)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == 0 {
			p(0, "%s:\t%s=%s\n", title, k, m[k])
		} else {
			p(0, "\t%s=%s\n", k, m[k])
		}
	}
}

func describeTolerations(p printer, ts []corev1.Toleration) {
	if len(ts) == 0 {
		p(0, "Tolerations:\t<none>\n")
		return
	}
	for i, t := range ts {
		s := t.Key
		if t.Value != "" {
			s += "=" + t.Value
		}
		if t.Effect != "" {
			s += ":" + string(t.Effect)
		}
		if t.Operator == corev1.TolerationOpExists && t.Value == "" {
			s += " op=Exists"
		}
		if i == 0 {
			p(0, "Tolerations:\t%s\n", s)
		} else {
			p(0, "\t%s\n", s)
		}
	}
}

func describeContainers(p printer, cs []corev1.Container, sts []corev1.ContainerStatus) {
	byName := map[string]corev1.ContainerStatus{}
	for _, s := range sts {
		byName[s.Name] = s
	}
	for _, c := range cs {
		st, ok := byName[c.Name]
		p(1, "%s:\n", c.Name)
		if ok {
			p(2, "Container ID:\t%s\n", st.ContainerID)
		}
		p(2, "Image:\t%s\n", c.Image)
		if ok {
			p(2, "Image ID:\t%s\n", st.ImageID)
		}
		describePorts(p, c.Ports)
		describeCommand(p, "Command", c.Command)
		describeCommand(p, "Args", c.Args)
		if ok {
			describeState(p, "State", st.State)
			if st.LastTerminationState.Terminated != nil {
				describeState(p, "Last State", st.LastTerminationState)
			}
			p(2, "Ready:\t%s\n", printBool(st.Ready))
			p(2, "Restart Count:\t%d\n", st.RestartCount)
		}
		describeResources(p, "Limits", c.Resources.Limits)
		describeResources(p, "Requests", c.Resources.Requests)
		for _, pr := range []struct {
			name  string
			probe *corev1.Probe
		}{{"Liveness", c.LivenessProbe}, {"Readiness", c.ReadinessProbe}, {"Startup", c.StartupProbe}} {
			if pr.probe != nil {
				p(2, "%s:\t%s\n", pr.name, DescribeProbe(pr.probe))
			}
		}
		describeEnv(p, &c)
		describeMounts(p, c.VolumeMounts)
	}
}

func printBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func describePorts(p printer, ports []corev1.ContainerPort) {
	if len(ports) == 0 {
		p(2, "Port:\t<none>\n")
		p(2, "Host Port:\t<none>\n")
		return
	}
	var ps, hs []string
	for _, pt := range ports {
		proto := orDefault(string(pt.Protocol), "TCP")
		ps = append(ps, fmt.Sprintf("%d/%s", pt.ContainerPort, proto))
		hs = append(hs, fmt.Sprintf("%d/%s", pt.HostPort, proto))
	}
	p(2, "Port%s:\t%s\n", plural(len(ps)), strings.Join(ps, ", "))
	p(2, "Host Port%s:\t%s\n", plural(len(hs)), strings.Join(hs, ", "))
}

func plural(n int) string {
	if n > 1 {
		return "s"
	}
	return ""
}

func describeCommand(p printer, title string, args []string) {
	if len(args) == 0 {
		return
	}
	p(2, "%s:\n", title)
	for _, a := range args {
		for _, l := range strings.Split(a, "\n") {
			p(3, "%s\n", l)
		}
	}
}

// describeState is kubectl's describeStatus for State and Last State.
func describeState(p printer, title string, s corev1.ContainerState) {
	const t = time.RFC1123Z
	switch {
	case s.Running != nil:
		p(2, "%s:\tRunning\n", title)
		p(3, "Started:\t%s\n", s.Running.StartedAt.Time.Format(t))
	case s.Waiting != nil:
		p(2, "%s:\tWaiting\n", title)
		if s.Waiting.Reason != "" {
			p(3, "Reason:\t%s\n", s.Waiting.Reason)
		}
		if s.Waiting.Message != "" {
			p(3, "Message:\t%s\n", s.Waiting.Message)
		}
	case s.Terminated != nil:
		p(2, "%s:\tTerminated\n", title)
		if s.Terminated.Reason != "" {
			p(3, "Reason:\t%s\n", s.Terminated.Reason)
		}
		if s.Terminated.Message != "" {
			p(3, "Message:\t%s\n", s.Terminated.Message)
		}
		p(3, "Exit Code:\t%d\n", s.Terminated.ExitCode)
		if s.Terminated.Signal > 0 {
			p(3, "Signal:\t%d\n", s.Terminated.Signal)
		}
		p(3, "Started:\t%s\n", s.Terminated.StartedAt.Time.Format(t))
		p(3, "Finished:\t%s\n", s.Terminated.FinishedAt.Time.Format(t))
	default:
		p(2, "%s:\tWaiting\n", title)
	}
}

func describeResources(p printer, title string, rl corev1.ResourceList) {
	if len(rl) == 0 {
		return
	}
	names := make([]string, 0, len(rl))
	for n := range rl {
		names = append(names, string(n))
	}
	sort.Strings(names)
	p(2, "%s:\n", title)
	for _, n := range names {
		q := rl[corev1.ResourceName(n)]
		p(3, "%s:\t%s\n", n, q.String())
	}
}

// DescribeProbe is kubectl's one-line probe: handler, then
// delay/timeout/period and the thresholds, with the API's defaults.
func DescribeProbe(pr *corev1.Probe) string {
	attrs := fmt.Sprintf("delay=%s timeout=%s period=%s #success=%d #failure=%d",
		time.Duration(pr.InitialDelaySeconds)*time.Second, time.Duration(orInt(pr.TimeoutSeconds, 1))*time.Second,
		time.Duration(orInt(pr.PeriodSeconds, 10))*time.Second, orInt(pr.SuccessThreshold, 1), orInt(pr.FailureThreshold, 3))
	h := pr.ProbeHandler
	switch {
	case h.Exec != nil:
		return fmt.Sprintf("exec %v %s", h.Exec.Command, attrs)
	case h.HTTPGet != nil:
		scheme := strings.ToLower(orDefault(string(h.HTTPGet.Scheme), "http"))
		return fmt.Sprintf("http-get %s://%s:%s%s %s", scheme, h.HTTPGet.Host, h.HTTPGet.Port.String(), h.HTTPGet.Path, attrs)
	case h.TCPSocket != nil:
		return fmt.Sprintf("tcp-socket %s:%s %s", h.TCPSocket.Host, h.TCPSocket.Port.String(), attrs)
	case h.GRPC != nil:
		return fmt.Sprintf("grpc <pod>:%d %s %s", h.GRPC.Port, valueOr(h.GRPC.Service, ""), attrs)
	}
	return fmt.Sprintf("unknown %s", attrs)
}

func orInt(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

func describeEnv(p printer, c *corev1.Container) {
	if len(c.EnvFrom) > 0 {
		p(2, "Environment Variables from:\n")
		for _, ef := range c.EnvFrom {
			kind, name, opt := "ConfigMap", "", (*bool)(nil)
			if ef.ConfigMapRef != nil {
				name, opt = ef.ConfigMapRef.Name, ef.ConfigMapRef.Optional
			} else if ef.SecretRef != nil {
				kind, name, opt = "Secret", ef.SecretRef.Name, ef.SecretRef.Optional
			}
			p(3, "%s\t%s\tPrefix: %s\tOptional: %t\n", name, kind, ef.Prefix, valueOr(opt, false))
		}
	}
	if len(c.Env) == 0 {
		p(2, "Environment:\t<none>\n")
		return
	}
	p(2, "Environment:\n")
	for _, e := range c.Env {
		p(3, "%s:\t%s\n", e.Name, envValue(e))
	}
}

// envValue is how kubectl shows one variable: its value, or where it comes from.
func envValue(e corev1.EnvVar) string {
	vf := e.ValueFrom
	switch {
	case vf == nil:
		return e.Value
	case vf.FieldRef != nil:
		return fmt.Sprintf(" (%s:%s)", orDefault(vf.FieldRef.APIVersion, "v1"), vf.FieldRef.FieldPath)
	case vf.ResourceFieldRef != nil:
		return fmt.Sprintf("%s (%s)", vf.ResourceFieldRef.Resource, orDefault(vf.ResourceFieldRef.ContainerName, "this container"))
	case vf.ConfigMapKeyRef != nil:
		r := vf.ConfigMapKeyRef
		return fmt.Sprintf("<set to the key '%s' of config map '%s'>\tOptional: %t", r.Key, r.Name, valueOr(r.Optional, false))
	case vf.SecretKeyRef != nil:
		r := vf.SecretKeyRef
		return fmt.Sprintf("<set to the key '%s' in secret '%s'>\tOptional: %t", r.Key, r.Name, valueOr(r.Optional, false))
	}
	return ""
}

func describeMounts(p printer, ms []corev1.VolumeMount) {
	if len(ms) == 0 {
		p(2, "Mounts:\t<none>\n")
		return
	}
	p(2, "Mounts:\n")
	for _, m := range ms {
		flags := "rw"
		if m.ReadOnly {
			flags = "ro"
		}
		if m.SubPath != "" {
			flags += fmt.Sprintf(",path=%q", m.SubPath)
		}
		p(3, "%s from %s (%s)\n", m.MountPath, m.Name, flags)
	}
}

func describeVolumes(p printer, vs []corev1.Volume) {
	if len(vs) == 0 {
		p(0, "Volumes:\t<none>\n")
		return
	}
	p(0, "Volumes:\n")
	for _, v := range vs {
		p(1, "%s:\n", v.Name)
		switch {
		case v.EmptyDir != nil:
			p(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n")
			p(2, "Medium:\t%s\n", v.EmptyDir.Medium)
			if v.EmptyDir.SizeLimit != nil {
				p(2, "SizeLimit:\t%s\n", v.EmptyDir.SizeLimit.String())
			} else {
				p(2, "SizeLimit:\t<unset>\n")
			}
		case v.ConfigMap != nil:
			p(2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n")
			p(2, "Name:\t%s\n", v.ConfigMap.Name)
			p(2, "Optional:\t%t\n", valueOr(v.ConfigMap.Optional, false))
		case v.Secret != nil:
			p(2, "Type:\tSecret (a volume populated by a Secret)\n")
			p(2, "SecretName:\t%s\n", v.Secret.SecretName)
			p(2, "Optional:\t%t\n", valueOr(v.Secret.Optional, false))
		case v.HostPath != nil:
			p(2, "Type:\tHostPath (bare host directory volume)\n")
			p(2, "Path:\t%s\n", v.HostPath.Path)
			p(2, "HostPathType:\t%s\n", valueOr(v.HostPath.Type, ""))
		case v.DownwardAPI != nil:
			p(2, "Type:\tDownwardAPI (a volume populated by information about the pod)\n")
		case v.Projected != nil:
			p(2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n")
		default:
			p(2, "<unknown>\n")
		}
	}
}

// describeEvents is kubectl's Events table; a repeated event's age reads
// "AGE (xN over T)", T the age of its first occurrence.
func describeEvents(p printer, events []PodEvent, now time.Time) {
	if len(events) == 0 {
		p(0, "Events:\t<none>\n")
		return
	}
	p(0, "Events:\n")
	p(1, "Type\tReason\tAge\tFrom\tMessage\n")
	p(1, "----\t------\t----\t----\t-------\n")
	for _, e := range events {
		age := EventAge(now, e.LastSeen)
		if e.Count > 1 {
			age = fmt.Sprintf("%s (x%d over %s)", age, e.Count, EventAge(now, e.FirstSeen))
		}
		p(1, "%s\t%s\t%s\t%s\t%s\n", e.Type, e.Reason, age, e.Source, strings.TrimSpace(e.Message))
	}
}

// EventAge is kubectl's translateTimestampSince: a short human duration.
func EventAge(now, t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t))
}
