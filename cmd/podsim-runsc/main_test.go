package main

import (
	"reflect"
	"testing"
)

func TestWithForcedDelete(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"--root", "/r", "--log", "/l.json", "--log-format", "json", "delete", "id1"},
			[]string{"--root", "/r", "--log", "/l.json", "--log-format", "json", "delete", "--force", "id1"}},
		{[]string{"--root=/r", "delete", "id1"}, []string{"--root=/r", "delete", "--force", "id1"}},
		{[]string{"--root", "/r", "start", "id1"}, []string{"--root", "/r", "start", "id1"}},
		{[]string{"--root", "delete", "start", "x"}, []string{"--root", "delete", "start", "x"}}, // "delete" is --root's value
	} {
		if got := withForcedDelete(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("withForcedDelete(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
