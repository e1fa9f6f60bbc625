package main

import "testing"

func TestAction(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"-namespace", "podsim", "-address", "/run/c.sock", "-publish-binary", "/usr/bin/containerd", "-id", "abc", "start"}, "start"},
		{[]string{"-namespace", "podsim", "-address", "/run/c.sock", "-publish-binary", "/usr/bin/containerd", "-id", "abc", "-bundle", "/b", "delete"}, "delete"},
		{[]string{"-namespace", "podsim", "-debug", "-id", "start"}, ""}, // "start" is -id's value: a container named start
		{[]string{"-namespace=podsim", "-id=x", "start"}, "start"},
		{[]string{"-namespace", "podsim", "-id", "x"}, ""},
	} {
		if got := action(tc.in); got != tc.want {
			t.Errorf("action(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBootstrapAddress(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: `{"version":2,"address":"unix:///run/containerd/s/ab12","protocol":"ttrpc"}`, want: "unix:///run/containerd/s/ab12"},
		{in: "unix:///run/containerd/s/ab12\n", want: "unix:///run/containerd/s/ab12"}, // a shim of the old protocol
		{in: `{"version":3,"address":"unix:///s","protocol":"grpc"}`, bad: true},
		{in: `{"version":2}`, bad: true},
		{in: `{"version":`, bad: true},
	} {
		got, err := bootstrapAddress([]byte(tc.in))
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("bootstrapAddress(%q) = %q, %v; want %q (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}
