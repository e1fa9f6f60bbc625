package images

import "path/filepath"

// Stand-in images: not the upstream image, but something that behaves like
// it for what the article's pods do with it. alpine is busybox-static;
// the others are podsim's own small Go programs from cmd/standins, which
// `make build` puts in bin/ (see hack/standins.mk).

// standIn returns the fileSpec for podsim's stand-in program name (from
// binDir) at image path p.
func standIn(binDir, name, p string) fileSpec {
	return fileSpec{Host: filepath.Join(binDir, name), Path: p, Mode: 0o755, Helper: true}
}

// alpineRecipe stands in for Alpine Linux, which pods use for its shell and
// tools (the article's log sidecar runs `tail -f`, its init container
// `sysctl -w`). Alpine's tools are BusyBox too; what this image lacks is
// apk and musl.
func alpineRecipe() *recipe {
	return withBusybox(&recipe{
		name:    AlpineImage,
		aliases: []string{"alpine:3", "alpine:3.12", "alpine:3.18", "alpine:3.19", "alpine:3.20"},
		standIn: true,
		source:  "stand-in: Debian busybox-static (" + busyboxBin + ") with a link per applet (sh, sysctl, tail, cat, ...); no apk, no musl",
		from:    busyboxBin,
		version: 1,
		contents: []contentSpec{
			{Path: "/etc/passwd", Data: "root:x:0:0:root:/root:/bin/sh\n" +
				"bin:x:1:1:bin:/bin:/sbin/nologin\n" +
				"daemon:x:2:2:daemon:/sbin:/sbin/nologin\n" +
				"nobody:x:65534:65534:nobody:/:/sbin/nologin\n"},
			{Path: "/etc/group", Data: "root:x:0:root\nbin:x:1:root,bin,daemon\ndaemon:x:2:root,bin,daemon\nnogroup:x:65533:\nnobody:x:65534:\n"},
			{Path: "/etc/os-release", Data: "NAME=\"podsim stand-in for Alpine Linux\"\n" +
				"ID=podsim-alpine\nID_LIKE=alpine\n" +
				"PRETTY_NAME=\"podsim stand-in for Alpine Linux (BusyBox from Debian's busybox-static; no apk)\"\n"},
		},
		config: imageConfig{
			Cmd: []string{"/bin/sh"},
			Env: []string{defaultPath},
		},
	})
}

const esHome = "/usr/share/elasticsearch"

// esYAML is the official image's config/elasticsearch.yml.
const esYAML = `cluster.name: "docker-cluster"
network.host: 0.0.0.0
`

// esLog4j2 takes the place of the official image's log4j2.properties
// (console output in Elasticsearch's JSON layout). The stand-in has no
// log4j: it reports reading this file, or the one a pod mounts over it (the
// article's sidecar pod does), and always logs the JSON format.
const esLog4j2 = `# podsim's Elasticsearch stand-in has no log4j: it reads this file only to
# report it, and always writes Elasticsearch's JSON log lines to stdout, and
# to ${path.logs}/${cluster.name}_server.json when path.logs is set.
status = error

appender.rolling.type = Console
appender.rolling.name = rolling
appender.rolling.layout.type = ESJsonLayout
appender.rolling.layout.type_name = server

rootLogger.level = info
rootLogger.appenderRef.rolling.ref = rolling
`

// elasticsearchRecipe is the Elasticsearch 7.9.3 stand-in (es-standin). It
// is laid out like the official image: installed in /usr/share/elasticsearch
// with config/elasticsearch.yml and config/log4j2.properties, started by
// /usr/local/bin/docker-entrypoint.sh with Cmd ["eswrapper"], settings from
// environment variables (discovery.type, network.host, http.port,
// path.logs, ...).
func elasticsearchRecipe(binDir string) *recipe {
	const bin = esHome + "/bin/es-standin"
	return withBusybox(&recipe{
		name:    ElasticsearchImage,
		aliases: []string{"docker.elastic.co/elasticsearch/elasticsearch:7.9.3"},
		standIn: true,
		source:  "stand-in: podsim's es-standin (Go), serves the ES 7.9.3 root JSON, health and node stats; no search",
		from:    filepath.Join(binDir, "es-standin"),
		version: 1,
		files:   []fileSpec{standIn(binDir, "es-standin", bin)},
		symlinks: []symlinkSpec{
			{Path: esHome + "/bin/elasticsearch", Target: "es-standin"},
			{Path: "/usr/local/bin/docker-entrypoint.sh", Target: bin},
		},
		dirs: []dirSpec{
			{Path: esHome + "/config", Mode: 0o775},
			{Path: esHome + "/data", Mode: 0o775},
			{Path: esHome + "/logs", Mode: 0o775},
			{Path: esHome + "/plugins", Mode: 0o755},
		},
		contents: []contentSpec{
			{Path: esHome + "/config/elasticsearch.yml", Data: esYAML, Mode: 0o664},
			{Path: esHome + "/config/log4j2.properties", Data: esLog4j2, Mode: 0o664},
			{Path: "/etc/passwd", Data: "root:x:0:0:root:/root:/bin/sh\n" +
				"elasticsearch:x:1000:0::/usr/share/elasticsearch:/bin/sh\n" +
				"nobody:x:65534:65534:nobody:/:/sbin/nologin\n"},
			{Path: "/etc/group", Data: "root:x:0:\nelasticsearch:x:1000:\nnobody:x:65534:\n"},
		},
		config: imageConfig{
			Entrypoint:   []string{"/usr/local/bin/docker-entrypoint.sh"},
			Cmd:          []string{"eswrapper"},
			Env:          []string{"PATH=" + esHome + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "ELASTIC_CONTAINER=true"},
			WorkingDir:   esHome,
			ExposedPorts: []string{"9200/tcp", "9300/tcp"},
		},
	})
}

