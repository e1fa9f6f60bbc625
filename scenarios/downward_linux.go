package scenarios

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// DownwardAPIYAML is a pod that learns about itself from kubelet: its
// name, IP, a label and its memory limit as environment variables (read
// once, when the container starts), and its labels, annotations and
// memory limit as files of a downwardAPI volume (rewritten when the
// labels change).
const DownwardAPIYAML = `apiVersion: v1
kind: Pod
metadata:
  name: downward-api
  labels: {app: shop, tier: backend}
  annotations: {owner: team-a}
spec:
  containers:
  - name: app
    image: busybox
    command: ['sleep', '5000']
    resources:
      limits: {memory: 64Mi, cpu: 250m}
    env:
    - name: MY_POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: MY_POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: MY_TIER
      valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}
    - name: MY_MEM_LIMIT_MI
      valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}
    volumeMounts:
    - {name: podinfo, mountPath: /etc/podinfo}
  volumes:
  - name: podinfo
    downwardAPI:
      items:
      - {path: name, fieldRef: {fieldPath: metadata.name}}
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: annotations, fieldRef: {fieldPath: metadata.annotations}}
      - {path: mem_limit_mi, resourceFieldRef: {containerName: app, resource: limits.memory, divisor: 1Mi}}
`

func downwardAPI() *Scenario {
	return &Scenario{
		Name:      "downward-api",
		Summary:   "downward API: a pod learns its name, IP, labels and memory limit from env and files; a new label reaches the file",
		Manifests: []string{DownwardAPIYAML},
		Run: func(ctx context.Context, t *T) {
			p, err := t.Procs(ctx, "downward-api")
			if err != nil || p.PID["app"] == 0 {
				t.Check("read the pod's processes", "", fmt.Sprint(err), false)
				return
			}
			n, ok := t.NeedsNode(ctx, "downward-api", "kernel: the downward API's values in the process's environment, cgroup and mount namespace")
			if !ok {
				return
			}
			downwardEnv(ctx, t, n, p)
			downwardFilesCheck(ctx, t, n, p)
			downwardLabelUpdate(ctx, t, n, p)
		},
	}
}

// downwardEnv: the variables kubelet computed, against the kernel's own
// answers (the IP on eth0 in the pod's netns, the environ of the process).
func downwardEnv(ctx context.Context, t *T, n Node, p *Procs) {
	out, code, cmd := t.Exec(ctx, "downward-api", "app", "sh", "-c", "env | grep ^MY_ | sort; ip -4 -o addr show eth0")
	ipOnEth0 := inetAddr(out)
	t.Check("env: the container knows its name, tier and 64Mi limit, and MY_POD_IP is the address the kernel has on its eth0",
		cmd, out, code == 0 && strings.Contains(out, "MY_POD_NAME=downward-api\n") && strings.Contains(out, "MY_TIER=backend\n") &&
			strings.Contains(out, "MY_MEM_LIMIT_MI=64\n") && ipOnEth0 != "" && strings.Contains(out, "MY_POD_IP="+ipOnEth0+"\n"))
	environ, err := n.ReadFile(ctx, fmt.Sprintf("/proc/%d/environ", p.PID["app"]))
	vars := strings.ReplaceAll(string(environ), "\x00", "\n")
	ip := p.Pod.Status.PodIP
	t.Check("kernel: the process's environment block, read from the host, holds the same values",
		fmt.Sprintf("tr '\\0' '\\n' < /proc/%d/environ | grep ^MY_", p.PID["app"]), grepLines(vars, "MY_", 6)+errOrEmpty(err),
		err == nil && ip != "" && strings.Contains(vars, "MY_POD_NAME=downward-api\n") && strings.Contains(vars, "MY_POD_IP="+ip+"\n"))
}

