package bench

import "testing"

func TestOverheadCountsInfraNotWorkload(t *testing.T) {
	procs := map[int]*Proc{
		1:  {PID: 1, Cmdline: "/sbin/init", RSSKB: 1000},
		10: {PID: 10, PPID: 1, Comm: "containerd-shim", Cmdline: "/usr/bin/containerd-shim-runc-v2 -namespace podsim -id a -address /run/podsim/containerd/containerd.sock", RSSKB: 12000},
		11: {PID: 11, PPID: 10, Comm: "pause", Cmdline: "/pause", RSSKB: 700},
		12: {PID: 12, PPID: 10, Comm: "sleep", Cmdline: "sleep 86400", RSSKB: 1300},
		13: {PID: 13, PPID: 12, Comm: "sh", Cmdline: "sh -c x", RSSKB: 900},
		20: {PID: 20, PPID: 1, Comm: "conmon", Cmdline: "/usr/bin/conmon --api-version 1 -c x", RSSKB: 2500},
		21: {PID: 21, PPID: 20, Comm: "catatonit", Cmdline: "/catatonit -P", RSSKB: 600},
	}
	u := Overhead(procs, func(p *Proc) bool { return ProcKind(p) == "shim" })
	if u.Shims != 1 || u.Procs != 2 || u.RSSKB != 12000+700 {
		t.Fatalf("podsim tree: %+v", u)
	}
	if u.ByKind["shim"] != 12000 || u.ByKind["pause"] != 700 || len(u.ByKind) != 2 {
		t.Fatalf("by kind: %+v", u.ByKind)
	}
	pm := Overhead(procs, func(p *Proc) bool { return p.Comm == "conmon" })
	if pm.Shims != 1 || pm.RSSKB != 3100 || pm.ByKind["catatonit"] != 600 {
		t.Fatalf("podman tree: %+v", pm)
	}
	d := u.Sub(Usage{Procs: 1, Shims: 1, RSSKB: 12000, ByKind: map[string]int64{"shim": 12000, "conmon": 5}})
	if d.Procs != 1 || d.Shims != 0 || d.RSSKB != 700 || d.ByKind["shim"] != 0 || d.ByKind["conmon"] != -5 {
		t.Fatalf("sub: %+v", d)
	}
}

func TestProcKind(t *testing.T) {
	for cl, want := range map[string]string{
		"/pause":                           "pause",
		"/usr/local/bin/pause":             "pause",
		"sleep 86400":                      "",
		"/usr/bin/containerd-shim-runc-v2": "shim",
		"/catatonit -P":                    "catatonit",
	} {
		if got := ProcKind(&Proc{Cmdline: cl}); got != want {
			t.Errorf("%q: %q, want %q", cl, got, want)
		}
	}
}

// A process the shim started on its own side (same mount namespace as the
// shim) is counted whatever its name; a container's process is not.
func TestOverheadFindsRuntimeSideProcessesByMountNamespace(t *testing.T) {
	host := "mnt:[4026531841]"
	procs := map[int]*Proc{
		10: {PID: 10, PPID: 1, Comm: "containerd-shim", Cmdline: "/usr/bin/containerd-shim-runc-v2 -namespace podsim", RSSKB: 12000, MntNS: host},
		11: {PID: 11, PPID: 10, Comm: "pause", Cmdline: "/pause", RSSKB: 700, MntNS: "mnt:[1]"},
		12: {PID: 12, PPID: 10, Comm: "sleep", Cmdline: "sleep 5000", RSSKB: 1300, MntNS: "mnt:[2]"},
		13: {PID: 13, PPID: 10, Comm: "podsim-logger", Cmdline: "/usr/lib/podsim/podsim-logger /var/log/x", RSSKB: 2200, MntNS: host},
		14: {PID: 14, PPID: 10, Comm: "newhelper", Cmdline: "/opt/newhelper", RSSKB: 500, MntNS: host},
		15: {PID: 15, PPID: 12, Comm: "sh", Cmdline: "sh", RSSKB: 900, MntNS: host}, // below the workload: never counted
	}
	u := Overhead(procs, func(p *Proc) bool { return ProcKind(p) == "shim" })
	if u.Procs != 4 || u.RSSKB != 12000+700+2200+500 {
		t.Fatalf("got %+v", u)
	}
	if u.ByKind["podsim-logger"] != 2200 || u.ByKind["newhelper"] != 500 || u.ByKind["sleep"] != 0 {
		t.Fatalf("by kind: %+v", u.ByKind)
	}
}