// esExporterRecipe is the Prometheus exporter stand-in
// (es-exporter-standin) where the real image has its binary, with the same
// entrypoint, flags and port. The real image is busybox-based too.
func esExporterRecipe(binDir string) *recipe {
	const bin = "/bin/elasticsearch_exporter"
	return withBusybox(&recipe{
		name:    ESExporterImage,
		standIn: true,
		source:  "stand-in: podsim's es-exporter-standin (Go), serves elasticsearch_* health, breaker and JVM metrics on :9114; no index metrics",
		from:    filepath.Join(binDir, "es-exporter-standin"),
		version: 1,
		files:   []fileSpec{standIn(binDir, "es-exporter-standin", bin)},
		contents: []contentSpec{
			{Path: "/etc/passwd", Data: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"},
			{Path: "/etc/group", Data: "root:x:0:\nnobody:x:65534:\n"},
		},
		config: imageConfig{
			Entrypoint:   []string{bin},
			Env:          []string{defaultPath},
			ExposedPorts: []string{"9114/tcp"},
		},
	})
}

// vaultEntrypoint, like the official vault image's entrypoint, runs vault
// when the first argument is one of its subcommands or an option, and any
// other command as given.
const vaultEntrypoint = `#!/bin/sh
# podsim's vault image entrypoint: "read x" means "vault read x".
set -e
case "$1" in
  -*|read|kv|version|server|help|write|list|delete|login|status|token|secrets|auth|policy)
    set -- vault "$@" ;;
esac
exec "$@"
`

// vaultRecipe is the Vault CLI stand-in (vault-standin) plus a shell: the
// article's init container runs
// `/bin/sh -c 'vault read secret/my-secret > /secrets/my-secret'`.
func vaultRecipe(binDir string) *recipe {
	return withBusybox(&recipe{
		name:    VaultImage,
		aliases: []string{"vault:1.13", "vault:1.13.3", "hashicorp/vault", "hashicorp/vault:1.13"},
		standIn: true,
		source:  "stand-in: podsim's vault-standin (Go), CLI only: `vault read secret/my-secret` prints a fixed secret, unknown paths fail; no server",
		from:    filepath.Join(binDir, "vault-standin"),
		version: 1,
		files:   []fileSpec{standIn(binDir, "vault-standin", "/bin/vault")},
		dirs:    []dirSpec{{Path: "/vault/config", Mode: 0o755}, {Path: "/vault/file", Mode: 0o755}, {Path: "/vault/logs", Mode: 0o755}},
		contents: []contentSpec{
			{Path: "/usr/local/bin/docker-entrypoint.sh", Data: vaultEntrypoint, Mode: 0o755},
			{Path: "/etc/passwd", Data: "root:x:0:0:root:/root:/bin/sh\n" +
				"vault:x:100:1000:Linux User,,,:/home/vault:/sbin/nologin\n" +
				"nobody:x:65534:65534:nobody:/:/sbin/nologin\n"},
			{Path: "/etc/group", Data: "root:x:0:\nvault:x:1000:vault\nnobody:x:65534:\n"},
		},
		config: imageConfig{
			Entrypoint:   []string{"docker-entrypoint.sh"},
			Cmd:          []string{"server", "-dev"},
			Env:          []string{defaultPath},
			ExposedPorts: []string{"8200/tcp"},
		},
	})
}

// myappRecipe is the article's hypothetical application (myapp-standin):
// it reads the secret the init container left in /secrets and says so.
func myappRecipe(binDir string) *recipe {
	const bin = "/usr/local/bin/myapp"
	return withBusybox(&recipe{
		name:    MyappImage,
		standIn: true,
		source:  "stand-in: podsim's myapp-standin (Go), logs the size of /secrets/my-secret (exits 1 if missing), serves :8080",
		from:    filepath.Join(binDir, "myapp-standin"),
		version: 1,
		files:   []fileSpec{standIn(binDir, "myapp-standin", bin)},
		contents: []contentSpec{
			{Path: "/etc/passwd", Data: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"},
			{Path: "/etc/group", Data: "root:x:0:\nnobody:x:65534:\n"},
		},
		config: imageConfig{
			Entrypoint:   []string{bin},
			Env:          []string{defaultPath},
			ExposedPorts: []string{"8080/tcp"},
		},
	})
}
