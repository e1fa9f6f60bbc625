package scenarios

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const curlImage = "curlimages/curl"

var esJSON = regexp.MustCompile(`"tagline"\s*:\s*"You Know, for Search"`)

// esPod waits for a deployment's pod to run and to listen on addr
// (read from the kernel's socket table of the pod's network namespace).
func esPod(ctx context.Context, t *T, deployment, container, addr string) (string, *Procs, bool) {
	var pod string
	var p *Procs
	ok := Eventually(ctx, 30*time.Second, func() bool {
		var err error
		if pod, err = t.PodOf(ctx, deployment); err != nil {
			return false
		}
		if p, err = t.Procs(ctx, pod); err != nil || p.PID[container] == 0 {
			return false
		}
		n, err := t.node(ctx, pod)
		if err != nil {
			return false
		}
		ls := t.Listening(ctx, n, p.PID[container])
		if strings.HasPrefix(addr, "0.0.0.0:") && contains(ls, "[::]"+strings.TrimPrefix(addr, "0.0.0.0")) {
			return true
		}
		return contains(ls, addr)
	})
	return pod, p, ok
}

func nginxFronted() *Scenario {
	return &Scenario{
		Name:      "nginx-fronted",
		Summary:   "ambassador: nginx in the pod terminates TLS and proxies to Elasticsearch on localhost",
		Manifests: []string{esDeploymentYAML},
		Extra:     []string{esSecureDeploymentYAML},
		Run: func(ctx context.Context, t *T) {
			claim := "es-deployment.yaml: Elasticsearch listens on 0.0.0.0:9200 in its pod's network namespace"
			n, ok := t.NeedsNode(ctx, "", claim)
			if !ok {
				return
			}
			oldPod, p, ok := esPod(ctx, t, "elasticsearch", "elasticsearch", "0.0.0.0:9200")
			t.Check(claim, "cat /proc/<pid>/net/tcp", fmt.Sprintf("pod %s listening: %v", oldPod, ok), ok)
			if !ok {
				return
			}
			if claim := "a client pod reaches the Service over plain HTTP and gets Elasticsearch's JSON"; t.Needs(CapServices, claim) {
				out, code, cmd := t.Client(ctx, "curl", curlImage, "curl", "http://elasticsearch:9200")
				t.Check(claim, cmd, out, code == 0 && esJSON.MatchString(out))
			}

			// The TLS secret, as cert-manager would make it: a self-signed certificate.
			crt, key, err := selfSigned("elasticsearch")
			if err == nil {
				err = t.B.ApplySecret(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "elasticsearch-tls", Namespace: t.Namespace},
					Type: corev1.SecretTypeTLS, Data: map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key}})
			}
			t.Track("Secret", "elasticsearch-tls")
			if err := firstErr(err, t.Apply(ctx, esSecureDeploymentYAML)); err != nil {
				t.Check("apply es-secure-deployment.yaml", "podsim apply -f es-secure-deployment.yaml", err.Error(), false)
				return
			}
			newPod, p, ok := esPod(ctx, t, "elasticsearch", "nginx-proxy", "0.0.0.0:9200")
			esOnLo := ok && Eventually(ctx, 20*time.Second, func() bool {
				return contains(t.Listening(ctx, n, p.PID["elasticsearch"]), "127.0.0.1:9201")
			})
			var ls []string
			if ok {
				ls = t.Listening(ctx, n, p.PID["nginx-proxy"])
			}
			t.Check("the changed template replaced the pod; in the new pod nginx listens on 0.0.0.0:9200 and Elasticsearch only on 127.0.0.1:9201",
				"podsim get pods; cat /proc/<pid>/net/tcp", fmt.Sprintf("old pod %s, new pod %s; listeners in the pod's netns: %v", oldPod, newPod, ls),
				ok && esOnLo && newPod != oldPod && !t.podExists(ctx, oldPod))

			if !t.Needs(CapServices, "HTTPS through the nginx ambassador (Service elasticsearch:9200) returns Elasticsearch's JSON; plain HTTP gets a 400; port 9201 is closed to other pods; nginx logs the client") {
				return
			}
			out, code, cmd := t.Client(ctx, "curl", curlImage, "curl", "-k", "https://elasticsearch:9200")
			t.Check("HTTPS through the nginx ambassador returns Elasticsearch's JSON", cmd, out, code == 0 && esJSON.MatchString(out))

			out, code, cmd = t.Client(ctx, "curl", curlImage, "curl", "http://elasticsearch:9200")
			t.Check("plain HTTP to the TLS port gets nginx's 400", cmd, out, strings.Contains(out, "The plain HTTP request was sent to HTTPS port"))

			ip := t.podIP(ctx, newPod)
			out, code, cmd = t.Client(ctx, "curl", curlImage, "curl", "-sS", "-m", "5", "http://"+ip+":9201")
			t.Check("Elasticsearch's own port 9201 cannot be reached from another pod: it is bound to the pod's 127.0.0.1",
				cmd, fmt.Sprintf("%s(exit code %d: curl could not connect)", out, code), code == 7)

			out, _, cmd = t.Client(ctx, "curl-ip", curlImage, "sh", "-c", "ip -4 -o addr show eth0; curl -sk -o /dev/null https://elasticsearch:9200")
			m := regexp.MustCompile(`inet (\d+\.\d+\.\d+\.\d+)/`).FindStringSubmatch(out)
			var mine string
			if m != nil {
				Eventually(ctx, 20*time.Second, func() bool {
					mine = grepLines(grepLines(t.Logs(ctx, newPod, "nginx-proxy"), "curl", 100), m[1]+" - ", 1)
					return mine != ""
				})
			}
			t.Check("nginx-proxy's log shows the request, from the client pod's IP",
				cmd+"\n       $ podsim logs "+newPod+" nginx-proxy | grep curl",
				out+mine, m != nil && strings.HasPrefix(mine, m[1]+" "))
		},
	}
}

