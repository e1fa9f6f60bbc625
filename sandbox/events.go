package sandbox

import "time"

// Kubernetes events about pods (kubectl get events, kubectl describe's
// Events section). kubelet records them through its EventRecorder with the
// pod as involvedObject and the container as fieldPath
// ("spec.containers{NAME}"); the API server's event correlator folds
// repeats of the same reason and message into one event with a count.
// podsim has no API server, so each pod keeps its own log beside its
// record (<state>/pods/<id>/events.jsonl, one JSON event per line, appended)
// and repeats are folded the same way when the log is read (foldEventLog).
// Events go with the pod when it is deleted.

// Event types, as in corev1.EventTypeNormal/EventTypeWarning.
const (
	EventNormal  = "Normal"
	EventWarning = "Warning"
)

// PodEvent is one event about a pod or one of its containers.
type PodEvent struct {
	Namespace string `json:"namespace,omitempty"` // filled from the pod record when read
	Pod       string `json:"pod,omitempty"`
	Type      string `json:"type"`   // Normal or Warning
	Reason    string `json:"reason"` // Scheduled, Pulled, Created, Started, Killing, Unhealthy, BackOff, ...
	// FieldPath names the container, as kubelet does:
	// spec.containers{NAME}, spec.initContainers{NAME}, ... ("" for the pod).
	FieldPath string    `json:"fieldPath,omitempty"`
	Message   string    `json:"message"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"firstTimestamp"`
	LastSeen  time.Time `json:"lastTimestamp"`
	// Source is the component that reported it: kubelet's work is
	// "kubelet", the scheduler's "default-scheduler", as on a node.
	Source string `json:"source,omitempty"`
}

// maxPodEvents bounds a pod's list: the oldest go first, as the API
// server's event TTL would drop them.
const maxPodEvents = 200

// same reports whether e repeats ev (the correlator's key: same object,
// reason, type and message).
func (e PodEvent) same(ev PodEvent) bool {
	return e.Type == ev.Type && e.Reason == ev.Reason && e.FieldPath == ev.FieldPath && e.Message == ev.Message
}

// foldEvent adds ev to list: a repeat raises the count (by ev's own count,
// which is more than 1 for a line a compaction wrote) and last-seen time
// of the event it repeats, anything else is appended (oldest dropped past
// maxPodEvents).
func foldEvent(list []PodEvent, ev PodEvent) []PodEvent {
	if ev.Count < 1 {
		ev.Count = 1
	}
	for i := range list {
		if list[i].same(ev) {
			list[i].Count += ev.Count
			list[i].LastSeen = ev.LastSeen
			return list
		}
	}
	list = append(list, ev)
	if len(list) > maxPodEvents {
		list = list[len(list)-maxPodEvents:]
	}
	return list
}

// ContainerFieldPath is kubelet's fieldPath for a container of the pod:
// spec.initContainers{NAME}, spec.containers{NAME} or
// spec.ephemeralContainers{NAME}.
func (r *Record) ContainerFieldPath(name string) string {
	for _, c := range r.Pod.Spec.InitContainers {
		if c.Name == name {
			return "spec.initContainers{" + name + "}"
		}
	}
	for _, c := range r.Pod.Spec.EphemeralContainers {
		if c.Name == name {
			return "spec.ephemeralContainers{" + name + "}"
		}
	}
	return "spec.containers{" + name + "}"
}
