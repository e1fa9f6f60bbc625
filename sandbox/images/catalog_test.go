package images

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	const bb = "docker.io/library/busybox:latest"
	tests := []struct {
		in, want string
	}{
		{"busybox", bb},
		{"busybox:latest", bb},
		{"library/busybox", bb},
		{"library/busybox:latest", bb},
		{"docker.io/busybox", bb},
		{"docker.io/library/busybox", bb},
		{"docker.io/library/busybox:latest", bb},
		{"index.docker.io/library/busybox", bb},
		{"  busybox  ", bb},
		{"busybox:1.36", "docker.io/library/busybox:1.36"},
		{"podsim/pause", "docker.io/podsim/pause:latest"},
		{"podsim/pause:latest", "docker.io/podsim/pause:latest"},
		{"registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"},
		{"localhost/foo", "localhost/foo:latest"},
		{"localhost:5000/foo:1", "localhost:5000/foo:1"},
		{"busybox@sha256:" + strings.Repeat("a", 64), "docker.io/library/busybox@sha256:" + strings.Repeat("a", 64)},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		if err != nil {
			t.Errorf("Normalize(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "   ", "BusyBox", "busybox:", "busy box", ":latest"} {
		if got, err := Normalize(bad); err == nil {
			t.Errorf("Normalize(%q) = %q, want error", bad, got)
		}
	}
}

func TestCatalogEntries(t *testing.T) {
	c := NewCatalog("/nonexistent/bin")
	es := c.Entries()
	if len(es) != 10 {
		t.Fatalf("Entries() = %d entries, want 10: %+v", len(es), es)
	}
	byName := map[string]Entry{}
	for _, e := range es {
		byName[e.Name] = e
		if e.Source == "" {
			t.Errorf("%s: empty Source", e.Name)
		}
	}
	bb, ok := byName[BusyboxImage]
	if !ok || !bb.StandIn {
		t.Errorf("busybox entry = %+v, want a stand-in named %s", bb, BusyboxImage)
	}
	if p, ok := byName[PauseImage]; !ok || p.StandIn {
		t.Errorf("pause entry = %+v, want a non-stand-in named %s", p, PauseImage)
	}
	found := false
	for _, a := range bb.Aliases {
		if a == "docker.io/library/busybox:1.36" {
			found = true
		}
	}
	if !found {
		t.Errorf("busybox aliases %v do not include docker.io/library/busybox:1.36", bb.Aliases)
	}
}

func TestLookup(t *testing.T) {
	c := NewCatalog("/nonexistent/bin")
	for ref, want := range map[string]string{
		"busybox":                          BusyboxImage,
		"library/busybox:latest":           BusyboxImage,
		"busybox:1.36":                     BusyboxImage,
		"docker.io/library/busybox:stable": BusyboxImage,
		"podsim/pause":                     PauseImage,
		"docker.io/podsim/pause:latest":    PauseImage,
		"nginx":                            NginxImage,
		"nginx:1.23":                       NginxImage,
		"public.ecr.aws/nginx/nginx:1.23":  NginxImage,
		"public.ecr.aws/nginx/nginx":       NginxImage,
		"curlimages/curl":                  CurlImage,
		"curlimages/curl:latest":           CurlImage,
		"redis:6":                          RedisImage,
		"redis:7":                          RedisImage,
		"alpine:3.12":                      AlpineImage,
		"alpine:3":                         AlpineImage,
		"alpine":                           AlpineImage,
		"elasticsearch:7.9.3":              ElasticsearchImage,
		"docker.elastic.co/elasticsearch/elasticsearch:7.9.3": ElasticsearchImage,
		"justwatch/elasticsearch_exporter:1.1.0":              ESExporterImage,
		"vault":                                               VaultImage,
		"hashicorp/vault":                                     VaultImage,
		"myapp":                                               MyappImage,
	} {
		e, err := c.Lookup(ref)
		if err != nil {
			t.Errorf("Lookup(%q): %v", ref, err)
			continue
		}
		if e.Name != want {
			t.Errorf("Lookup(%q).Name = %q, want %q", ref, e.Name, want)
		}
	}
}

func TestLookupUnknown(t *testing.T) {
	c := NewCatalog("/nonexistent/bin")
	_, err := c.Lookup("foo:1")
	if !errors.Is(err, ErrUnknownImage) {
		t.Fatalf("Lookup(foo:1) error = %v, want ErrUnknownImage", err)
	}
	want := `image "foo:1" is not available offline; podsim can provide: alpine, busybox, curlimages/curl, elasticsearch:7.9.3, justwatch/elasticsearch_exporter:1.1.0, myapp, nginx, podsim/pause, redis, vault (see 'podsim images')`
	if err.Error() != want {
		t.Errorf("error text:\n got %s\nwant %s", err, want)
	}

	// An invalid reference is an error, but not "unknown image".
	if _, err := c.Lookup("Not Valid"); err == nil || errors.Is(err, ErrUnknownImage) {
		t.Errorf("Lookup(invalid) error = %v, want a non-ErrUnknownImage error", err)
	}
}

func TestNewCatalogRejectsDuplicates(t *testing.T) {
	_, err := newCatalog([]*recipe{
		{name: BusyboxImage, aliases: []string{"busybox:1"}},
		{name: "docker.io/library/other:latest", aliases: []string{"docker.io/library/busybox:1"}},
	})
	if err == nil {
		t.Fatal("newCatalog with a ref claimed twice: want error")
	}
}