// downwardFilesCheck: the volume's files, and the memory limit they state
// against the container's cgroup file (found from /proc/<pid>/cgroup).
func downwardFilesCheck(ctx context.Context, t *T, n Node, p *Procs) {
	out, code, cmd := t.Exec(ctx, "downward-api", "app", "sh", "-c",
		"for f in name labels annotations mem_limit_mi; do echo \"== $f\"; cat /etc/podinfo/$f; echo; done; ls -la /etc/podinfo")
	t.Check("files: name, labels (kubelet's key=\"value\" lines), annotations and the limit in MiB, behind the ..data symlink",
		cmd, out, code == 0 && strings.Contains(out, "== name\ndownward-api\n") && strings.Contains(out, "app=\"shop\"\ntier=\"backend\"\n") &&
			strings.Contains(out, "owner=\"team-a\"") && strings.Contains(out, "== mem_limit_mi\n64\n") && strings.Contains(out, "..data ->"))
	file := "memory.max"
	dir, err := t.CgroupDir(ctx, n, p.PID["app"], file)
	limit, err2 := t.CgroupFile(ctx, n, p.PID["app"], file)
	if err == nil && err2 != nil {
		file = "memory.limit_in_bytes" // cgroup v1
		limit, err2 = t.CgroupFile(ctx, n, p.PID["app"], file)
	}
	if err == nil {
		err = err2
	}
	v, _ := strconv.ParseInt(limit, 10, 64)
	t.Check("kernel: the container's memory cgroup limit is the file's 64 MiB", "cat "+path.Join(dir, file),
		fmt.Sprintf("%s bytes = %d MiB %s", limit, v>>20, errOrEmpty(err)), err == nil && v == 64<<20)
}

// downwardLabelUpdate: 'podsim label' (kubectl label on a cluster) changes
// the pod's labels; kubelet's rewrite reaches the mounted file (seen from
// the host through the container's mount namespace), the environment does
// not change.
func downwardLabelUpdate(ctx context.Context, t *T, n Node, p *Procs) {
	before, _, _ := t.Exec(ctx, "downward-api", "app", "readlink", "/etc/podinfo/..data")
	if err := t.B.Label(ctx, "downward-api", map[string]string{"tier": "frontend", "release": "canary"}); err != nil {
		t.Check("podsim label --overwrite pod downward-api tier=frontend release=canary", "", err.Error(), false)
		return
	}
	// podsim rewrites the files at once; a kubelet at its next sync of the
	// pod, which the label change triggers (seconds).
	var out string
	ok := Eventually(ctx, 90*time.Second, func() bool {
		out, _, _ = t.Exec(ctx, "downward-api", "app", "cat", "/etc/podinfo/labels")
		return strings.Contains(out, `tier="frontend"`)
	})
	after, _, _ := t.Exec(ctx, "downward-api", "app", "readlink", "/etc/podinfo/..data")
	t.Check("after 'podsim label --overwrite pod downward-api tier=frontend release=canary' the mounted file has the new labels, through a new ..data directory",
		"podsim exec downward-api -- cat /etc/podinfo/labels", fmt.Sprintf("%s\n..data: %s -> %s", out, strings.TrimSpace(before), strings.TrimSpace(after)),
		ok && strings.Contains(out, `release="canary"`) && strings.TrimSpace(before) != strings.TrimSpace(after))
	host := fmt.Sprintf("/proc/%d/root/etc/podinfo/labels", p.PID["app"])
	b, err := n.ReadFile(ctx, host)
	env, code, cmd := t.Exec(ctx, "downward-api", "app", "sh", "-c", "echo $MY_TIER")
	t.Check("kernel: the host reads the new file through the container's mount namespace; the environment keeps tier=backend (env is read once, at start)",
		"cat "+host+"; "+cmd, string(b)+errOrEmpty(err)+"\nMY_TIER="+env,
		err == nil && strings.Contains(string(b), `tier="frontend"`) && code == 0 && strings.TrimSpace(env) == "backend")
}

// inetAddr is the address after "inet" in `ip -4 -o addr` output.
func inetAddr(out string) string {
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "inet" {
			a, _, _ := strings.Cut(f[i+1], "/")
			return a
		}
	}
	return ""
}
