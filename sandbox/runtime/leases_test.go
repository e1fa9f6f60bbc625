package runtime

import (
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/containerd/containerd/leases"
)

func TestLeaseOwner(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	self := SelfOwner()
	if self.PID != os.Getpid() || self.Start == "" || !self.Alive() {
		t.Fatalf("SelfOwner() = %+v, alive %v", self, self.Alive())
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		ours   bool
		alive  bool
	}{
		{"this process", map[string]string{LabelLeaseOwnerPID: strconv.Itoa(self.PID), LabelLeaseOwnerStart: self.Start, LabelLeaseOwnerBoot: self.Boot}, true, true},
		{"reused pid (other start time)", map[string]string{LabelLeaseOwnerPID: strconv.Itoa(self.PID), LabelLeaseOwnerStart: self.Start + "1", LabelLeaseOwnerBoot: self.Boot}, true, false},
		{"other boot", map[string]string{LabelLeaseOwnerPID: strconv.Itoa(self.PID), LabelLeaseOwnerStart: self.Start, LabelLeaseOwnerBoot: "x"}, true, false},
		{"the Go client's own lease", map[string]string{"containerd.io/gc.expire": "2030-01-01T00:00:00Z"}, false, false},
	} {
		o, ours := OwnerOf(leases.Lease{ID: "x", Labels: tc.labels})
		if ours != tc.ours || (ours && o.Alive() != tc.alive) {
			t.Errorf("%s: ours %v alive %v, want %v %v", tc.name, ours, ours && o.Alive(), tc.ours, tc.alive)
		}
	}
}