func adapter() *Scenario {
	return &Scenario{
		Name:      "adapter",
		Summary:   "adapter: an exporter in the pod turns Elasticsearch's stats into Prometheus metrics",
		Manifests: []string{esPrometheusYAML},
		Run: func(ctx context.Context, t *T) {
			claim := "Elasticsearch (9200) and the exporter (9114) listen in one network namespace"
			n, ok := t.NeedsNode(ctx, "", claim)
			if !ok {
				return
			}
			pod, p, ok := esPod(ctx, t, "elasticsearch", "prometheus-exporter", "0.0.0.0:9114")
			if ok {
				ok = t.ListensAny(ctx, n, p.PID["elasticsearch"], 9200)
			}
			t.Check(claim, "cat /proc/<pid>/net/tcp", fmt.Sprintf("pod %s ready: %v", pod, ok), ok)
			if !t.Needs(CapServices, "curl -s elasticsearch:9114/metrics (through the Service) shows elasticsearch_* metric families; ES logs the exporter's requests from localhost") {
				return
			}
			out, code, cmd := t.Client(ctx, "curl", curlImage, "curl", "-s", "elasticsearch:9114/metrics")
			head := firstLines(out, 10)
			t.Check("curl -s elasticsearch:9114/metrics | head shows elasticsearch_* metric families", cmd+" | head", head,
				code == 0 && strings.Contains(head, "# HELP elasticsearch_") && strings.Contains(out, "elasticsearch_cluster_health"))
			var logs, seen string
			lo := Eventually(ctx, 20*time.Second, func() bool {
				logs = t.Logs(ctx, pod, "elasticsearch")
				seen = grepLines(logs, "from 127.0.0.1:", 2) + grepLines(logs, "from [::1]:", 2)
				return seen != ""
			})
			t.Check("the exporter reached Elasticsearch over localhost: ES logged requests from the loopback address",
				"podsim logs "+pod+" elasticsearch | grep -e 'from 127.0.0.1' -e 'from \\[::1\\]'", seen, lo)
		},
	}
}

