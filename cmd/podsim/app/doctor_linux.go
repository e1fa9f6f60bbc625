package app

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/namespaces"
	"github.com/podsim/podsim/sandbox"
	"github.com/podsim/podsim/sandbox/runtime"
)

func newDoctorCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check this host: kernel features, cgroups, containerd, runc, CNI plugins, images",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			problems := 0
			line := func(ok bool, what, detail, fix string) {
				mark := "ok  "
				if !ok {
					mark = "FAIL"
					problems++
				}
				fmt.Fprintf(e.out, "[%s] %-22s %s\n", mark, what, detail)
				if !ok && fix != "" {
					fmt.Fprintf(e.out, "       fix: %s\n", fix)
				}
			}
			note := func(what, detail string) { fmt.Fprintf(e.out, "[info] %-22s %s\n", what, detail) }

			line(os.Geteuid() == 0, "root", fmt.Sprintf("euid %d", os.Geteuid()), "run podsim with sudo")
			host, err := namespaces.Of(0)
			var have []string
			for _, t := range namespaces.Types {
				if _, ok := host[t]; ok {
					have = append(have, t)
				}
			}
			line(err == nil && len(host) >= 6, "namespaces", strings.Join(have, " "), "a Linux kernel with namespaces is needed")
			// overlay is often a module the kernel loads on first mount, so
			// it may be absent from /proc/filesystems until then.
			fs, _ := os.ReadFile("/proc/filesystems")
			overlay := strings.Contains(string(fs), "overlay")
			if !overlay {
				if rel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
					mods, _ := filepath.Glob("/lib/modules/" + strings.TrimSpace(string(rel)) + "/kernel/fs/overlayfs/overlay.ko*")
					overlay = len(mods) > 0
				}
			}
			line(overlay, "overlayfs", "for containerd's overlayfs snapshotter (built in, or a module loaded on first use)", "modprobe overlay")
			miss := cgroups.ControllersMissing()
			line(len(miss) == 0, "cgroups", "mode "+cgroups.Mode()+", controllers cpu memory pids", "missing controllers: "+strings.Join(miss, " "))
			for _, b := range []struct{ name, pkg string }{
				{"containerd", "containerd"}, {"containerd-shim-runc-v2", "containerd"}, {"runc", "runc"},
			} {
				p, err := exec.LookPath(b.name)
				line(err == nil, b.name, p, "sudo apt-get install "+b.pkg+" (or sudo make deps)")
			}
			nc := sandbox.DefaultNetworkConfig()
			_, nerr := sandbox.NewCNINetwork(nc, os.TempDir()+"/podsim-doctor-cni")
			os.RemoveAll(os.TempDir() + "/podsim-doctor-cni")
			line(nerr == nil, "CNI plugins", fmt.Sprintf("bridge, host-local, loopback in %v; bridge %s, subnet %s", nc.BinDirs, nc.Bridge, nc.Subnet), "sudo apt-get install containernetworking-plugins")
			_, berr := os.Stat("/bin/busybox")
			line(berr == nil, "busybox-static", "/bin/busybox (for the busybox image)", "sudo apt-get install busybox-static")
			pb, perr := pauseBinary()
			line(perr == nil, "pause binary", pb, "make build")
			exe, _ := os.Executable()
			gv := sandbox.GVisorPathsBeside(exe)
			if rerr := sandbox.RunscReady(gv); rerr != nil {
				note("gVisor", "runtimeClassName gvisor will be refused: "+rerr.Error())
			} else {
				ver, _ := os.ReadFile(filepath.Join(filepath.Dir(gv.Runsc), "VERSION"))
				note("gVisor", fmt.Sprintf("%s and %s (gvisor.dev/gvisor %s), started by %s; runsc --platform=ptrace: runtimeClassName gvisor works", gv.Shim, gv.Runsc, strings.TrimSpace(string(ver)), gv.Launcher))
			}

			if lim, err := runtime.ReadHostLimits(); err == nil {
				if lim.CapSysResource {
					note("host limits", fmt.Sprintf("CAP_SYS_RESOURCE present; oom_score_adj %d; nofile %d/%d", lim.OOMScoreAdj, lim.NoFileSoft, lim.NoFileHard))
				} else {
					note("host limits", fmt.Sprintf("no CAP_SYS_RESOURCE (a container or restricted VM): podsim requests no lower oom_score_adj and no rlimit above the hard nofile limit %d", lim.NoFileHard))
				}
			}
			doctorUserNS(note) // hostUsers: false
			if os.Geteuid() == 0 && problems == 0 {
				if _, err := e.manager(); err != nil {
					line(false, "containerd", err.Error(), "see the containerd log named above")
				} else {
					detail := fmt.Sprintf("%s daemon at %s (version %s)", e.info.Kind, e.info.Address, e.info.Version)
					if e.info.Kind == runtime.KindEmbedded {
						detail += fmt.Sprintf(", supervisor pid %d, log %s", e.info.PID, e.info.Log)
					}
					line(true, "containerd", detail, "")
					cat, _ := e.images()
					for _, en := range cat.Entries() {
						_, err := e.client.GetImage(e.ctx, en.Name)
						state := "built"
						if err != nil {
							state = "not built yet (built on first use)"
						}
						si := ""
						if en.StandIn {
							si = " [stand-in]"
						}
						note("image", fmt.Sprintf("%s%s: %s", en.Name, si, state))
					}
				}
			}
			if problems > 0 {
				return fmt.Errorf("%d problem(s) found: see the fixes above", problems)
			}
			fmt.Fprintln(e.out, "podsim is ready.")
			return nil
		},
	}
}
