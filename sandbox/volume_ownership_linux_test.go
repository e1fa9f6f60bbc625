package sandbox

import (
	"os"
	"testing"
)

func TestOwnershipMask(t *testing.T) {
	for _, tc := range []struct {
		dir, ro bool
		want    os.FileMode
	}{
		{false, false, 0o660},
		{false, true, 0o440},
		{true, false, os.ModeSetgid | 0o770},
		{true, true, os.ModeSetgid | 0o550},
	} {
		if got := ownershipMask(tc.dir, tc.ro); got != tc.want {
			t.Errorf("ownershipMask(dir=%v, ro=%v) = %v, want %v", tc.dir, tc.ro, got, tc.want)
		}
	}
}
