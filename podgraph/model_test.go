package podgraph

import (
	"io"
	"strings"
	"testing"
)

func TestHostTextNamesTheField(t *testing.T) {
	p := &Pod{HostWhy: map[string]string{"net": "hostNetwork: true", "uts": "hostNetwork: true", "pid": "hostPID: true"}}
	if got, want := p.HostText([]string{"net", "uts", "pid", "user"}), "net uts (hostNetwork: true) pid (hostPID: true) user"; got != want {
		t.Errorf("HostText = %q, want %q", got, want)
	}
	p.HostNetwork, p.IP, p.Name = true, "10.0.2.15", "web"
	p.Pause = Container{Name: "POD", Role: "sandbox", Host: []string{"net", "uts"}}
	for name, render := range map[string]func(io.Writer, *Pod) error{"DOT": DOT, "SVG": SVG} {
		var b strings.Builder
		if err := render(&b, p); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "hostNetwork: true") {
			t.Errorf("%s does not say why the network is the host's:\n%s", name, b.String())
		}
	}
}
