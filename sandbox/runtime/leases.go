package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/leases"
)

// podsim's containerd leases. Every containerd call that makes content or
// snapshots (image import and unpack, NewContainer's snapshot) runs under a
// lease; without one on the context the Go client takes its own, a random
// 24 h lease nobody can tell apart — a podsim killed with SIGKILL leaves it
// behind and it pins the snapshot it was taken for. So podsim takes its
// leases itself, named podsim-<pid>-<random> and labelled with the process
// that owns them, and `podsim gc` deletes those whose owner is gone.
const (
	// LeasePrefix starts the ID of every lease podsim takes.
	LeasePrefix = "podsim-"
	// LabelLeaseOwnerPID, LabelLeaseOwnerStart and LabelLeaseOwnerBoot name the
	// owning process: its PID, its start time (clock ticks after boot, field
	// 22 of /proc/<pid>/stat, so a reused PID is not mistaken for the owner)
	// and the kernel's boot ID (leases outlive a reboot, PIDs do not).
	LabelLeaseOwnerPID   = "podsim.io/owner-pid"
	LabelLeaseOwnerStart = "podsim.io/owner-start"
	LabelLeaseOwnerBoot  = "podsim.io/owner-boot"
	// LabelLeasePurpose says what the lease was taken for ("pod default/podtest", "image busybox").
	LabelLeasePurpose = "podsim.io/purpose"
	// leaseExpiry is containerd's own backstop (containerd.io/gc.expire):
	// should gc never run, containerd drops the lease after it.
	leaseExpiry = 24 * time.Hour
)

// LeaseOwner is the process a podsim lease belongs to.
type LeaseOwner struct {
	PID   int
	Start string // clock ticks after boot
	Boot  string // /proc/sys/kernel/random/boot_id
}

// SelfOwner is this process as a lease owner.
func SelfOwner() LeaseOwner {
	pid := os.Getpid()
	start, _ := ProcessStart(pid)
	return LeaseOwner{PID: pid, Start: start, Boot: bootID()}
}

// OwnerOf reads the owner labels of a lease; ok is false for a lease
// podsim did not take (no owner labels).
func OwnerOf(l leases.Lease) (LeaseOwner, bool) {
	pid, err := strconv.Atoi(l.Labels[LabelLeaseOwnerPID])
	if err != nil || pid <= 0 || l.Labels[LabelLeaseOwnerStart] == "" {
		return LeaseOwner{}, false
	}
	return LeaseOwner{PID: pid, Start: l.Labels[LabelLeaseOwnerStart], Boot: l.Labels[LabelLeaseOwnerBoot]}, true
}

// Alive reports whether the owning process still runs: same boot, and the
// PID's start time is the one recorded.
func (o LeaseOwner) Alive() bool {
	if o.Boot != "" && o.Boot != bootID() {
		return false
	}
	start, err := ProcessStart(o.PID)
	return err == nil && start == o.Start
}

func (o LeaseOwner) String() string { return fmt.Sprintf("pid %d", o.PID) }

// WithLease returns ctx carrying a lease owned by this process (purpose
// says what for) and a release function that deletes it. When ctx already
// carries a lease, that one is used and release does nothing — as the Go
// client's own WithLease does, so nested calls share the outer lease.
func WithLease(ctx context.Context, client *containerd.Client, purpose string) (context.Context, func(), error) {
	if _, ok := leases.FromContext(ctx); ok {
		return ctx, func() {}, nil
	}
	o := SelfOwner()
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	ls := client.LeasesService()
	// Created whatever becomes of ctx: a command cancelled while the call
	// is in flight (its CLI killed, in the node agent) would otherwise get
	// an error for a lease containerd did make — owned by the agent, which
	// lives on, so gc would keep it for good.
	l, err := ls.Create(context.WithoutCancel(ctx),
		leases.WithID(fmt.Sprintf("%s%d-%s", LeasePrefix, o.PID, hex.EncodeToString(rnd[:]))),
		leases.WithLabels(map[string]string{
			LabelLeaseOwnerPID:   strconv.Itoa(o.PID),
			LabelLeaseOwnerStart: o.Start,
			LabelLeaseOwnerBoot:  o.Boot,
			LabelLeasePurpose:    purpose,
		}),
		leases.WithExpiration(leaseExpiry),
	)
	if err != nil {
		return ctx, func() {}, fmt.Errorf("taking a containerd lease for %s: %w", purpose, err)
	}
	release := func() {
		// Best effort: a lease left by a failed delete has a dead owner
		// once this process ends, and `podsim gc` removes it.
		_ = ls.Delete(context.WithoutCancel(ctx), l)
	}
	if err := ctx.Err(); err != nil {
		release()
		return ctx, func() {}, fmt.Errorf("taking a containerd lease for %s: %w", purpose, err)
	}
	return leases.WithLease(ctx, l.ID), release, nil
}

// ProcessStart returns a process's start time in clock ticks after boot
// (field 22 of /proc/<pid>/stat), which tells a PID's processes apart.
func ProcessStart(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	// The command name (field 2) may hold spaces and parentheses: count
	// fields after its closing parenthesis.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 20 {
		return "", fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	return f[19], nil
}

func bootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
}
