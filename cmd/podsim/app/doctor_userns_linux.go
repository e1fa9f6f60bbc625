package app

import (
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/podsim/podsim/sandbox"
)

// doctorUserNS reports what hostUsers: false pods need: user namespaces in
// the kernel, the runc that makes them, and whether the kernel could make
// idmapped mounts (which podsim does not use: see docs/performance.md). A
// host without them is not broken, so it is a note, not a failure: such
// pods are refused with what is missing.
func doctorUserNS(note func(what, detail string)) {
	rel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	kernel := "kernel " + strings.TrimSpace(string(rel))
	if err := sandbox.UserNSHostSupport(); err != nil {
		note("user namespaces", "not available, hostUsers: false pods are refused: "+err.Error())
	} else {
		max, _ := os.ReadFile("/proc/sys/user/max_user_namespaces")
		note("user namespaces", fmt.Sprintf("%s: yes (user.max_user_namespaces %s); hostUsers: false pods get 65536 host IDs each from %s", kernel, strings.TrimSpace(string(max)), sandbox.UserNSPool))
	}
	idmap := "no (mount_setattr missing)"
	if sandbox.IdmappedMounts() {
		idmap = "the kernel has them (mount_setattr)"
	}
	runc := "runc not found"
	if p, err := exec.LookPath("runc"); err == nil {
		out, _ := exec.Command(p, "--version").Output()
		first, _, _ := strings.Cut(string(out), "\n")
		runc = p + " " + strings.TrimPrefix(first, "runc ")
	}
	note("idmapped mounts", fmt.Sprintf("%s; runc in use: %s (idmapped mounts need runc >= 1.2: podsim gives the pod's root a chowned copy of the image and re-owned volumes instead)", idmap, runc))
}
