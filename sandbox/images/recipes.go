package images

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Names of the built-in images.
const (
	PauseImage         = "docker.io/podsim/pause:latest"
	BusyboxImage       = "docker.io/library/busybox:latest"
	AlpineImage        = "docker.io/library/alpine:latest"
	NginxImage         = "docker.io/library/nginx:latest"
	CurlImage          = "docker.io/curlimages/curl:latest"
	RedisImage         = "docker.io/library/redis:latest"
	ElasticsearchImage = "docker.io/library/elasticsearch:7.9.3"
	ESExporterImage    = "docker.io/justwatch/elasticsearch_exporter:1.1.0"
	VaultImage         = "docker.io/library/vault:latest"
	MyappImage         = "docker.io/library/myapp:latest"
)

// defaultPath is the PATH every Docker library image sets.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// builtinRecipes is the table of images podsim can build. Keep it sorted by
// short name; that is the order `podsim images` shows. binDir holds
// podsim's stand-in programs (bin/ after `make build`), pause is podsim's
// pause program.
//
// Adding an image usually means adding one entry here. For a Debian program
// with shared libraries, a file with ELF: true pulls in the loader and the
// libraries (see nginxRecipe); withBusybox adds a shell and the usual
// tools; a podsim stand-in program is a file with Helper: true (see
// standIn).
func builtinRecipes(binDir, pause string) []*recipe {
	return []*recipe{
		alpineRecipe(),
		busyboxRecipe(),
		curlRecipe(),
		elasticsearchRecipe(binDir),
		esExporterRecipe(binDir),
		myappRecipe(binDir),
		nginxRecipe(),
		pauseRecipe(pause),
		redisRecipe(),
		vaultRecipe(binDir),
	}
}

// pauseRecipe is the image of a pod's sandbox ("infra") container. Kubernetes
// starts it first in every pod: it holds the pod's namespaces (network, IPC,
// ...) open while the app containers come and go, and does nothing else but
// sleep and reap zombies. podsim ships its own static pause program, so the
// image is that one file.
func pauseRecipe(pauseBinary string) *recipe {
	return &recipe{
		name:    PauseImage,
		source:  fmt.Sprintf("podsim's static pause program (%s)", pauseBinary),
		from:    pauseBinary,
		version: 2,
		files: []fileSpec{{
			Host: pauseBinary, Path: "/pause", Mode: 0o755,
			Hint: "build it with `make` (it becomes bin/pause)",
		}},
		config: imageConfig{
			Entrypoint: []string{"/pause"},
			// Unprivileged, as registry.k8s.io/pause: the pause needs
			// nothing but signals and wait4, and a container of the pod
			// that shares its PID namespace cannot read /proc/1/root or
			// /proc/1/environ of another user. Numeric: there is no
			// /etc/passwd in this image to look a user name up in.
			User: "65535:65535",
		},
	}
}

// busyboxBin is where every image with a shell has Debian's busybox-static.
const busyboxBin = "/bin/busybox"

// baseDirs are the directories every image with a shell has.
var baseDirs = []dirSpec{
	{Path: "/tmp", Mode: 0o777 | fs.ModeSticky},
	{Path: "/etc", Mode: 0o755},
	{Path: "/root", Mode: 0o700},
	{Path: "/var", Mode: 0o755},
	{Path: "/home", Mode: 0o755},
	// Mount points the runtime fills in.
	{Path: "/proc", Mode: 0o555},
	{Path: "/sys", Mode: 0o555},
	{Path: "/dev", Mode: 0o755},
}

// withBusybox adds a shell and the usual Unix tools to r: Debian's
// busybox-static at /bin/busybox, a link for each of its applets (/bin/sh,
// /bin/cat, /sbin/sysctl, /usr/bin/tail, ...) and the base directories. It
// is how the busybox image itself is made, and the other images use it for
// their /bin/sh (the official nginx, curl and redis images have one too).
// Applets never replace a file the recipe adds itself: they are linked
// after the recipe's own entries and only where nothing is.
func withBusybox(r *recipe) *recipe {
	r.files = append(r.files, fileSpec{
		Host: busyboxBin, Path: busyboxBin, Mode: 0o755,
		// ELF: true costs nothing for a static binary and keeps the
		// image working if the host has the dynamic `busybox` package
		// instead.
		ELF:  true,
		Hint: "install busybox-static (apt-get install busybox-static)",
	})
	r.dirs = append(r.dirs, baseDirs...)
	own := r.expand
	r.expand = func(ctx context.Context, t *tree) error {
		if own != nil {
			if err := own(ctx, t); err != nil {
				return err
			}
		}
		return addBusyboxApplets(ctx, t, busyboxBin, busyboxBin)
	}
	return r
}

// busyboxRecipe builds a stand-in for Docker's busybox image from Debian's
// busybox-static. BusyBox is one program that behaves like ~300 Unix tools
// depending on the name it is started as (argv[0]); the image is that one
// binary plus a link for every tool name, exactly how the real image is
// made. Being static, it needs no libraries.
func busyboxRecipe() *recipe {
	return withBusybox(&recipe{
		name: BusyboxImage,
		// Users pin versions in pod specs; all of these get the same
		// stand-in, which behaves the same for what pods use it for.
		aliases: []string{
			"busybox:1", "busybox:1.35", "busybox:1.35.0",
			"busybox:1.36", "busybox:1.36.0", "busybox:1.36.1",
			"busybox:1.37", "busybox:1.37.0",
			"busybox:stable", "busybox:glibc", "busybox:musl", "busybox:uclibc",
		},
		standIn: true,
		source:  "stand-in: Debian busybox-static (" + busyboxBin + ") with a link per applet, like the official image",
		from:    busyboxBin,
		version: 1,
		contents: []contentSpec{
			{Path: "/etc/passwd", Data: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"},
			{Path: "/etc/group", Data: "root:x:0:\nnobody:x:65534:\n"},
		},
		config: imageConfig{
			Cmd:        []string{"sh"},
			Env:        []string{defaultPath},
			WorkingDir: "/",
		},
	})
}

// addBusyboxApplets asks the busybox at host which tools it provides
// (`busybox --list-full` prints paths like "bin/sh" or "usr/bin/nc") and
// adds each as a relative symlink to the busybox binary at image path bin.
// Relative links ("sh" -> "busybox", "usr/bin/nc" -> "../../bin/busybox")
// resolve correctly both inside the container and when the unpacked
// snapshot is inspected from the host.
func addBusyboxApplets(ctx context.Context, t *tree, host, bin string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, host, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("listing busybox applets (%s --list-full): %w", host, err)
	}
	bin, err = cleanPath(bin)
	if err != nil {
		return err
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		link := strings.TrimSpace(sc.Text())
		if link == "" {
			continue
		}
		link, err := cleanPath(link)
		if err != nil {
			return fmt.Errorf("busybox --list-full: %w", err)
		}
		if link == bin || t.Has(link) {
			continue // the binary itself, or something the recipe provides
		}
		if err := t.AddSymlink(link, relLink(link, bin)); err != nil {
			return err
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s --list-full listed no applets", host)
	}
	return nil
}

// relLink returns the relative symlink target that makes link point at
// target (both clean image paths without a leading slash), e.g.
// ("bin/sh", "bin/busybox") -> "busybox" and ("usr/bin/nc", "bin/busybox")
// -> "../../bin/busybox".
func relLink(link, target string) string {
	rel, err := filepath.Rel("/"+path.Dir(link), "/"+target)
	if err != nil {
		return "/" + target // cannot happen for two absolute paths
	}
	return rel
}
