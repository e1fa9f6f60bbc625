package sandbox

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// The field table: every field of the Kubernetes types podsim reads from a
// manifest (v1.PodSpec with its containers, security contexts, volumes,
// mounts and ports; apps/v1 DeploymentSpec; v1.ServiceSpec and ServicePort),
// each supported, warned about or refused, with what Kubernetes means by it
// and what podsim does instead. Validation walks a manifest's object with
// this table, so a field that is set is either acted on, warned about by
// name or refused by name: nothing is dropped without a word.
// TestFieldTableCoversAPI keeps the table complete for the k8s.io/api
// version in go.mod; `podsim explain` and docs/fields.md print it.

// FieldStatus says what podsim does with a field that is set.
type FieldStatus string

const (
	// FieldSupported fields are acted on as kubelet would (validation may
	// still refuse some values; the text says which).
	FieldSupported FieldStatus = "supported"
	// FieldWarned fields are accepted but have no effect; setting one gives a
	// warning naming it.
	FieldWarned FieldStatus = "warned"
	// FieldRefused fields would make podsim's pod differ from a node's;
	// setting one is an error naming it.
	FieldRefused FieldStatus = "refused"
)

// Field is one row of the table.
type Field struct {
	// Path in `kubectl explain` style: "pod.spec.containers.securityContext.runAsNonRoot".
	Path   string
	Status FieldStatus
	// Kubernetes is what the field means on a node.
	Kubernetes string
	// Podsim is what podsim does with it; for warned and refused fields
	// it is the warning or error, and says the fix.
	Podsim string
	// Accept lists values that are what podsim does anyway: a warned or
	// refused field set to one of them passes without a word (hostNetwork:
	// false, restartPolicy: Never, service type ClusterIP).
	Accept []string
}

// Fields returns the whole table, sorted by path.
func Fields() []Field {
	t := fieldTable()
	sort.Slice(t, func(i, j int) bool { return t[i].Path < t[j].Path })
	return t
}

// LookupField returns a field by path. Paths under
// deployment.spec.template.spec are the pod's (pod.spec...).
func LookupField(path string) (Field, bool) {
	table, _ := fieldIndex()
	f, ok := table[CanonicalFieldPath(path)]
	return f, ok
}

// fieldIndex is the table by path, and the paths that have rows below
// them; built once per process (every pod, Deployment and Service
// validation walks it).
var fieldIndex = sync.OnceValues(func() (map[string]Field, map[string]bool) {
	table := map[string]Field{}
	for _, f := range fieldTable() {
		table[f.Path] = f
	}
	parents := map[string]bool{}
	for p := range table {
		for i := strings.LastIndex(p, "."); i > 0; i = strings.LastIndex(p[:i], ".") {
			parents[p[:i]] = true
		}
	}
	return table, parents
})

// FieldChildren returns the fields directly under path (the members of a
// struct), sorted by path.
func FieldChildren(path string) []Field {
	path = CanonicalFieldPath(path)
	var out []Field
	for _, f := range Fields() {
		if rest, ok := strings.CutPrefix(f.Path, path+"."); ok && !strings.Contains(rest, ".") {
			out = append(out, f)
		}
	}
	return out
}

// CanonicalFieldPath maps kind aliases (pods, po, deploy, svc, ...) to the
// table's names and a Deployment's pod template to pod.spec.
func CanonicalFieldPath(path string) string {
	kind, rest, _ := strings.Cut(strings.TrimSpace(path), ".")
	switch strings.ToLower(kind) {
	case "pod", "pods", "po":
		kind = "pod"
	case "deployment", "deployments", "deploy", "deployment.apps":
		kind = "deployment"
	case "service", "services", "svc":
		kind = "service"
	}
	if rest == "" {
		return kind
	}
	path = kind + "." + rest
	if r, ok := strings.CutPrefix(path, "deployment.spec.template.spec"); ok {
		return "pod.spec" + r
	}
	return path
}

