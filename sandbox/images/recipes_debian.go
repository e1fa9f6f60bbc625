package images

// Images of real programs from Debian packages: nginx, curl and Redis. The
// program is the host's binary with every shared library it needs (ELF:
// true), so it runs in the container exactly as on the host; around it the
// recipe lays out the files the official image has where pods expect them
// (config, document root, log links, users) and busybox-static as /bin/sh.

// nsswitch makes glibc look users and hosts up in /etc/passwd, /etc/group
// and /etc/hosts, then DNS, as Debian-based images do. (glibc ≥ 2.34 has
// the "files" and "dns" services built in, so no NSS modules are needed.)
const nsswitch = `passwd:         files
group:          files
shadow:         files
hosts:          files dns
networks:       files
protocols:      files
services:       files
`

// nginxConf is the official image's /etc/nginx/nginx.conf in substance:
// workers run as the nginx user, logs go to /var/log/nginx (links to the
// container's stdout and stderr), and every *.conf in conf.d is included,
// which is where pods mount their server blocks (the article's ConfigMap).
// "daemon off;" is not here but in the image's Cmd, as upstream.
const nginxConf = `user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;


events {
    worker_connections  1024;
}


http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    #tcp_nopush     on;

    keepalive_timeout  65;

    #gzip  on;

    include /etc/nginx/conf.d/*.conf;
}
`

// nginxDefaultConf is conf.d/default.conf: the welcome page on port 80.
// Upstream's entrypoint adds "listen [::]:80;" when the container has
// IPv6; podsim's pods may not, so the image listens on IPv4 only.
const nginxDefaultConf = `server {
    listen       80;
    server_name  localhost;

    #access_log  /var/log/nginx/host.access.log  main;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    #error_page  404              /404.html;

    # redirect server error pages to the static page /50x.html
    #
    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
`

const nginxIndex = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>This container runs Debian's build of nginx in an image podsim built
offline; it is laid out like the official nginx image.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`

const nginx50x = `<!DOCTYPE html>
<html>
<head>
<title>Error</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p><em>Faithfully yours, nginx.</em></p>
</body>
</html>
`

// nginxRecipe is nginx from Debian's nginx package, laid out like the
// official image. Debian's build has the ssl, v2, realip, stub_status and
// proxy modules compiled in (no dynamic modules are needed for TLS
// termination and proxy_pass, the article's ambassador). Its compiled-in
// paths (`nginx -V`): prefix /usr/share/nginx, conf /etc/nginx/nginx.conf,
// error log stderr, access log /var/log/nginx/access.log, pid /run/nginx.pid
// and temp files under /var/lib/nginx; the image has all of them.
func nginxRecipe() *recipe {
	const bin = "/usr/sbin/nginx"
	return withBusybox(&recipe{
		name: NginxImage,
		aliases: []string{
			"nginx:1.19", "nginx:1.22", "nginx:1.23", "nginx:stable",
			"public.ecr.aws/nginx/nginx", "public.ecr.aws/nginx/nginx:1.23",
		},
		standIn: false,
		source:  "real nginx: Debian's build (" + bin + ") with its libraries, official image's layout (conf.d, logs to stdout/stderr); not upstream's build",
		from:    bin,
		version: 1,
		files: []fileSpec{
			{Host: bin, ELF: true, Hint: "install nginx (apt-get install nginx, or run 'make deps')"},
			{Host: "/etc/nginx/mime.types", Mode: 0o644, Hint: "install nginx (apt-get install nginx, or run 'make deps')"},
		},
		dirs: []dirSpec{
			{Path: "/etc/nginx/conf.d", Mode: 0o755},
			{Path: "/usr/share/nginx/html", Mode: 0o755},
			{Path: "/var/log/nginx", Mode: 0o755},
			// Debian's compiled-in temp paths (client bodies, proxy
			// buffers, ...); nginx creates the subdirectories.
			{Path: "/var/lib/nginx", Mode: 0o755},
			// Where the official image keeps them; configs written
			// for it may name it.
			{Path: "/var/cache/nginx", Mode: 0o755},
			{Path: "/run", Mode: 0o755},
		},
		symlinks: []symlinkSpec{
			// As in the official image: logs are the container's
			// output, so `kubectl logs` shows them.
			{Path: "/var/log/nginx/access.log", Target: "/dev/stdout"},
			{Path: "/var/log/nginx/error.log", Target: "/dev/stderr"},
			{Path: "/var/run", Target: "/run"},
		},
		contents: []contentSpec{
			{Path: "/etc/nginx/nginx.conf", Data: nginxConf},
			{Path: "/etc/nginx/conf.d/default.conf", Data: nginxDefaultConf},
			{Path: "/usr/share/nginx/html/index.html", Data: nginxIndex},
			{Path: "/usr/share/nginx/html/50x.html", Data: nginx50x},
			{Path: "/etc/nsswitch.conf", Data: nsswitch},
			{Path: "/etc/passwd", Data: "root:x:0:0:root:/root:/bin/sh\n" +
				"www-data:x:33:33:www-data:/var/www:/sbin/nologin\n" +
				"nginx:x:101:101:nginx user:/nonexistent:/sbin/nologin\n" +
				"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"},
			{Path: "/etc/group", Data: "root:x:0:\nwww-data:x:33:\nnginx:x:101:\nnogroup:x:65534:\n"},
		},
		config: imageConfig{
			Cmd:          []string{"nginx", "-g", "daemon off;"},
			Env:          []string{defaultPath},
			ExposedPorts: []string{"80/tcp"},
			StopSignal:   "SIGQUIT",
		},
	})
}

// curlEntrypoint does what the official curlimages/curl entrypoint does:
// run curl with the arguments when the first one is an option or not a
// command (`docker run curlimages/curl -s http://x`), otherwise run the
// command as given (`kubectl run --image=curlimages/curl -- curl http://x`,
// the article's form).
const curlEntrypoint = `#!/bin/sh
# podsim's curlimages/curl: run curl when the first argument is an option or
# not a command, else run the command as given.
set -e
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1")" ]; then
  set -- curl "$@"
fi
exec "$@"
`

