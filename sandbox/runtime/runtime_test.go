package runtime

import (
	"context"
	"errors"
	"strings"
	"testing"

	containerd "github.com/containerd/containerd"
)

func TestPathsDefaults(t *testing.T) {
	p := Options{}.paths()
	want := map[string]string{
		"Root":       "/var/lib/podsim/containerd",
		"State":      "/run/podsim/containerd/state",
		"Socket":     "/run/podsim/containerd/containerd.sock",
		"TTRPC":      "/run/podsim/containerd/containerd.sock.ttrpc",
		"Config":     "/run/podsim/containerd/config.toml",
		"PIDFile":    "/run/podsim/containerd/supervisor.pid",
		"CtrdPID":    "/run/podsim/containerd/containerd.pid",
		"Log":        "/var/lib/podsim/containerd/containerd.log",
		"SystemSock": "/run/containerd/containerd.sock",
	}
	got := map[string]string{
		"Root": p.Root, "State": p.State, "Socket": p.Socket, "TTRPC": p.TTRPC,
		"Config": p.Config, "PIDFile": p.PIDFile, "CtrdPID": p.CtrdPID, "Log": p.Log,
		"SystemSock": p.SystemSock,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
}

func TestRenderConfig(t *testing.T) {
	p := Options{StateDir: "/srv/ps state", RunDir: "/run/psx", SystemSocket: "/nonexistent"}.paths()
	cfg := renderConfig(p)
	for _, line := range []string{
		`version = 2`,
		`root = "/srv/ps state/containerd"`,
		`state = "/run/psx/containerd/state"`,
		`oom_score = 0`,
		`disabled_plugins = ["io.containerd.grpc.v1.cri"]`,
		`[grpc]`,
		`  address = "/run/psx/containerd/containerd.sock"`,
		`[ttrpc]`,
		`  address = "/run/psx/containerd/containerd.sock.ttrpc"`,
		`  [plugins."io.containerd.snapshotter.v1.overlayfs"]`,
		`  [plugins."io.containerd.internal.v1.opt"]`,
		`    path = "/srv/ps state/containerd/opt"`,
	} {
		if !hasLine(cfg, line) {
			t.Errorf("config lacks line %q:\n%s", line, cfg)
		}
	}
	// podsim must never ask for what the host forbids.
	for _, bad := range []string{"rlimit", "oom_score = -", "/run/containerd/", "/var/lib/containerd"} {
		if strings.Contains(cfg, bad) {
			t.Errorf("config contains %q:\n%s", bad, cfg)
		}
	}
}

func hasLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

func TestTOMLString(t *testing.T) {
	for in, want := range map[string]string{
		`/a/b`:   `"/a/b"`,
		`a"b\c`:  `"a\"b\\c"`,
		"tab\tx": `"tab\u0009x"`,
	} {
		if got := TOMLString(in); got != want {
			t.Errorf("TOMLString(%q) = %s, want %s", in, got, want)
		}
	}
}

// fakeDaemons answers on the listed addresses and records every probe.
type fakeDaemons struct {
	up      map[string]bool
	probed  []string
	started int
	startOK bool
}

func (f *fakeDaemons) dial(ctx context.Context, address string) (*containerd.Client, string, error) {
	f.probed = append(f.probed, address)
	if f.up[address] {
		return nil, "fake-1.6", nil
	}
	return nil, "", errors.New("connection refused")
}

func (f *fakeDaemons) start(ctx context.Context, o Options, p paths) (int, error) {
	f.started++
	if !f.startOK {
		return 0, errors.New("containerd is not installed")
	}
	f.up[p.Socket] = true
	return 4242, nil
}

func TestResolveOrder(t *testing.T) {
	base := Options{StateDir: "/s", RunDir: "/r", SystemSocket: "/sys.sock"}
	own := "/r/containerd/containerd.sock"
	tests := []struct {
		name     string
		address  string
		up       []string
		startOK  bool
		wantKind string
		wantAddr string
		wantErr  string
		wantPID  int
		starts   int
	}{
		{name: "explicit answers", address: "unix:///x.sock", up: []string{"/x.sock", "/sys.sock"}, wantKind: KindExplicit, wantAddr: "/x.sock"},
		{name: "explicit silent: error, no fallback", address: "/x.sock", up: []string{"/sys.sock", own}, wantErr: "/x.sock"},
		{name: "system answers", up: []string{"/sys.sock", own}, wantKind: KindSystem, wantAddr: "/sys.sock"},
		{name: "embedded started", startOK: true, wantKind: KindEmbedded, wantAddr: own, wantPID: 4242, starts: 1},
		{name: "embedded start fails", startOK: false, wantErr: "not installed", starts: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeDaemons{up: map[string]bool{}, startOK: tc.startOK}
			for _, a := range tc.up {
				f.up[a] = true
			}
			o := base
			o.Address = tc.address
			_, info, err := resolve(context.Background(), o, f.dial, f.start)
			if f.started != tc.starts {
				t.Errorf("started %d times, want %d", f.started, tc.starts)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.Kind != tc.wantKind || info.Address != tc.wantAddr || info.PID != tc.wantPID || info.Version != "fake-1.6" {
				t.Errorf("info = %+v, want kind %s at %s pid %d", info, tc.wantKind, tc.wantAddr, tc.wantPID)
			}
			if tc.wantKind == KindEmbedded && info.Log != "/s/containerd/containerd.log" {
				t.Errorf("log = %q", info.Log)
			}
		})
	}
}