func sidecarLogs() *Scenario {
	return &Scenario{
		Name:      "sidecar-logs",
		Summary:   "sidecar: Elasticsearch logs to a file in a shared emptyDir, a tail sidecar streams it to stdout",
		Manifests: []string{esLoggingConfigMapYAML, sidecarExampleYAML},
		Run: func(ctx context.Context, t *T) {
			n, ok := t.NeedsNode(ctx, "", "the pod runs with Elasticsearch and the logs sidecar")
			if !ok {
				return
			}
			pod, p, ok := esPod(ctx, t, "elasticsearch", "elasticsearch", "0.0.0.0:9200")
			t.Check("the pod runs with Elasticsearch and the logs sidecar", "podsim get pods", fmt.Sprintf("pod %s: %v", pod, ok), ok)
			if !ok {
				return
			}
			var logs string
			got := Eventually(ctx, 20*time.Second, func() bool {
				logs = t.Logs(ctx, pod, "logs")
				return strings.Contains(logs, `"type"`) && strings.Contains(logs, "server")
			})
			t.Check("podsim logs <pod> logs | head: the sidecar streams Elasticsearch's JSON log lines", "podsim logs "+pod+" logs | head",
				firstLines(logs, 6), got)
			mi := t.ReadHost(ctx, n, fmt.Sprintf("/proc/%d/mountinfo", p.PID["logs"]))
			roLine := grepLines(mi, " /logs ", 1)
			t.Check("kernel: /logs is a read-only bind mount in the sidecar's mount namespace", fmt.Sprintf("grep ' /logs ' /proc/%d/mountinfo", p.PID["logs"]),
				roLine, strings.Contains(roLine, " ro,") || strings.Contains(roLine, " ro "))
			mi = t.ReadHost(ctx, n, fmt.Sprintf("/proc/%d/mountinfo", p.PID["elasticsearch"]))
			cfg := grepLines(mi, "log4j2.properties", 1)
			t.Check("kernel: one file of the ConfigMap is mounted with subPath at .../config/log4j2.properties", fmt.Sprintf("grep log4j2 /proc/%d/mountinfo", p.PID["elasticsearch"]),
				cfg, strings.Contains(cfg, "/usr/share/elasticsearch/config/log4j2.properties"))
		},
	}
}

