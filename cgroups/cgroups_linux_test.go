package cgroups

import (
	"os"
	"strings"
	"testing"
)

func TestPodPathQoSTiers(t *testing.T) {
	for _, tc := range []struct{ qos, want string }{
		{"BestEffort", "/podsim/besteffort/pod1_2"},
		{"Burstable", "/podsim/burstable/pod1_2"},
		{"Guaranteed", "/podsim/pod1_2"},
	} {
		if got := PodPath("1-2", tc.qos); got != tc.want {
			t.Errorf("PodPath(%s) = %s, want %s (kubelet's cgroupfs layout)", tc.qos, got, tc.want)
		}
	}
}

func TestSharesToWeight(t *testing.T) {
	// kubelet's CpuSharesToCPUWeight: 2 -> 1, 1024 -> 39, 262144 -> 10000.
	for shares, want := range map[uint64]uint64{0: 1, 2: 1, 102: 4, 1024: 39, 262144: 10000} {
		if got := SharesToWeight(shares); got != want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", shares, got, want)
		}
	}
	for _, shares := range []uint64{2, 102, 512, 1024, 4096} {
		if back := SharesToWeight(weightToShares(SharesToWeight(shares))); back != SharesToWeight(shares) {
			t.Errorf("weight of %d shares does not survive a round trip: %d", shares, back)
		}
	}
}

func TestOfProcess(t *testing.T) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Skip(err)
	}
	got := OfProcess(os.Getpid())
	if got == "" || !strings.Contains(string(b), ":"+got+"\n") {
		t.Errorf("OfProcess(self) = %q, not a path of /proc/self/cgroup:\n%s", got, b)
	}
	if got := OfProcess(1 << 30); got != "" {
		t.Errorf("OfProcess(no such pid) = %q, want \"\"", got)
	}
}
