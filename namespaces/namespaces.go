// Package namespaces owns the Linux namespaces podsim handles itself: the
// pod's network namespace, which is created and pinned before any container
// exists (as containerd's CRI plugin does), and the read-only inspection of
// /proc/<pid>/ns/* that podsim uses to show and check which namespaces a
// container shares with its pod.
package namespaces

import "errors"

// NetNSDir is where pinned network namespaces live. iproute2 uses the same
// directory, so `ip netns list` and `ip -n <name> link` see podsim's pods.
const NetNSDir = "/run/netns"

// Types lists the namespace kinds podsim shows, in the order `lsns` and the
// kernel's /proc/<pid>/ns directory are usually read.
var Types = []string{"net", "ipc", "uts", "pid", "mnt", "cgroup", "user"}

// ErrNotLinux is returned on platforms without namespaces.
var ErrNotLinux = errors.New("podsim needs Linux: namespaces are a Linux kernel feature")