func initSysctl() *Scenario {
	return &Scenario{
		Name:      "init-sysctl",
		Summary:   "init container: a privileged init sets vm.max_map_count before an unprivileged Elasticsearch starts",
		Manifests: nil, // applied by Run, after recording the node's value
		Extra:     []string{initESYAML},
		Run: func(ctx context.Context, t *T) {
			const path = "/proc/sys/vm/max_map_count"
			n, ok := t.NeedsNode(ctx, "", "vm.max_map_count is node-wide: the privileged init container changes the node's")
			if !ok {
				return
			}
			before, err := n.ReadFile(ctx, path)
			if err != nil {
				t.Check("read the node's vm.max_map_count", "cat "+path, err.Error(), false)
				return
			}
			// vm.max_map_count is not namespaced: the init container changes
			// the whole node. Put the node's value back afterwards.
			t.Defer(func() { _ = n.WriteFile(context.WithoutCancel(ctx), path, before) })
			if err := t.Apply(ctx, initESYAML); err != nil {
				t.Check("apply init-es.yaml", "podsim apply -f init-es.yaml", err.Error(), false)
				return
			}
			pod, p, ok := esPod(ctx, t, "elasticsearch", "elasticsearch", "0.0.0.0:9200")
			after, _ := n.ReadFile(ctx, path)
			initOK := ok && len(p.Pod.Status.InitContainerStatuses) == 1 && p.Pod.Status.InitContainerStatuses[0].State.Terminated != nil &&
				p.Pod.Status.InitContainerStatuses[0].State.Terminated.ExitCode == 0
			t.Check("the privileged init container ran to completion before Elasticsearch started", "podsim get pod "+pod+" -o yaml",
				fmt.Sprintf("init update-sysctl exited 0: %v; elasticsearch running: %v", initOK, ok), initOK)
			t.Check("vm.max_map_count is node-wide, not namespaced: the host now reads 262144", "cat "+path+" (on the host)",
				fmt.Sprintf("before %s after %s (restored when the scenario ends)", strings.TrimSpace(string(before)), strings.TrimSpace(string(after))),
				strings.TrimSpace(string(after)) == "262144")
			if !ok {
				return
			}
			capEff := grepLines(t.ReadHost(ctx, n, fmt.Sprintf("/proc/%d/status", p.PID["elasticsearch"])), "CapEff", 1)
			sys := grepLines(t.ReadHost(ctx, n, fmt.Sprintf("/proc/%d/mountinfo", p.PID["elasticsearch"])), " /proc/sys ", 1)
			t.Check("kernel: Elasticsearch itself is not privileged: no CAP_SYS_ADMIN, /proc/sys read-only",
				fmt.Sprintf("grep CapEff /proc/%d/status; grep ' /proc/sys ' /proc/%d/mountinfo", p.PID["elasticsearch"], p.PID["elasticsearch"]),
				capEff+"\n"+sys, !hasCap(capEff, 21) && strings.Contains(sys, " ro,"))
			logs := t.Logs(ctx, pod, "elasticsearch")
			t.Check("Elasticsearch does not warn about vm.max_map_count", "podsim logs "+pod+" elasticsearch | grep max_map_count",
				grepLines(logs, "max_map_count", 2), !strings.Contains(logs, "max_map_count"))
		},
	}
}

