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
	c := NewCatalog("/nonexistent/pause")
	es := c.Entries()
	if len(es) != 2 {
		t.Fatalf("Entries() = %d entries, want 2: %+v", len(es), es)
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
	c := NewCatalog("/nonexistent/pause")
	for ref, want := range map[string]string{
		"busybox":                          BusyboxImage,
		"library/busybox:latest":           BusyboxImage,
		"busybox:1.36":                     BusyboxImage,
		"docker.io/library/busybox:stable": BusyboxImage,
		"podsim/pause":                     PauseImage,
		"docker.io/podsim/pause:latest":    PauseImage,
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
	c := NewCatalog("/nonexistent/pause")
	_, err := c.Lookup("foo:1")
	if !errors.Is(err, ErrUnknownImage) {
		t.Fatalf("Lookup(foo:1) error = %v, want ErrUnknownImage", err)
	}
	want := `image "foo:1" is not available offline; podsim can provide: busybox, podsim/pause (see 'podsim images')`
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
