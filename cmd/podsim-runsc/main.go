// Command podsim-runsc is what the runc v2 shim runs as its "runc" for
// podsim's runsc handler (sandbox.RuntimeClass): it execs gVisor's runsc
// with the global flags the handler needs, followed by the shim's own
// arguments (--root, --log, create/start/kill/delete/exec/...).
//
// The flags are those a CRI config gives runsc in its runsc.toml; the runc
// shim has no place for them (its options are BinaryName and Root), so this
// launcher adds them, as Docker users do with a wrapper for runsc:
//
//   - --platform=ptrace: the Sentry intercepts the application's system
//     calls with ptrace, which needs no /dev/kvm (this host has none).
//   - --network=host: the Sentry's sockets are host sockets, in the network
//     namespace the sandbox process joined, i.e. the pod's pinned netns
//     wired by CNI. runsc's own netstack (--network=sandbox) is not usable
//     with Debian's runsc 20221219 on kernels that show
//     /proc/sys/net/core/rmem_default in every network namespace: that
//     runsc takes the file as the sign of the host's root namespace and
//     refuses to start ("cannot run with network enabled in root network
//     namespace").
//
// And one argument: the shim runs "delete ID" once a container's task has
// exited; runc deletes a stopped container, but runsc refuses ("sandbox is
// not running") because the container's sandbox has gone with its process,
// so the launcher makes it "delete --force ID", which removes runsc's state
// (what gVisor's own shim does).
//
// And one translation: once a container's sandbox has exited, "runsc kill"
// fails with "sandbox is not running", words the shim does not know, so a
// teardown's kill would fail; the launcher says "container not running" as
// runc does, which the shim takes as "already finished".
//
// PODSIM_RUNSC_FLAGS (space-separated) replaces these flags, for
// experiments.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

var defaultFlags = []string{"--platform=ptrace", "--network=host"}

func main() {
	runsc, err := exec.LookPath("runsc")
	if err != nil {
		for _, p := range []string{"/usr/bin/runsc", "/usr/local/bin/runsc", "/usr/sbin/runsc"} {
			if _, e := os.Stat(p); e == nil {
				runsc, err = p, nil
				break
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "podsim-runsc: gVisor's runsc is not installed: apt-get install runsc")
		os.Exit(127)
	}
	flags := defaultFlags
	if f := strings.Fields(os.Getenv("PODSIM_RUNSC_FLAGS")); len(f) > 0 {
		flags = f
	}
	args := append(append([]string{runsc}, flags...), withForcedDelete(os.Args[1:])...)
	if subcommand(os.Args[1:]) == "kill" {
		os.Exit(runKill(runsc, args))
	}
	if err := syscall.Exec(runsc, args, os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "podsim-runsc: exec %s: %v\n", runsc, err)
		os.Exit(126)
	}
}

// runKill runs runsc kill as a child, passing its output on, and adds
// runc's "container not running" to runsc's "is not running".
func runKill(runsc string, args []string) int {
	cmd := exec.Command(runsc, args[1:]...)
	cmd.Stdin = os.Stdin
	out, err := cmd.CombinedOutput()
	if err == nil {
		os.Stdout.Write(out)
		return 0
	}
	if strings.Contains(string(out), "is not running") {
		fmt.Fprint(os.Stderr, "container not running: ")
	}
	os.Stderr.Write(out)
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	fmt.Fprintf(os.Stderr, "podsim-runsc: %v\n", err)
	return 1
}

// subcommand is runsc's subcommand: the first argument that is not a
// global flag or its value.
func subcommand(args []string) string {
	for i := 0; i < len(args); i++ {
		if strings.HasPrefix(args[i], "-") {
			if !strings.Contains(args[i], "=") && i+1 < len(args) && takesValue(args[i]) {
				i++
			}
			continue
		}
		return args[i]
	}
	return ""
}

// withForcedDelete adds --force to runsc's delete subcommand (the first
// argument that is not a global flag or its value).
func withForcedDelete(args []string) []string {
	if subcommand(args) != "delete" {
		return args
	}
	for i, a := range args {
		if a == "delete" && (i == 0 || !takesValue(args[i-1]) || strings.Contains(args[i-1], "=")) {
			out := append(append([]string{}, args[:i+1]...), "--force")
			return append(out, args[i+1:]...)
		}
	}
	return args
}

// takesValue says whether a global flag the shim passes takes a separate
// value (--root DIR, --log FILE, --log-format json); the others it passes
// (--systemd-cgroup, --debug) are booleans.
func takesValue(flag string) bool {
	switch strings.TrimLeft(flag, "-") {
	case "root", "log", "log-format", "criu":
		return true
	}
	return false
}