func initSecrets() *Scenario {
	failing := strings.Replace(strings.Replace(initSecretsYAML, "secret/my-secret >", "secret/does-not-exist >", 1), "name: myapp\n  labels", "name: myapp-broken\n  labels", 1)
	failing = strings.ReplaceAll(failing, "app.kubernetes.io/name: myapp\n", "app.kubernetes.io/name: myapp-broken\n")
	return &Scenario{
		Name:      "init-secrets",
		Summary:   "init container: fetch a secret into a shared emptyDir before the app starts; a failing init is retried and the app never starts",
		Manifests: []string{initSecretsYAML},
		Extra:     []string{failing},
		Run: func(ctx context.Context, t *T) {
			var pod string
			var p *Procs
			ok := Eventually(ctx, 20*time.Second, func() bool {
				var err error
				if pod, err = t.PodOf(ctx, "myapp"); err != nil {
					return false
				}
				p, err = t.Procs(ctx, pod)
				return err == nil && p.Pod.Status.Phase == corev1.PodRunning && len(p.Pod.Status.ContainerStatuses) == 1 &&
					p.Pod.Status.ContainerStatuses[0].State.Running != nil
			})
			initDone, appStarted := initFinishedAppStarted(p)
			order := ok && initExitedZero(p.Pod) && !initDone.After(appStarted)
			t.Check("get-secret exited 0 before myapp started", t.B.Name()+": get pod "+pod+" -o yaml",
				fmt.Sprintf("running: %v; init finished %v, myapp started %v", ok, initDone.Format(time.RFC3339Nano), appStarted.Format(time.RFC3339Nano)), order)
			var logs string
			found := Eventually(ctx, 30*time.Second, func() bool {
				logs = t.Logs(ctx, pod, "myapp")
				return strings.Contains(logs, "found secret")
			})
			t.Check("myapp finds /secrets/my-secret", "podsim logs "+pod+" myapp", logs, found)
			if claim := "the secret is a file in the pod's emptyDir on the node (what the init container wrote)"; ok && t.Needs(CapPodsimRecord, claim) {
				host := filepath.Join(t.M.EmptyDirPath(p.State.Record, "secrets"), "my-secret")
				b, err := os.ReadFile(host)
				t.Check(claim, "cat "+host, fmt.Sprintf("%s%v", b, errOrEmpty(err)), err == nil && len(b) > 0)
			}

			// A Deployment's pods restart (restartPolicy Always): kubelet
			// restarts the failed init container with back-off
			// (Init:Error, then Init:CrashLoopBackOff); the app never starts.
			err := t.Apply(ctx, failing)
			var bpod string
			var bp *Procs
			retried := Eventually(ctx, 30*time.Second, func() bool {
				if bpod, _ = t.PodOf(ctx, "myapp-broken"); bpod != "" {
					bp, _ = t.Procs(ctx, bpod)
				}
				if bp == nil || len(bp.Pod.Status.InitContainerStatuses) == 0 {
					return false
				}
				s := bp.Pod.Status.InitContainerStatuses[0]
				last := s.LastTerminationState.Terminated
				return s.RestartCount >= 1 && last != nil && last.ExitCode != 0
			})
			obs := fmt.Sprintf("apply: %v", err)
			appStartedB := true
			if bp != nil {
				for _, s := range bp.Pod.Status.InitContainerStatuses {
					obs += fmt.Sprintf("\npod %s: init container %s restarts %d", bpod, s.Name, s.RestartCount)
					if last := s.LastTerminationState.Terminated; last != nil {
						obs += fmt.Sprintf(", last exit %d (%s)", last.ExitCode, last.Reason)
					}
				}
				cs := bp.Pod.Status.ContainerStatuses
				appStartedB = len(cs) != 1 || cs[0].State.Running != nil || cs[0].State.Terminated != nil
				if len(cs) == 1 {
					obs += fmt.Sprintf("\nmyapp container: running %v, terminated %v", cs[0].State.Running != nil, cs[0].State.Terminated != nil)
				}
				if bp.State != nil {
					obs += "; podsim status " + bp.State.StatusText()
				}
			}
			t.Check("a variant whose init fails: the init container is restarted with back-off (Init:Error, Init:CrashLoopBackOff), and myapp never starts",
				"podsim apply -f init-secrets-broken.yaml; podsim get pods", obs, retried && !appStartedB)
		},
	}
}

func cacheSidecar() *Scenario {
	return &Scenario{
		Name:    "cache-sidecar",
		Summary: "sidecar: a local Redis cache for the app, on the pod's localhost:6379",
		Manifests: []string{`apiVersion: v1
kind: Pod
metadata:
  name: cached-app
spec:
  containers:
  - name: app
    image: busybox
    command: ['sleep', '5000']
  - name: redis
    image: redis
`},
		Run: func(ctx context.Context, t *T) {
			p, err := t.Procs(ctx, "cached-app")
			if claim := "redis-server listens on port 6379 in the pod's network namespace"; err != nil {
				t.Check(claim, "", err.Error(), false)
			} else if n, ok := t.NeedsNode(ctx, "cached-app", claim); ok {
				ok = Eventually(ctx, 20*time.Second, func() bool {
					return t.ListensAny(ctx, n, p.PID["redis"], 6379) || contains(t.Listening(ctx, n, p.PID["redis"]), "127.0.0.1:6379")
				})
				t.Check(claim, "cat /proc/<pid>/net/tcp", fmt.Sprintf("listening: %v", ok), ok)
			}
			out, code, cmd := t.Exec(ctx, "cached-app", "app", "sh", "-c", `printf 'PING\r\nSET greeting hello\r\nGET greeting\r\nQUIT\r\n' | nc localhost 6379`)
			t.Check("the app talks to the cache over localhost", cmd, out, code == 0 && strings.Contains(out, "+PONG") && strings.Contains(out, "hello"))
			out, code, cmd = t.Exec(ctx, "cached-app", "app", "ps")
			t.Check("the cache is a separate process tree: the app's ps does not show redis-server", cmd, out, code == 0 && !strings.Contains(out, "redis"))
		},
	}
}

const configReloadYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  message: "version 1"
---
apiVersion: v1
kind: Pod
metadata:
  name: reloader
spec:
  containers:
  - name: app
    image: busybox
    command: ['sh', '-c', 'while true; do cat /config/message; echo; sleep 1; done']
    volumeMounts:
    - {name: config, mountPath: /config}
  - name: reload-sidecar
    image: busybox
    # Watches the ..data symlink kubelet swaps atomically on every update.
    command: ['sh', '-c', 'last=""; while true; do cur=$(readlink /config/..data); if [ "$cur" != "$last" ]; then echo "config changed: $(cat /config/message)"; last=$cur; fi; sleep 0.2; done']
    volumeMounts:
    - {name: config, mountPath: /config}
  volumes:
  - name: config
    configMap:
      name: app-config
`

func configmapReload() *Scenario {
	update := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  message: \"version 2\"\n"
	return &Scenario{
		Name:      "configmap-reload",
		Summary:   "sidecar: a ConfigMap update reaches the running pod (atomic ..data swap) and the sidecar sees it",
		Manifests: []string{configReloadYAML},
		Extra:     []string{update},
		Run: func(ctx context.Context, t *T) {
			before, _, _ := t.Exec(ctx, "reloader", "app", "readlink", "/config/..data")
			if err := t.Apply(ctx, update); err != nil {
				t.Check("apply the changed ConfigMap", "podsim apply -f app-config.yaml", err.Error(), false)
				return
			}
			// podsim rewrites the volume on apply; a kubelet does it on its
			// next sync of the pod (syncFrequency, 1 minute, plus its
			// ConfigMap cache's TTL), so wait for it as a client would.
			var out, cmd string
			var code int
			Eventually(ctx, 150*time.Second, func() bool {
				out, code, cmd = t.Exec(ctx, "reloader", "app", "cat", "/config/message")
				return code == 0 && strings.TrimSpace(out) == "version 2"
			})
			after, _, _ := t.Exec(ctx, "reloader", "app", "readlink", "/config/..data")
			t.Check("after 'podsim apply' the mounted file has the new data, through a new ..data directory",
				cmd, fmt.Sprintf("%s\n..data: %s -> %s", out, strings.TrimSpace(before), strings.TrimSpace(after)),
				code == 0 && strings.TrimSpace(out) == "version 2" && strings.TrimSpace(before) != strings.TrimSpace(after))
			var logs string
			ok := Eventually(ctx, 30*time.Second, func() bool {
				logs = t.Logs(ctx, "reloader", "reload-sidecar")
				return strings.Contains(logs, "config changed: version 2")
			})
			t.Check("the reload sidecar noticed the swap without a restart", "podsim logs reloader reload-sidecar", logs, ok)
		},
	}
}

func fetchInit() *Scenario {
	return &Scenario{
		Name:    "fetch-init",
		Summary: "init container: fetch a file from another pod into an emptyDir before the app starts",
		Manifests: []string{`apiVersion: v1
kind: Pod
metadata:
  name: file-server
  labels: {app: file-server}
spec:
  containers:
  - name: httpd
    image: busybox
    command: ['sh', '-c', 'mkdir -p /www && head -c 65536 /dev/urandom > /www/model.bin && md5sum /www/model.bin && exec httpd -f -p 8080 -h /www']
    ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata:
  name: files
spec:
  selector: {app: file-server}
  ports: [{port: 8080, targetPort: http}]