// curlRecipe is curl from Debian's curl package with its libraries
// (OpenSSL, nghttp2, ...) and Debian's CA bundle, so https:// works with
// verification and -k works without.
func curlRecipe() *recipe {
	const bin = "/usr/bin/curl"
	return withBusybox(&recipe{
		name:    CurlImage,
		aliases: []string{"curlimages/curl:7.73.0", "curlimages/curl:7.88.1", "curlimages/curl:8.5.0"},
		standIn: false,
		source:  "real curl: Debian's build (" + bin + ") with its libraries and CA bundle, official entrypoint; runs as root (upstream: curl_user)",
		from:    bin,
		version: 1,
		files: []fileSpec{
			{Host: bin, ELF: true, Hint: "install curl (apt-get install curl, or run 'make deps')"},
			{Host: "/etc/ssl/certs/ca-certificates.crt", Mode: 0o644,
				Hint: "install ca-certificates (apt-get install ca-certificates, or run 'make deps')"},
		},
		contents: []contentSpec{
			{Path: "/entrypoint.sh", Data: curlEntrypoint, Mode: 0o755},
			{Path: "/etc/nsswitch.conf", Data: nsswitch},
			{Path: "/etc/passwd", Data: "root:x:0:0:root:/root:/bin/sh\n" +
				"curl_user:x:100:101:Linux User,,,:/home/curl_user:/bin/sh\n" +
				"nobody:x:65534:65534:nobody:/:/sbin/nologin\n"},
			{Path: "/etc/group", Data: "root:x:0:\ncurl_group:x:101:\nnogroup:x:65534:\n"},
		},
		dirs: []dirSpec{{Path: "/home/curl_user", Mode: 0o755}},
		config: imageConfig{
			Entrypoint: []string{"/entrypoint.sh"},
			Cmd:        []string{"curl"},
			Env:        []string{defaultPath, "CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt"},
		},
	})
}

// redisEntrypoint mirrors the official redis image's entrypoint: options or
// a .conf file as first argument mean redis-server. The official image
// also builds redis-server with protected mode off by default (so clients
// from other pods can connect without a password); Debian's build has it
// on, so the script turns it off unless the command line or the config
// file sets it.
const redisEntrypoint = `#!/bin/sh
# podsim's redis image entrypoint (see sandbox/images/recipes_debian.go).
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = redis-server ]; then
  pm=
  for a in "$@"; do
    case "$a" in --protected-mode*) pm=1 ;; esac
  done
  if [ -n "$2" ] && [ "${2#-}" = "$2" ] && [ -f "$2" ] && grep -qi '^[[:space:]]*protected-mode' "$2"; then
    pm=1
  fi
  [ -n "$pm" ] || set -- "$@" --protected-mode no
fi
exec "$@"
`

// redisRecipe is Redis from Debian's redis-server and redis-tools packages,
// installed where the official image has it (/usr/local/bin) and started
// like it: in /data, listening on all interfaces at 6379.
func redisRecipe() *recipe {
	hint := "install redis-server (apt-get install redis-server, or run 'make deps')"
	return withBusybox(&recipe{
		name:    RedisImage,
		aliases: []string{"redis:7", "redis:7.0", "redis:6"},
		standIn: false,
		source:  "real Redis: Debian's redis-server and redis-cli with their libraries, on 0.0.0.0:6379, protected mode off like upstream; runs as root",
		from:    "/usr/bin/redis-server",
		version: 1,
		files: []fileSpec{
			// In Debian redis-server is a link to redis-check-rdb (one
			// program that acts by its name); the image gets the file
			// under the server's name.
			{Host: "/usr/bin/redis-server", Path: "/usr/local/bin/redis-server", ELF: true, Hint: hint},
			{Host: "/usr/bin/redis-cli", Path: "/usr/local/bin/redis-cli", ELF: true, Hint: hint},
		},
		symlinks: []symlinkSpec{
			{Path: "/usr/local/bin/redis-check-aof", Target: "redis-server"},
			{Path: "/usr/local/bin/redis-check-rdb", Target: "redis-server"},
			{Path: "/usr/local/bin/redis-sentinel", Target: "redis-server"},
		},
		dirs: []dirSpec{{Path: "/data", Mode: 0o755}},
		contents: []contentSpec{
			{Path: "/usr/local/bin/docker-entrypoint.sh", Data: redisEntrypoint, Mode: 0o755},
			{Path: "/etc/nsswitch.conf", Data: nsswitch},
			{Path: "/etc/passwd", Data: "root:x:0:0:root:/root:/bin/sh\n" +
				"redis:x:999:999::/home/redis:/bin/sh\n" +
				"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"},
			{Path: "/etc/group", Data: "root:x:0:\nredis:x:999:\nnogroup:x:65534:\n"},
		},
		config: imageConfig{
			Entrypoint:   []string{"docker-entrypoint.sh"},
			Cmd:          []string{"redis-server"},
			Env:          []string{defaultPath},
			WorkingDir:   "/data",
			ExposedPorts: []string{"6379/tcp"},
		},
	})
}