// NearestFieldPath suggests the known path closest to an unknown one: the
// one whose field name is closest to the unknown one's (a field asked for
// at the wrong level, or misspelt), then whose whole path is closest.
func NearestFieldPath(path string) string {
	path = strings.ToLower(CanonicalFieldPath(path))
	last := path[strings.LastIndex(path, ".")+1:]
	best, bestScore := "", 0
	for _, f := range Fields() {
		p := strings.ToLower(f.Path)
		score := editDistance(last, p[strings.LastIndex(p, ".")+1:])*1000 + editDistance(path, p)
		if best == "" || score < bestScore {
			best, bestScore = f.Path, score
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// fieldRoots are the types the table describes, by the path of their root.
// Walks (validation, the completeness test) start here.
func fieldRoots() map[string]reflect.Type {
	return map[string]reflect.Type{
		"pod.spec":        reflect.TypeOf(corev1.PodSpec{}),
		"deployment.spec": reflect.TypeOf(appsv1.DeploymentSpec{}),
		"service.spec":    reflect.TypeOf(corev1.ServiceSpec{}),
	}
}

// CheckDeploymentFields checks the set fields of a Deployment's spec
// (not its pod template: Validate does that) against the table. Warnings
// start with "deployment NAME: ".
func CheckDeploymentFields(d *appsv1.Deployment) (warnings []string, err error) {
	warnings, errs := checkFields("deployment.spec", "spec", reflect.ValueOf(&d.Spec).Elem())
	for i, w := range warnings {
		warnings[i] = "deployment " + d.Name + ": " + w
	}
	if len(errs) > 0 {
		return warnings, fmt.Errorf("%w: deployment %s: %s", ErrInvalidPod, d.Name, strings.Join(errs, "; "))
	}
	return warnings, nil
}

// CheckServiceFields checks the set fields of a Service's spec against the
// table. Warnings start with "service NAME: ".
func CheckServiceFields(svc *corev1.Service) (warnings []string, err error) {
	warnings, errs := checkFields("service.spec", "spec", reflect.ValueOf(&svc.Spec).Elem())
	for i, w := range warnings {
		warnings[i] = "service " + svc.Name + ": " + w
	}
	if len(errs) > 0 {
		return warnings, fmt.Errorf("service %s: %s", svc.Name, strings.Join(errs, "; "))
	}
	return warnings, nil
}

// checkFields walks a struct value with the table: every field that is set
// is looked up; a supported field with fields of its own in the table is
// walked into (each element of a list, named by its name or index), a
// warned field gives a warning, a refused field an error, both starting
// with the field's place in the object (display), e.g.
// "spec.containers[c1].securityContext.runAsNonRoot". A set field missing
// from the table is refused: podsim does not know what it would drop.
func checkFields(path, display string, v reflect.Value) (warns, errs []string) {
	table, parents := fieldIndex()
	var walk func(path, display string, v reflect.Value)
	walk = func(path, display string, v reflect.Value) {
		eachJSONField(v.Type(), func(name string, idx []int) {
			fv := v.FieldByIndex(idx)
			if fv.IsZero() {
				return
			}
			p, d := path+"."+name, display+"."+name
			f, ok := table[p]
			switch {
			case !ok:
				errs = append(errs, fmt.Sprintf("%s: podsim does not know this field (it is newer than podsim's table): remove it", d))
			case f.Status == FieldSupported && parents[p]:
				for fv.Kind() == reflect.Pointer {
					fv = fv.Elem()
				}
				switch fv.Kind() {
				case reflect.Struct:
					walk(p, d, fv)
				case reflect.Slice:
					for i := 0; i < fv.Len(); i++ {
						walk(p, d+"["+elementName(fv.Index(i), i)+"]", fv.Index(i))
					}
				}
			case f.Status == FieldSupported || accepted(f, fv):
			case f.Status == FieldWarned:
				warns = append(warns, withValue(d, fv)+": "+f.Podsim)
			default:
				errs = append(errs, withValue(d, fv)+": "+f.Podsim)
			}
		})
	}
	walk(path, display, v)
	return warns, errs
}

// withValue adds a string value to a field's place ("spec.type \"NodePort\""),
// so the message says which value was refused.
func withValue(display string, v reflect.Value) string {
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() == reflect.String {
		return fmt.Sprintf("%s %q", display, v.String())
	}
	return display
}

// eachJSONField calls fn with the JSON name and index of every field of a
// struct type, descending into inline (embedded) structs.
func eachJSONField(t reflect.Type, fn func(name string, index []int)) {
	var rec func(t reflect.Type, prefix []int)
	rec = func(t reflect.Type, prefix []int) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			idx := append(append([]int(nil), prefix...), i)
			name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "-" || !sf.IsExported() {
				continue
			}
			if name == "" && (sf.Anonymous || strings.Contains(opts, "inline")) && sf.Type.Kind() == reflect.Struct {
				rec(sf.Type, idx)
				continue
			}
			if name == "" {
				continue
			}
			fn(name, idx)
		}
	}
	rec(t, nil)
}

func elementName(v reflect.Value, i int) string {
	if v.Kind() == reflect.Struct {
		if n := v.FieldByName("Name"); n.IsValid() && n.Kind() == reflect.String && n.String() != "" {
			return n.String()
		}
	}
	return strconv.Itoa(i)
}

// accepted reports whether a set field's value is one of its Accept values.
func accepted(f Field, v reflect.Value) bool {
	if len(f.Accept) == 0 {
		return false
	}
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	var s string
	switch v.Kind() {
	case reflect.Bool:
		s = strconv.FormatBool(v.Bool())
	case reflect.String:
		s = v.String()
	case reflect.Int, reflect.Int32, reflect.Int64:
		s = strconv.FormatInt(v.Int(), 10)
	case reflect.Slice:
		var parts []string
		for i := 0; i < v.Len(); i++ {
			if v.Index(i).Kind() != reflect.String {
				return false
			}
			parts = append(parts, v.Index(i).String())
		}
		s = strings.Join(parts, ",")
	default:
		return false
	}
	for _, a := range f.Accept {
		if s == a {
			return true
		}
	}
	return false
}

func supported(path, kube, podsim string) Field {
	return Field{Path: path, Status: FieldSupported, Kubernetes: kube, Podsim: podsim}
}

func warned(path, kube, podsim string, accept ...string) Field {
	return Field{Path: path, Status: FieldWarned, Kubernetes: kube, Podsim: podsim, Accept: accept}
}

func refused(path, kube, podsim string, accept ...string) Field {
	return Field{Path: path, Status: FieldRefused, Kubernetes: kube, Podsim: podsim, Accept: accept}
}

// Shared text of the pod's and the containers' profile fields.
const (
	seccompText  = "As kubelet and containerd's CRI do: RuntimeDefault is containerd's default profile (contrib/seccomp), Localhost the OCI JSON file localhostProfile names under /var/lib/podsim/seccomp (kubelet's <root-dir>/seccomp; a missing or unreadable file refuses the pod before anything is made), Unconfined none; privileged containers get none. Without a profile a container is Unconfined, kubelet 1.34's default (seccompDefault off)."
	appArmorText = "As kubelet and containerd's CRI do where the kernel has AppArmor (/sys/module/apparmor/parameters/enabled is Y) and containerd can load profiles (apparmor_parser): RuntimeDefault (also when unset, except privileged containers) is containerd's cri-containerd.apparmor.d profile (contrib/apparmor), Localhost a profile the host has loaded. Where the kernel has no AppArmor any profile but Unconfined is refused, as kubelet refuses such a pod; Unconfined always passes."
)

const (
	noScheduler = "is ignored: podsim has one node and no scheduler, every pod runs on it"
	noAgent     = "podsim's node agent restarts containers but does not do this yet"
)

// fieldTable builds the table. It is a function, not a package variable, so
// nobody can change it at run time.
func fieldTable() []Field {
	t := []Field{
		supported("pod.spec", "The pod's desired state: its containers, volumes and how they share the node's kernel.",
			"podsim builds it as kubelet and containerd's CRI do: a pod cgroup, a pinned network namespace, a pause container holding the shared namespaces, then the containers."),
		supported("deployment.spec", "A Deployment: a number of identical pods from a template, kept running and rolled out by the Deployment and ReplicaSet controllers.",
			"podsim has no controller loop: 'podsim apply' does once what the controllers would do."),
		supported("service.spec", "A Service: a stable virtual IP and DNS name in front of the pods its selector matches.",
			"podsim has no kube-proxy and no DNS server: a Service's names resolve, in every pod's /etc/hosts, to the IPs of the pods it selects (a headless Service)."),

		// PodSpec.
		supported("pod.spec.volumes", "Volumes the pod's containers can mount.", "emptyDir, configMap, secret, downwardAPI, projected and hostPath volumes are built as kubelet's volume plugins make them; every other source is refused by name."),
		supported("pod.spec.volumes.name", "The volume's name, a DNS label, referenced by volumeMounts.", "Checked and used as kubelet does (it names the directory under the pod's volumes)."),
		supported("pod.spec.initContainers", "Containers run one at a time, each to completion, before the app containers start.", "Run in order, each to exit 0, before the app containers; a failing one is restarted with back-off (Init:CrashLoopBackOff) under restartPolicy OnFailure/Always, or fails the pod (Init:Error, phase Failed) under Never. One with restartPolicy Always is a native sidecar (see initContainers.restartPolicy)."),
		supported("pod.spec.containers", "The pod's app containers.", "Created and started in order, joining the pause container's net, ipc and uts namespaces."),
		refused("pod.spec.ephemeralContainers", "Debugging containers added to a running pod with 'kubectl debug'.",
			"ephemeralContainers cannot be set when a pod is created (the API server refuses them too): add one to the running pod with 'podsim debug POD --image=IMAGE [--target=CONTAINER]'"),
		supported("pod.spec.restartPolicy", "Whether kubelet restarts containers that exit: Always (the default), OnFailure or Never.",
			"Enforced by podsim's node agent with kubelet's back-off (10 s doubling to 5 min, reset after 10 min running; PODSIM_BACKOFF_BASE scales it): a restart is a new container in the same sandbox, so the netns, IP and volumes stay. Failed init containers are restarted with the same back-off under OnFailure and Always."),
		supported("pod.spec.terminationGracePeriodSeconds", "Seconds between SIGTERM and SIGKILL when the pod is deleted.",
			"Honoured by 'podsim delete' and by the node agent's kills; it covers a preStop hook and the SIGTERM wait together (at least 2 s are left for SIGTERM, as in kubelet); a PID 1 without a SIGTERM handler gets SIGKILL at once, since the kernel drops the SIGTERM."),
		supported("pod.spec.activeDeadlineSeconds", "Seconds after which kubelet kills a running pod (reason DeadlineExceeded).",
			"Enforced by podsim's node agent, counted from the pod's start: its containers are stopped (preStop hooks, grace period, sidecars last), the pod's phase becomes Failed with reason DeadlineExceeded and an event; the sandbox stays until 'podsim delete'."),
		supported("pod.spec.dnsPolicy", "Where resolv.conf comes from: ClusterFirst (the cluster DNS, the default), Default (the node's), ClusterFirstWithHostNet, None (only dnsConfig).",
			"As kubelet's GetPodDNS, from the node's resolv.conf (/run/systemd/resolve/resolv.conf if systemd-resolved keeps one, else /etc/resolv.conf): Default copies it; None starts empty; ClusterFirst writes the cluster search path (<ns>.svc.cluster.local svc.cluster.local cluster.local, then the node's), ndots:5 and, as there is no cluster DNS server (Services resolve through /etc/hosts), the node's non-loopback nameservers in its place; on a hostNetwork pod ClusterFirst is Default unless it says ClusterFirstWithHostNet."),
		warned("pod.spec.nodeSelector", "Labels a node must have to run the pod.", "nodeSelector "+noScheduler),
		warned("pod.spec.serviceAccountName", "The ServiceAccount whose identity the pod runs with; its token is mounted into the containers.",
			"serviceAccountName is ignored: there is no API server, so no token is mounted"),
		warned("pod.spec.serviceAccount", "Deprecated alias of serviceAccountName.", "serviceAccount is ignored: there is no API server, so no token is mounted"),
		warned("pod.spec.automountServiceAccountToken", "Whether the ServiceAccount token is mounted at /var/run/secrets/kubernetes.io/serviceaccount.",
			"automountServiceAccountToken is ignored: there is no API server, so no token is ever mounted (false is what podsim does)", "false"),
		warned("pod.spec.nodeName", "Binds the pod to a node directly, bypassing the scheduler.", "nodeName "+noScheduler),
		supported("pod.spec.hostNetwork", "The pod uses the node's network namespace instead of its own.",
			"Done as CRI does: no netns pinned and no CNI; the pause and every container are in the host's network and UTS namespaces, the pod IP is the node's, /etc/hosts is the node's. Refused with a hostPort other than the containerPort and with net.* sysctls."),
		supported("pod.spec.hostPID", "The pod's containers see and share the node's PID namespace.",
			"Done as CRI does: the pause is in the host's PID namespace and the containers join it. Refused with shareProcessNamespace, as the API server does."),
		supported("pod.spec.hostIPC", "The pod uses the node's IPC namespace.",
			"Done as CRI does: the host's IPC namespace and /dev/shm. Refused with IPC sysctls."),
		supported("pod.spec.shareProcessNamespace", "All containers of the pod share one PID namespace; the pause container is PID 1.",
			"Done as CRI does: the containers join the pause container's PID namespace."),
		supported("pod.spec.securityContext", "Security settings for every container of the pod.", "See its fields."),
		warned("pod.spec.imagePullSecrets", "Registry credentials for pulling the pod's images.", "imagePullSecrets are ignored: podsim builds images offline and pulls nothing"),
		supported("pod.spec.hostname", "The pod's hostname (UTS namespace) instead of the pod name.",
			"As kubelet does: the pause's UTS hostname, /etc/hostname, $HOSTNAME and the pod's line in /etc/hosts (checked to be a DNS label)."),
		supported("pod.spec.subdomain", "With hostname, gives the pod the FQDN <hostname>.<subdomain>.<namespace>.svc.cluster.local (kubelet writes it into /etc/hosts).",
			"As kubelet does: /etc/hosts gets '<IP> <fqdn> <hostname>' (no DNS server answers for it here; a headless Service of that name is not resolved by FQDN)."),
		warned("pod.spec.affinity", "Node and pod (anti-)affinity rules for the scheduler.", "affinity "+noScheduler),
		warned("pod.spec.schedulerName", "Which scheduler places the pod.", "schedulerName "+noScheduler),
		warned("pod.spec.tolerations", "Taints of nodes the pod tolerates.", "tolerations "+noScheduler),
		supported("pod.spec.hostAliases", "Extra IP/hostname lines kubelet adds to the pod's /etc/hosts.",
			"As kubelet does: a '# Entries added by HostAliases.' section at the end of the pod's /etc/hosts (also for hostNetwork pods); IPs are checked."),
		warned("pod.spec.priorityClassName", "The PriorityClass deciding the pod's priority for scheduling and preemption.", "priorityClassName "+noScheduler),
		warned("pod.spec.priority", "The pod's priority, filled in from priorityClassName.", "priority "+noScheduler),
		supported("pod.spec.dnsConfig", "Nameservers, search domains and options merged into (or, with dnsPolicy None, making up) the pod's resolv.conf.",
			"Merged as kubelet does: nameservers and searches appended without duplicates, options overriding by name; the API server's limits are errors (3 nameservers, which must be IPs; 32 search domains and 2048 characters; None needs a nameserver); kubelet's cuts of the merged file (3 nameservers, 32 domains, 2048 characters) are warnings and DNSConfigForming events."),
		warned("pod.spec.readinessGates", "Extra conditions, set by other controllers, that must hold before the pod counts as ready.",
			"readinessGates are ignored: no controller sets them here, and podsim counts a running pod as ready"),
		supported("pod.spec.runtimeClassName", "Runs the pod with another container runtime handler (gVisor, Kata, ...), chosen through a RuntimeClass.",
			"As kubelet does: the class (built-in runc and gvisor, or an applied node.k8s.io/v1 RuntimeClass) names a handler, runc or runsc, which picks the containers' runtime in containerd; unknown classes are refused with nothing built. Under gvisor the pod is one gVisor sandbox, as CRI makes it: gVisor's own shim and runsc (--platform=ptrace) boot the pause as a Sentry and run every app container in it (CRI's container-type and sandbox-id annotations), with the Sentry's own network stack on the pod's eth0; class overhead and scheduling are warned about."),
		warned("pod.spec.enableServiceLinks", "Whether kubelet injects the Docker-link variables (<SVC>_SERVICE_HOST, <SVC>_PORT, ...) of the namespace's Services; true when unset.",
			"enableServiceLinks is ignored: podsim injects no service variables (there is no ClusterIP to point them at): use the Service's name (false is what podsim does)", "false"),
		warned("pod.spec.preemptionPolicy", "Whether the pod may preempt lower-priority pods.", "preemptionPolicy "+noScheduler),
		supported("pod.spec.overhead", "Resources the RuntimeClass adds to the pod's cgroup and scheduling (admission copies them into the pod).",
			"As kubelet does: added to the pod cgroup's CPU requests (cpu.shares) and to each pod limit that is set (memory limit, CFS quota)."),
		warned("pod.spec.topologySpreadConstraints", "How to spread pods across zones and nodes.", "topologySpreadConstraints "+noScheduler),
		supported("pod.spec.setHostnameAsFQDN", "The UTS hostname becomes the pod's FQDN (needs hostname and subdomain).",
			"As kubelet does: the UTS hostname is the FQDN when the pod has a subdomain (refused when it is longer than 64 characters, as kubelet refuses it)."),
		supported("pod.spec.os", "The operating system the pod needs.", "See its field."),
		refused("pod.spec.os.name", "linux or windows.", "os.name must be linux: podsim runs Linux containers", "linux"),
		supported("pod.spec.hostUsers", "false: the pod gets a user namespace (its root is an unprivileged user on the node).",
			"Done as kubelet + containerd's CRI (1.7) do: the pod gets 65536 host IDs of its own (a block at 65536 × N from 2^31 up, or the \"podsim\" line of /etc/subuid; kept in the pod's record, freed with it); the pause makes the user namespace (uidMappings/gidMappings) and, inside it, the netns; every container joins it by /proc/<pause>/ns/user. The rootfs is containerd's chowned copy of the image and the volumes and pod files are re-owned to the range (kubelet 1.25-1.27's way: Debian's runc 1.1 cannot make idmapped mounts). Refused with hostNetwork/hostPID/hostIPC, volumes other than emptyDir/configMap/secret/downwardAPI/projected, and runAsUser/runAsGroup above 65535."),
		refused("pod.spec.schedulingGates", "The pod stays Pending (SchedulingGated) until every gate is removed.",
			"schedulingGates are not supported: the pod would run at once instead of waiting for its gates: remove them"),
		refused("pod.spec.resourceClaims", "Dynamic Resource Allocation claims (devices) the pod's containers use.",
			"resourceClaims are not supported: podsim has no resource drivers: remove them"),
		refused("pod.spec.resources", "Pod-level requests and limits, shared by all containers (kubelet sizes the pod cgroup from them).",
			"pod-level resources are not supported yet (kubelet 1.34's PodLevelResources would size the pod cgroup, QoS class and oom_score_adj from them): set requests and limits per container; podsim sizes the pod cgroup from them as kubelet does"),
		refused("pod.spec.hostnameOverride", "The pod's hostname, overriding hostname and subdomain (alpha).",
			"hostnameOverride is not supported: the UTS hostname is the pod name: remove it"),
		warned("pod.spec.schedulingGroup", "The workload group the scheduler places the pod with (alpha).", "schedulingGroup "+noScheduler),
		refused("pod.spec.evictionResponders", "Controllers that must answer before the pod is evicted (alpha).",
			"evictionResponders are not supported: podsim has no eviction API: remove them"),

		// PodSecurityContext.
		warned("pod.spec.securityContext.seLinuxOptions", "SELinux labels for every container.", "securityContext.seLinuxOptions are ignored: podsim applies no SELinux labels"),
		refused("pod.spec.securityContext.windowsOptions", "Windows-only settings.", "securityContext.windowsOptions make no sense on Linux (remove them)"),
		supported("pod.spec.securityContext.runAsUser", "The uid of every container's first process, unless the container sets its own.", "Set as the process uid, as CRI does."),
		supported("pod.spec.securityContext.runAsGroup", "The primary gid of every container's first process.", "Set as the process gid, as CRI does."),
		supported("pod.spec.securityContext.runAsNonRoot", "kubelet refuses to start a container that would run as uid 0.",
			"Checked as kubelet does, before anything of the pod is made: the effective runAsUser if set (uid 0 is refused), else the image's USER (root or empty is refused: \"container has runAsNonRoot and image will run as root\"; a non-numeric USER cannot be verified and is refused too)."),
		supported("pod.spec.securityContext.sysctls", "Namespaced sysctls set in the pod's namespaces before the containers start.",
			"Set in the pod's net/ipc namespaces as CRI does; a sysctl that is not namespaced (it would change the whole node) is refused."),
		supported("pod.spec.securityContext.seccompProfile", "The seccomp filter for every container that sets none: RuntimeDefault, Localhost or Unconfined.", seccompText),
		supported("pod.spec.securityContext.appArmorProfile", "The AppArmor profile for every container that sets none.", appArmorText),
		warned("pod.spec.securityContext.seLinuxChangePolicy", "How volumes get their SELinux label: MountOption or Recursive.", "securityContext.seLinuxChangePolicy is ignored: podsim applies no SELinux labels"),

		// Volume sources.
		supported("pod.spec.volumes.emptyDir", "An empty directory that lives as long as the pod, shared by its containers.",
			"A directory under podsim's pod directory, or a tmpfs with medium Memory, bind-mounted into each container."),
		supported("pod.spec.volumes.emptyDir.medium", "\"\" (the node's disk) or Memory (a tmpfs).", "Both are built; HugePages media are refused."),
		refused("pod.spec.volumes.emptyDir.mode", "The permission bits of the volume's directory (alpha).", "emptyDir.mode is not supported: the directory is 0777 as kubelet makes it by default: remove it"),
		supported("pod.spec.volumes.configMap", "A ConfigMap's keys as files, updated when the ConfigMap changes.",
			"Laid out like kubelet's (..data symlink to a timestamped directory, one symlink per key), read-only, swapped atomically on 'podsim apply'."),
		supported("pod.spec.volumes.configMap.name", "The ConfigMap's name.", "Looked up in the pod's namespace before the pod is built."),
		supported("pod.spec.volumes.configMap.items", "Which keys to project, to which paths.", "Honoured."),
		supported("pod.spec.volumes.configMap.defaultMode", "Permission bits of the files.", "Honoured."),
		supported("pod.spec.volumes.configMap.optional", "A missing ConfigMap (or key) is not an error.", "Honoured: the volume is empty."),
		refused("pod.spec.volumes.configMap.defaultUser", "The owner uid of the files (alpha).", "configMap.defaultUser is not supported: the files are owned by root: remove it"),
		supported("pod.spec.volumes.secret", "A Secret's keys as files, on a tmpfs.", "Laid out like kubelet's on a tmpfs under /run/podsim, never on disk; read-only."),
		supported("pod.spec.volumes.secret.secretName", "The Secret's name.", "Looked up in the pod's namespace before the pod is built."),
		supported("pod.spec.volumes.secret.items", "Which keys to project, to which paths.", "Honoured."),
		supported("pod.spec.volumes.secret.defaultMode", "Permission bits of the files.", "Honoured."),
		supported("pod.spec.volumes.secret.optional", "A missing Secret (or key) is not an error.", "Honoured: the volume is empty."),
		refused("pod.spec.volumes.secret.defaultUser", "The owner uid of the files (alpha).", "secret.defaultUser is not supported: the files are owned by root: remove it"),
	}
	for _, k := range []string{"configMap", "secret"} {
		t = append(t,
			supported("pod.spec.volumes."+k+".items.key", "The key to project.", "Honoured; a missing key keeps the pod from starting unless optional."),
			supported("pod.spec.volumes."+k+".items.path", "The relative path of the file in the volume.", "Honoured; absolute paths and '..' are refused."),
			supported("pod.spec.volumes."+k+".items.mode", "Permission bits of this file.", "Honoured."),
			refused("pod.spec.volumes."+k+".items.user", "The owner uid of this file (alpha).", "items.user is not supported: the files are owned by root: remove it"),
		)
	}
	for _, src := range []struct{ name, what string }{
		{"gcePersistentDisk", "A GCE persistent disk."}, {"awsElasticBlockStore", "An AWS EBS volume."},
		{"gitRepo", "A git repository cloned into an empty directory (deprecated)."}, {"nfs", "An NFS export."},
		{"iscsi", "An iSCSI disk."}, {"glusterfs", "A Glusterfs volume."},
		{"persistentVolumeClaim", "A PersistentVolume bound to a claim."}, {"rbd", "A Ceph RBD image."},
		{"flexVolume", "A FlexVolume driver's volume."}, {"cinder", "An OpenStack Cinder volume."},
		{"cephfs", "A CephFS mount."}, {"flocker", "A Flocker dataset."},
		{"fc", "A Fibre Channel disk."}, {"azureFile", "An Azure File share."},
		{"vsphereVolume", "A vSphere disk."}, {"quobyte", "A Quobyte volume."}, {"azureDisk", "An Azure data disk."},
		{"photonPersistentDisk", "A Photon disk."},
		{"portworxVolume", "A Portworx volume."}, {"scaleIO", "A ScaleIO volume."}, {"storageos", "A StorageOS volume."},
		{"csi", "A CSI driver's inline volume."}, {"ephemeral", "A volume from a PersistentVolumeClaim template, made and deleted with the pod."},
		{"image", "The contents of an OCI image, read-only."},
	} {
		t = append(t, refused("pod.spec.volumes."+src.name, src.what,
			src.name+" volumes are not supported: podsim has no storage drivers; use emptyDir, configMap, secret, downwardAPI, projected or hostPath"))
	}
	t = append(t, volumeFields()...)
	t = append(t, containerFields("pod.spec.initContainers", true)...)
	t = append(t, containerFields("pod.spec.containers", false)...)
	t = append(t, deploymentFields()...)
	return append(t, serviceFields()...)
}

// containerFields are the fields of v1.Container, for app and init
// containers.
func containerFields(p string, init bool) []Field {
	restart := refused(p+".restartPolicy", "Always makes an init container a native sidecar that keeps running beside the app containers; on app containers it overrides the pod's restartPolicy.",
		"restartPolicy on app containers (per-container restarts) is not supported: remove it and use the pod's restartPolicy")
	if init {
		restart = supported(p+".restartPolicy", "Always makes an init container a native sidecar that keeps running beside the app containers.",
			"Always (the only value allowed) makes a native sidecar, as kubelet runs one: started in init order, the next init container waits until it has Started (its startupProbe passed, or it runs and has none); restarted with back-off whenever it exits while the pod runs; it does not hold up the pod's completion (when the app containers are done under Never/OnFailure it is stopped and the pod Succeeds); stopped after the app containers, in reverse order, on deletion.")
	}
	probes := probeFieldText(init)
	return []Field{
		supported(p+".name", "The container's name, a DNS label unique in the pod.", "Checked; names the containerd container <pod-id>-<name>."),
		supported(p+".image", "The image to run.", "Built offline from the host's programs (see 'podsim images'); an image podsim cannot provide is refused."),
		supported(p+".command", "Replaces the image's ENTRYPOINT (and drops its CMD).", "As kubelet does, with $(VAR) expansion."),
		supported(p+".args", "Replaces the image's CMD.", "As kubelet does, with $(VAR) expansion."),
		supported(p+".workingDir", "The working directory, instead of the image's.", "Honoured."),
		supported(p+".ports", "The ports the container listens on (informational, except hostPort).", "Recorded; named ports are resolved for Services' targetPort."),
		supported(p+".ports.name", "A name a Service's targetPort can refer to.", "Honoured."),
		supported(p+".ports.hostPort", "Exposes the port on the node's IP.", "Only with hostNetwork: true, where it must equal containerPort (the pod listens on the host's ports directly); otherwise refused: podsim never exposes pods outside the machine (no port forwarding, no NAT)."),
		supported(p+".ports.containerPort", "The port number in the pod's network namespace.", "Checked to be 1-65535; informational as in Kubernetes."),
		supported(p+".ports.protocol", "TCP (default), UDP or SCTP.", "Informational, as in Kubernetes."),
		refused(p+".ports.hostIP", "The node IP a hostPort binds to.", "hostIP is not supported (podsim never exposes pods outside the machine): remove it"),
		supported(p+".envFrom", "Every key of a ConfigMap or Secret as environment variables.", "As kubelet does: every key (with prefix; keys that are not variable names are skipped), before env; a missing source refuses the pod before anything is made unless optional."),
		supported(p+".env", "Environment variables, after the image's.", "Merged over the image's environment as kubelet does; HOSTNAME is the pod name."),
		supported(p+".env.name", "The variable's name.", "Honoured."),
		supported(p+".env.value", "The variable's value, with $(VAR) references expanded.", "Honoured."),
		supported(p+".env.valueFrom", "The value from a field of the pod (downward API), a resource, a ConfigMap or a Secret key.",
			"As kubelet does: fieldRef (metadata.name/namespace/uid, labels['K'], annotations['K'], spec.nodeName, spec.serviceAccountName, status.podIP(s), status.hostIP(s)), resourceFieldRef (this or another container's, by containerName; the limit or the node's capacity — CPUs, memory, the state file system for ephemeral-storage —, requests, divisor rounded up), configMapKeyRef and secretKeyRef (optional honoured); fileKeyRef (1.34's alpha EnvFiles) is refused by name. $(VAR) is expanded in literal values only, over envFrom's and earlier env's variables (never the image's), as kubelet does. Read when the container is created, as kubelet does."),
		supported(p+".resources", "What the container requests and may use at most.", "See its fields."),
		supported(p+".resources.limits", "Upper bounds: cpu (CFS quota), memory (cgroup limit, OOM kill), ephemeral-storage (eviction).",
			"cpu and memory become the container cgroup's files as kubelet writes them; ephemeral-storage limits are refused (podsim would not evict the pod)."),
		supported(p+".resources.requests", "What the scheduler reserves: cpu (cgroup shares), memory, ephemeral-storage.",
			"cpu and memory set the QoS class, cpu shares and oom_score_adj as kubelet does; ephemeral-storage requests are warned about (there is no scheduler)."),
		refused(p+".resources.claims", "Which of the pod's resourceClaims the container uses.", "resources.claims are not supported: podsim has no resource drivers: remove them"),
		warned(p+".resizePolicy", "Whether a change of requests or limits in place restarts the container.", "resizePolicy is ignored: podsim never resizes a running container (pods are immutable here)"),
		restart,
		refused(p+".restartPolicyRules", "Exit codes for which the container is restarted, or not.", "restartPolicyRules are not supported: "+noAgent+": remove them and use the pod's restartPolicy"),
		supported(p+".volumeMounts", "Where the pod's volumes appear in the container.", "Bind mounts, as CRI makes them."),
		supported(p+".volumeMounts.name", "The volume to mount.", "Must be one of spec.volumes."),
		supported(p+".volumeMounts.readOnly", "Mount read-only.", "A read-only bind mount (checked in mountinfo by the scenarios)."),
		supported(p+".volumeMounts.recursiveReadOnly", "Also make submounts read-only (Disabled, IfPossible, Enabled).",
			"podsim's volumes have no submounts, so a read-only mount is already recursively read-only."),
		supported(p+".volumeMounts.mountPath", "The path in the container.", "Must be absolute, without '..', used once."),
		supported(p+".volumeMounts.subPath", "Mount one file or directory of the volume instead of its root.",
			"Opened without following symlinks and handed to runc as the opened inode, as kubelet does (CVE-2021-25741)."),
		refused(p+".volumeMounts.mountPropagation", "Whether mounts propagate between the host and the container (None, HostToContainer, Bidirectional).",
			"mountPropagation is not supported: podsim's mounts are private: remove it", "None"),
		refused(p+".volumeMounts.subPathExpr", "subPath with $(VAR) references to the container's environment.", "subPathExpr is not supported: use subPath"),
		refused(p+".volumeMounts.bindMountOptions", "Extra bind mount options: noexec, nodev, nosuid (alpha).", "bindMountOptions are not supported: remove them"),
		refused(p+".volumeDevices", "Raw block devices from PersistentVolumeClaims.", "volumeDevices are not supported: podsim has no block volumes"),
		supported(p+".livenessProbe", "kubelet restarts the container when this check fails.", probes["liveness"]),
		supported(p+".readinessProbe", "The container counts as ready (and its pod's IP is in Services) only while this check passes.", probes["readiness"]),
		supported(p+".startupProbe", "Holds the other probes back until the container has started.", probes["startup"]),
		supported(p+".lifecycle", "postStart and preStop hooks kubelet runs in the container, and the stop signal.",
			"As kubelet runs them: postStart (exec in the container, httpGet from the node to the pod's IP, sleep) right after the container starts and before the next one; a failing one is a FailedPostStartHook event and the container is killed (then restarted per policy). preStop (same actions) before SIGTERM, inside terminationGracePeriodSeconds, on deletion and on the agent's kills; a failing one is a FailedPreStopHook event and the kill goes on. Refused: httpGet.host (podsim only talks to the pod's IP), tcpSocket (kubelet does not run it), stopSignal; regular init containers may not have hooks."),
		supported(p+".terminationMessagePath", "The file (default /dev/termination-log) kubelet reads into the container's status message when it exits.",
			"An empty 0666 file from the pod's directory is mounted there, as kubelet does; what the container wrote (at most 4096 bytes) is its terminated state's message and, after a restart, its lastState's."),
		supported(p+".terminationMessagePolicy", "File (the default) or FallbackToLogsOnError: where the termination message comes from.",
			"As kubelet: FallbackToLogsOnError uses the end of the container's log (last 80 lines, at most 2048 bytes) when the file is empty and the container failed."),
		warned(p+".imagePullPolicy", "When kubelet pulls the image: Always, IfNotPresent or Never.",
			"imagePullPolicy Always is ignored: podsim builds images offline and never pulls (IfNotPresent and Never are what podsim does)", "IfNotPresent", "Never"),
		supported(p+".securityContext", "Security settings of this container, over the pod's.", "See its fields."),
		warned(p+".stdin", "Keep a stdin open for the container's process (kubectl attach).", "stdin on the container is ignored: use 'podsim exec -i' or 'podsim run -i'"),
		warned(p+".stdinOnce", "Close stdin after the first attach ends.", "stdinOnce on the container is ignored: use 'podsim exec -i' or 'podsim run -i'"),
		warned(p+".tty", "Give the process a terminal.", "tty on the container is ignored: use 'podsim exec -it'"),

		// SecurityContext.
		supported(p+".securityContext.capabilities", "Capabilities added to or dropped from the runtime's default set (ALL allowed).", "As CRI does, with ALL expanded."),
		supported(p+".securityContext.privileged", "Every capability, the host's devices, no masked /proc paths, writable /sys.", "As CRI does."),
		warned(p+".securityContext.seLinuxOptions", "SELinux labels of the container.", "securityContext.seLinuxOptions are ignored: podsim applies no SELinux labels"),
		refused(p+".securityContext.windowsOptions", "Windows-only settings.", "securityContext.windowsOptions make no sense on Linux (remove them)"),
		supported(p+".securityContext.runAsUser", "The uid of the container's first process.", "Set as the process uid, as CRI does."),
		supported(p+".securityContext.runAsGroup", "The primary gid of the container's first process.", "Set as the process gid, as CRI does."),
		supported(p+".securityContext.runAsNonRoot", "kubelet refuses to start the container if it would run as uid 0.",
			"Checked as kubelet does, before anything of the pod is made: the effective runAsUser if set (uid 0 is refused), else the image's USER (root or empty is refused: \"container has runAsNonRoot and image will run as root\"; a non-numeric USER cannot be verified and is refused too)."),
		supported(p+".securityContext.readOnlyRootFilesystem", "The container's root filesystem is read-only.", "As CRI does."),
		supported(p+".securityContext.allowPrivilegeEscalation", "false sets no_new_privs on the process.", "As CRI does: no_new_privs only with false."),
		supported(p+".securityContext.procMount", "Default (kubelet's masked and read-only /proc paths) or Unmasked (none; only with hostUsers: false).",
			"As kubelet and CRI do: Default masks kubelet's paths; Unmasked passes no masked or read-only paths and, as the API server requires, is refused unless spec.hostUsers is false."),
		supported(p+".securityContext.seccompProfile", "The container's seccomp filter, over the pod's: RuntimeDefault, Localhost or Unconfined.", seccompText),
		supported(p+".securityContext.appArmorProfile", "The container's AppArmor profile, over the pod's (and over the deprecated container.apparmor.security.beta.kubernetes.io/<name> annotation, which podsim reads too).", appArmorText),
	}
}

func deploymentFields() []Field {
	return []Field{
		supported("deployment.spec.replicas", "How many pods to run (default 1).",
			"Kept by the node agent's Deployment controller: a pod deleted or lost in a crash is replaced (ReplicaSet behaviour); scaled by 'podsim apply'; 0 to 100."),
		supported("deployment.spec.selector", "Which pods the Deployment owns; must match the template's labels.", "Checked against the template's labels."),
		supported("deployment.spec.template", "The pod template; every pod.spec field applies as for a pod (see 'podsim explain pod.spec').",
			"Pods are named <deployment>-<pod-template-hash>-<suffix>, like the ReplicaSet controller's; restartPolicy must be Always, as the API server requires."),
		supported("deployment.spec.strategy", "How a changed template replaces the old pods.", "See its fields."),
		supported("deployment.spec.strategy.type", "RollingUpdate (default: new pods while old ones still serve) or Recreate (all old pods are removed before new ones start).",
			"Both, as the Deployment controller does them; 'podsim apply' drives the rollout to the end, like 'kubectl apply' then 'kubectl rollout status'."),
		supported("deployment.spec.strategy.rollingUpdate", "maxSurge and maxUnavailable: how many pods above and below replicas a rollout may use.",
			"Honoured round by round (default 25% each; maxSurge rounds up, maxUnavailable down, and both 0 makes maxUnavailable 1, as the controller's ResolveFenceposts)."),
		supported("deployment.spec.minReadySeconds", "Seconds a new pod must be ready before it counts as available.", "A new pod counts as available once ready and running this long; old pods go only as new ones become available."),
		warned("deployment.spec.revisionHistoryLimit", "How many old ReplicaSets are kept for 'kubectl rollout undo'.", "revisionHistoryLimit is ignored: podsim keeps no old revisions (apply the old manifest to go back)"),
		supported("deployment.spec.paused", "A paused Deployment does not roll out template changes.",
			"A paused Deployment keeps (and scales) the pods of the template it rolled out last; the new template is stored and rolled out when paused is set back to false."),
		supported("deployment.spec.progressDeadlineSeconds", "Seconds before a stalled rollout is reported as failed (default 600).",
			"'podsim apply' fails with ProgressDeadlineExceeded when new pods do not become available in time; the pods stay, and the agent's controller keeps trying, as on a cluster."),
	}
}

func serviceFields() []Field {
	outside := "(podsim never exposes pods outside the machine)"
	return []Field{
		supported("service.spec.ports", "The ports the Service offers.", "Resolved to pod IPs: each port must equal its targetPort, since nothing forwards one to the other."),
		supported("service.spec.ports.name", "The port's name.", "Honoured."),
		supported("service.spec.ports.protocol", "TCP (default), UDP or SCTP.", "Any: clients reach the pod's IP directly."),
		warned("service.spec.ports.appProtocol", "A hint for implementations (http, h2c, kubernetes.io/ws, ...).", "appProtocol is ignored: clients reach the pods directly"),
		supported("service.spec.ports.port", "The port clients use.", "Must be 1-65535 and equal the targetPort."),
		supported("service.spec.ports.targetPort", "The pods' port (a number or a named container port); default: port.", "Must land on the same number as port, named ports included."),
		refused("service.spec.ports.nodePort", "The port opened on every node for type NodePort or LoadBalancer.", "nodePort is not supported "+outside+": remove it"),
		supported("service.spec.selector", "The labels of the pods the Service sends traffic to.", "Required: the names resolve to the IPs of the running pods it matches."),
		refused("service.spec.clusterIP", "The Service's virtual IP; None makes it headless (names resolve to pod IPs).",
			"clusterIP is not supported: podsim has no virtual IPs, its Services are headless (names resolve to pod IPs): remove it or set None", "None"),
		refused("service.spec.clusterIPs", "The Service's virtual IPs, one per IP family.",
			"clusterIPs are not supported: podsim has no virtual IPs, its Services are headless: remove them or set [None]", "None"),
		refused("service.spec.type", "ClusterIP (default), NodePort, LoadBalancer or ExternalName.",
			"this type is not supported: podsim opens no node ports and makes no load balancers "+outside+", and its Services name pods only (no CNAME for ExternalName): remove type (ClusterIP, the default, is what podsim gives: the names resolve to the selected pods' IPs)", "ClusterIP"),
		refused("service.spec.externalIPs", "Node IPs on which kube-proxy also accepts the Service's traffic.", "externalIPs are not supported "+outside+": remove them"),
		refused("service.spec.sessionAffinity", "ClientIP sends each client to the same pod.",
			"sessionAffinity ClientIP is not supported: each client's resolver picks among the pod IPs itself: remove it (None is what podsim does)", "None"),
		refused("service.spec.loadBalancerIP", "The IP a cloud load balancer should get (deprecated).", "loadBalancerIP is not supported "+outside+": remove it"),
		refused("service.spec.loadBalancerSourceRanges", "Client ranges a cloud load balancer accepts.", "loadBalancerSourceRanges are not supported "+outside+": remove them"),
		refused("service.spec.externalName", "For type ExternalName: the DNS name the Service is a CNAME of.", "externalName is not supported: podsim's Services name pods only: remove it"),
		refused("service.spec.externalTrafficPolicy", "Cluster or Local: how node-external traffic is routed.", "externalTrafficPolicy is not supported "+outside+": remove it"),
		refused("service.spec.healthCheckNodePort", "The node port a load balancer checks for type LoadBalancer with externalTrafficPolicy Local.", "healthCheckNodePort is not supported "+outside+": remove it"),
		supported("service.spec.publishNotReadyAddresses", "Names resolve to pods that are not ready too.", "Honoured: the Service's names resolve to every running pod it selects, ready or not (without it, to ready pods only)."),
		refused("service.spec.sessionAffinityConfig", "The timeout of ClientIP session affinity.", "sessionAffinityConfig is not supported (no session affinity): remove it"),
		warned("service.spec.ipFamilies", "IPv4 and/or IPv6.", "ipFamilies is ignored: podsim's pod network is IPv4 only", "IPv4"),
		warned("service.spec.ipFamilyPolicy", "SingleStack, PreferDualStack or RequireDualStack.", "ipFamilyPolicy is ignored: podsim's pod network is IPv4 only", "SingleStack"),
		refused("service.spec.allocateLoadBalancerNodePorts", "Whether a LoadBalancer Service gets node ports.", "allocateLoadBalancerNodePorts is not supported "+outside+": remove it"),
		refused("service.spec.loadBalancerClass", "Which load balancer implementation serves the Service.", "loadBalancerClass is not supported "+outside+": remove it"),
		supported("service.spec.internalTrafficPolicy", "Cluster or Local (only endpoints on the client's node).", "podsim has one node, so Local and Cluster reach the same pods."),
		warned("service.spec.trafficDistribution", "A preference for endpoints close to the client (PreferClose, ...).", "trafficDistribution is ignored: podsim has one node, every pod is as close as any other"),
	}
}