`},
		Extra: []string{fetchAppYAML},
		Run: func(ctx context.Context, t *T) {
			p, err := t.Procs(ctx, "file-server")
			n, nerr := t.node(ctx, "file-server")
			ok := err == nil && nerr == nil && Eventually(ctx, 30*time.Second, func() bool {
				return t.ListensAny(ctx, n, p.PID["httpd"], 8080)
			})
			if !ok {
				t.Check("the file server listens on 8080", "", fmt.Sprint(firstErr(err, nerr)), false)
				return
			}
			if !t.Needs(CapServices, "the app's init container fetches http://files:8080/model.bin through the Service, then the app has the file") {
				return
			}
			if err := t.Apply(ctx, fetchAppYAML); err != nil {
				t.Check("apply the app with its fetch init container", "podsim apply -f app.yaml", err.Error(), false)
				return
			}
			app, err := t.Procs(ctx, "model-app")
			initOK := err == nil && initExitedZero(app.Pod) && len(app.Pod.Status.ContainerStatuses) == 1 && app.Pod.Status.ContainerStatuses[0].State.Running != nil
			t.Check("the init container fetched the file over the pod network, then the app started", "podsim logs model-app -c fetch",
				t.Logs(ctx, "model-app", "fetch"), initOK)
			served := firstLines(t.Logs(ctx, "file-server", "httpd"), 1)
			out, code, cmd := t.Exec(ctx, "model-app", "app", "md5sum", "/data/model.bin")
			sum := strings.Fields(out + " x")[0]
			t.Check("the app has the file, byte for byte what the other pod serves", cmd, out+"served: "+served,
				code == 0 && strings.HasPrefix(served, sum))
		},
	}
}

const fetchAppYAML = `apiVersion: v1
kind: Pod
metadata:
  name: model-app
spec:
  initContainers:
  - name: fetch
    image: busybox
    command: ['sh', '-c', 'wget -O /data/model.bin http://files:8080/model.bin && ls -l /data']
    volumeMounts: [{name: data, mountPath: /data}]
  containers:
  - name: app
    image: busybox
    command: ['sleep', '5000']
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    emptyDir: {}
`

// --- helpers

// initFinishedAppStarted: when the pod's init container finished and its
// app container started, from the pod's status.
func initFinishedAppStarted(p *Procs) (time.Time, time.Time) {
	var done, started time.Time
	if p == nil {
		return done, started
	}
	if s := p.Pod.Status.InitContainerStatuses; len(s) > 0 && s[0].State.Terminated != nil {
		done = s[0].State.Terminated.FinishedAt.Time
	}
	if s := p.Pod.Status.ContainerStatuses; len(s) > 0 && s[0].State.Running != nil {
		started = s[0].State.Running.StartedAt.Time
	}
	return done, started
}

// podExists: the pod is there and not being deleted.
func (t *T) podExists(ctx context.Context, pod string) bool {
	p, err := t.Procs(ctx, pod)
	return err == nil && p.Pod.DeletionTimestamp == nil
}

func (t *T) podIP(ctx context.Context, pod string) string {
	p, err := t.Procs(ctx, pod)
	if err != nil {
		return ""
	}
	return p.Pod.Status.PodIP
}

// initExitedZero: the pod's one init container ran to completion.
func initExitedZero(p *corev1.Pod) bool {
	s := p.Status.InitContainerStatuses
	return len(s) == 1 && s[0].State.Terminated != nil && s[0].State.Terminated.ExitCode == 0
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func errOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "")
}

func grepLines(s, sub string, max int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
			if len(out) == max {
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// hasCap reads a capability bit from a "CapEff:\t<hex>" line.
func hasCap(line string, bit uint) bool {
	f := strings.Fields(line)
	if len(f) != 2 {
		return false
	}
	v, ok := new(big.Int).SetString(f[1], 16)
	return ok && v.Bit(int(bit)) == 1
}

// selfSigned makes a self-signed TLS certificate for name.
func selfSigned(name string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name, name + ".default", name + ".default.svc", name + ".default.svc.cluster.local"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), nil
}
