package bench

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsim/podsim/sandbox"
)

// Case is one pod the bench builds again and again through every system.
type Case struct {
	Name        string
	Description string
	// Images the pod needs; the case is skipped (and says so) when podsim
	// cannot provide one of them offline.
	Images []string
	// yaml renders the manifest for a pod name; pullPolicy is "" or a
	// Kubernetes imagePullPolicy (podman needs IfNotPresent for :latest
	// images, or it tries a registry).
	yaml func(name, pullPolicy string) string
	// Systems, when set, are the only systems that can run the case (the
	// others have no such runtime here); the rest are left out of it and
	// the report says so.
	Systems []string
	// Needs says why the case cannot run on this host ("" = it can).
	Needs func() string
}

// RunsOn says whether the case can run through the named system.
func (c *Case) RunsOn(system string) bool {
	return len(c.Systems) == 0 || slices.Contains(c.Systems, system)
}

// Manifest renders the case's pod manifest.
func (c *Case) Manifest(name, pullPolicy string) string { return c.yaml(name, pullPolicy) }

// Pod parses the case's manifest into a Pod (the same parser `podsim apply`
// uses), in the given Kubernetes namespace.
func (c *Case) Pod(name, namespace string) (*corev1.Pod, error) {
	return ParsePod([]byte(c.Manifest(name, "")), c.Name, namespace)
}

// ParsePod reads exactly one Pod from a manifest.
func ParsePod(manifest []byte, source, namespace string) (*corev1.Pod, error) {
	objs, err := sandbox.ParseManifests(bytes.NewReader(manifest), source)
	if err != nil {
		return nil, err
	}
	var pods []*corev1.Pod
	for _, o := range objs {
		if o.Pod != nil {
			pods = append(pods, o.Pod)
		}
	}
	if len(pods) != 1 {
		return nil, fmt.Errorf("%s: want exactly one Pod, found %d objects with %d pods", source, len(objs), len(pods))
	}
	p := pods[0]
	if namespace != "" {
		p.Namespace = namespace
	}
	if p.Namespace == "" {
		p.Namespace = "default"
	}
	return p, nil
}

// WorkloadArg is the argument of the bench pods' `sleep`: long enough to
// outlive any run, and unusual enough to find the processes by.
const WorkloadArg = "86400"

func pullLine(indent, policy string) string {
	if policy == "" {
		return ""
	}
	return indent + "imagePullPolicy: " + policy + "\n"
}

// Cases are the bench pods, in the order they are reported.
func Cases() []*Case {
	return []*Case{
		{
			Name:        "1c",
			Description: "one busybox container (sleep)",
			Images:      []string{"busybox"},
			yaml: func(name, pp string) string {
				return `apiVersion: v1
kind: Pod
metadata:
  name: ` + name + `
spec:
  containers:
  - name: c1
    image: busybox
` + pullLine("    ", pp) + `    command: ['sleep', '` + WorkloadArg + `']
`
			},
		},
		{
			Name:        "2c",
			Description: "the article's podtest: two busybox containers sharing an emptyDir",
			Images:      []string{"busybox"},
			yaml:        twoContainers,
		},
		{
			Name: "2c-gvisor",
			Description: "podtest under runtimeClassName gvisor (gVisor's shim and runsc, --platform=ptrace): podsim only, since containerd 1.6's CRI " +
				"and podman have no runsc handler here; one Sentry for the pod; memory counts the Sentry (it also holds the workload), " +
				"a gofer per container, gVisor's shim and its runsc wait processes",
			Images:  []string{"busybox"},
			Systems: []string{"podsim", HeadlineSystem},
			Needs: func() string {
				exe, err := os.Executable()
				if err != nil {
					return err.Error()
				}
				if err := sandbox.RunscReady(sandbox.GVisorPathsBeside(exe)); err != nil {
					return err.Error()
				}
				return ""
			},
			yaml: func(name, pp string) string {
				return strings.Replace(twoContainers(name, pp), "spec:\n", "spec:\n  runtimeClassName: gvisor\n", 1)
			},
		},
		{
			Name:        "ambassador",
			Description: "the article's ambassador pod: Elasticsearch behind an nginx proxy on localhost",
			Images:      []string{"elasticsearch:7.9.3", "public.ecr.aws/nginx/nginx:1.23"},
			yaml: func(name, pp string) string {
				return `apiVersion: v1
kind: Pod
metadata:
  name: ` + name + `
spec:
  containers:
  - name: elasticsearch
    image: elasticsearch:7.9.3
` + pullLine("    ", pp) + `    env:
    - name: discovery.type
      value: single-node
    - name: network.host
      value: 127.0.0.1
    - name: http.port
      value: '9201'
  - name: nginx-proxy
    image: public.ecr.aws/nginx/nginx:1.23
` + pullLine("    ", pp)
			},
		},
	}
}

// FindCases returns the named cases ("all" or empty = every case).
func FindCases(names []string) ([]*Case, error) {
	all := Cases()
	if len(names) == 0 {
		return all, nil
	}
	var out []*Case
	for _, n := range names {
		if n == "all" {
			return all, nil
		}
		found := false
		for _, c := range all {
			if c.Name == n {
				out = append(out, c)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown bench pod %q (known: 1c, 2c, 2c-gvisor, ambassador)", n)
		}
	}
	return out, nil
}

// twoContainers is the article's podtest: two busybox containers sharing
// an emptyDir.
func twoContainers(name, pp string) string {
	var b strings.Builder
	b.WriteString(`apiVersion: v1
kind: Pod
metadata:
  name: ` + name + `
spec:
  containers:
`)
	for _, c := range []string{"c1", "c2"} {
		b.WriteString(`  - name: ` + c + `
    image: busybox
` + pullLine("    ", pp) + `    command: ['sleep', '` + WorkloadArg + `']
    volumeMounts:
    - name: shared
      mountPath: /shared
`)
	}
	b.WriteString(`  volumes:
  - name: shared
    emptyDir: {}
`)
	return b.String()
}
