package bench

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRenderCRIConfig(t *testing.T) {
	l := Layout{Run: "/run/x", State: "/var/lib/x"}
	c := RenderCRIConfig(l, []string{"/usr/lib/cni"}, "docker.io/podsim/pause:latest")
	for _, want := range []string{
		`root = "/var/lib/x/containerd"`,
		`state = "/run/x/containerd/state"`,
		`address = "/run/x/containerd/containerd.sock"`,
		`sandbox_image = "docker.io/podsim/pause:latest"`,
		`restrict_oom_score_adj = true`,
		`disable_apparmor = true`,
		`runtime_type = "io.containerd.runc.v2"`,
		`SystemdCgroup = false`,
		`conf_dir = "/var/lib/x/cni/net.d"`,
		`bin_dir = "/usr/lib/cni"`,
	} {
		if !strings.Contains(c, want) {
			t.Errorf("CRI config lacks %s:\n%s", want, c)
		}
	}
	if strings.Contains(c, "disabled_plugins") {
		t.Error("the reference containerd must keep the CRI plugin")
	}
}

func TestRenderCNIConfHasNoGatewayOrNAT(t *testing.T) {
	var conf struct {
		Name    string `json:"name"`
		Plugins []map[string]any
	}
	if err := json.Unmarshal([]byte(RenderCNIConf("n", "br0", "10.223.0.0/16", "/ipam", "1.0.0")), &conf); err != nil {
		t.Fatal(err)
	}
	if len(conf.Plugins) != 1 || conf.Plugins[0]["type"] != "bridge" {
		t.Fatalf("plugins %+v: only the bridge (no portmap, no firewall)", conf.Plugins)
	}
	p := conf.Plugins[0]
	if p["isGateway"] != false || p["ipMasq"] != false || p["bridge"] != "br0" {
		t.Fatalf("bridge %+v: no gateway (ip_forward) and no masquerading", p)
	}
	if _, ok := p["ipam"].(map[string]any)["routes"]; ok {
		t.Fatal("no routes: nothing may leave the machine")
	}
}

func TestRenderPodmanConf(t *testing.T) {
	c := RenderPodmanConf(Layout{Run: "/run/x", State: "/var/lib/x"}, 20000, 32768)
	for _, want := range []string{
		`default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]`,
		`cgroup_manager = "cgroupfs"`,
		`runtime = "runc"`,
		`network_config_dir = "/var/lib/x/podman/net.d"`,
		`default_network = "` + PodmanNetwork + `"`,
	} {
		if !strings.Contains(c, want) {
			t.Errorf("containers.conf lacks %s:\n%s", want, c)
		}
	}
	s := RenderPodmanStorage(Layout{Run: "/run/x", State: "/var/lib/x"})
	if !strings.Contains(s, `graphroot = "/var/lib/x/podman/storage"`) || !strings.Contains(s, `runroot = "/run/x/podman/runroot"`) {
		t.Fatalf("storage.conf:\n%s", s)
	}
	if !strings.Contains(RenderCrictlConfig("/s.sock"), "runtime-endpoint: unix:///s.sock") {
		t.Fatal("crictl config")
	}
}
