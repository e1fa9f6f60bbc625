// Command podsim-runsc is the shim podsim's containerd runs for the runsc
// handler (runtimeClassName: gvisor). It is a thin launcher in front of
// gVisor's own shim, containerd-shim-runsc-v1 (bin/gvisor/, built by
// hack/gvisor/build.sh from gVisor's sources): everything the pod's
// containers do goes through that shim and gVisor's runsc, exactly as on a
// Kubernetes node whose CRI config says runtime_type = "io.containerd.runsc.v1".
//
// The launcher exists for one difference of protocol. containerd runs a
// shim binary with "start" and reads the shim's address from its output.
// gVisor's shim is built on containerd 2's shim library, which answers with
// JSON ({"version":2,"address":"unix:///...","protocol":"ttrpc"}); Debian 12's
// containerd 1.6 reads the output as a bare socket address and fails
// ("dial unix {...}: invalid argument"). containerd 1.7 and later read both.
// So for "start" the launcher runs gVisor's shim, and prints the address
// alone; every other invocation (the shim daemon itself is started by
// gVisor's shim, not by this launcher; "delete" for cleanup) is an exec of
// gVisor's shim with the same arguments.
//
// One more thing for "start": gVisor's shim enables its grouping (one shim
// daemon for all the containers of a pod, grouped by CRI's
// io.kubernetes.cri.sandbox-id annotation, as containerd's runc shim does)
// only when it finds a config.toml saying grouping = true, in
// /etc/containerd/runsc/, /run/containerd/runsc/ (the system containerd's
// places, not podsim's) or the bundle directory, which is the working
// directory of "start". The launcher links podsim's shim config there
// (PODSIM_RUNSC_CONFIG, else /run/podsim/gvisor/runsc.toml).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// shimName is gVisor's shim binary, in the gvisor/ directory next to this
// launcher.
const shimName = "containerd-shim-runsc-v1"

// defaultConfig is where podsim writes the shim's config (sandbox.RunscConfigPath).
const defaultConfig = "/run/podsim/gvisor/runsc.toml"

func main() {
	shim, err := gvisorShim()
	if err != nil {
		fmt.Fprintln(os.Stderr, "podsim-runsc:", err)
		os.Exit(127)
	}
	if action(os.Args[1:]) != "start" {
		if err := syscall.Exec(shim, append([]string{shim}, os.Args[1:]...), os.Environ()); err != nil {
			fmt.Fprintf(os.Stderr, "podsim-runsc: exec %s: %v\n", shim, err)
			os.Exit(126)
		}
	}
	os.Exit(start(shim, os.Args[1:]))
}

// gvisorShim finds gVisor's shim next to the launcher (bin/gvisor/).
func gvisorShim() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	p := filepath.Join(filepath.Dir(self), "gvisor", shimName)
	if st, err := os.Stat(p); err != nil || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("gVisor's shim %s is missing: build it with make gvisor", p)
	}
	return p, nil
}

// start runs gVisor's shim "start" in the bundle directory and prints the
// address containerd 1.6 can read.
func start(shim string, args []string) int {
	cfg := os.Getenv("PODSIM_RUNSC_CONFIG")
	if cfg == "" {
		cfg = defaultConfig
	}
	if _, err := os.Stat(cfg); err == nil {
		// The bundle belongs to this container; containerd removes it
		// with the container.
		_ = os.Remove("config.toml")
		if err := os.Symlink(cfg, "config.toml"); err != nil {
			fmt.Fprintf(os.Stderr, "podsim-runsc: linking the shim config into the bundle: %v\n", err)
			return 1
		}
	}
	cmd := exec.Command(shim, args...)
	cmd.Stdin, cmd.Stderr = os.Stdin, os.Stderr
	out, err := cmd.Output()
	if err != nil {
		os.Stdout.Write(out)
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "podsim-runsc: %s start: %v\n", shim, err)
		return 1
	}
	addr, err := bootstrapAddress(out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "podsim-runsc: %s start: %v\n", shim, err)
		return 1
	}
	fmt.Print(addr)
	return 0
}

// bootstrapAddress is the socket address in a shim's "start" answer: the
// JSON BootstrapParams of containerd 2's shim library, or a bare address.
func bootstrapAddress(out []byte) (string, error) {
	out = bytes.TrimSpace(out)
	if len(out) == 0 || out[0] != '{' {
		return string(out), nil
	}
	var p struct {
		Version  int    `json:"version"`
		Address  string `json:"address"`
		Protocol string `json:"protocol"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		return "", fmt.Errorf("unreadable answer %q: %w", out, err)
	}
	if p.Protocol != "" && p.Protocol != "ttrpc" {
		return "", fmt.Errorf("answer %q: protocol %q, containerd 1.6 speaks ttrpc only", out, p.Protocol)
	}
	if p.Address == "" {
		return "", fmt.Errorf("answer %q has no address", out)
	}
	return p.Address, nil
}

// action is the shim action containerd asks for: the first argument that is
// not a flag or a flag's value ("start", "delete"), "" for the daemon.
func action(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) > 0 && a[0] == '-' {
			if !bytes.ContainsRune([]byte(a), '=') && takesValue(a) {
				i++
			}
			continue
		}
		return a
	}
	return ""
}

// takesValue says whether a flag containerd passes to a shim takes a value
// (-namespace ns, -address a, -publish-binary b, -id id, -bundle dir);
// -debug is boolean.
func takesValue(flag string) bool {
	switch flag {
	case "-namespace", "--namespace", "-address", "--address", "-publish-binary", "--publish-binary", "-id", "--id", "-bundle", "--bundle":
		return true
	}
	return false
}
