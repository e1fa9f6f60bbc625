package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/podsim/podsim/cgroups"
	"github.com/podsim/podsim/namespaces"
)

// GC removes every object podsim made, found by label and by name rather
// than by trusting the records: pods (records), containers in podsim's
// containerd namespace, netns pins named podsim-*, the /podsim cgroup tree,
// pod run/state/log dirs, IPAM leases and the bridge. It is how a host is
// cleaned after a crash. It returns one line per thing removed.
func (m *Manager) GC(ctx context.Context, bridge string) ([]string, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var done []string
	var errs []error
	recs, _ := m.Records()
	for _, r := range recs {
		if err := m.teardown(ctx, r, 0); err != nil {
			errs = append(errs, err)
		}
		done = append(done, "pod "+r.Name()+" ("+r.ID+")")
	}
	// Containers without a record (a crash before the record was written).
	ctrs, err := m.client.Containers(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("listing containers: %w", err))
	}
	for _, c := range ctrs {
		if err := removeContainer(ctx, c, 0, nil); err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, "container "+c.ID())
	}
	ents, _ := os.ReadDir(namespaces.NetNSDir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "podsim-") {
			if err := namespaces.RemoveNetNS(filepath.Join(namespaces.NetNSDir, e.Name())); err != nil {
				errs = append(errs, err)
				continue
			}
			done = append(done, "netns "+e.Name())
		}
	}
	for _, d := range []string{m.paths.podsDir(), filepath.Join(m.paths.Run, "pods")} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if err := m.removePodDirs(e.Name()); err != nil {
				errs = append(errs, err)
				continue
			}
			done = append(done, "pod dir "+e.Name())
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(m.paths.Logs, "pods")); len(ents) > 0 {
		os.RemoveAll(filepath.Join(m.paths.Logs, "pods"))
		done = append(done, fmt.Sprintf("%d pod log dir(s)", len(ents)))
	}
	if dirs := cgroups.Dirs(cgroups.Parent); len(dirs) > 0 {
		for _, d := range dirs {
			ents, _ := os.ReadDir(d)
			for _, e := range ents {
				if e.IsDir() {
					if err := cgroups.Remove(cgroups.Parent + "/" + e.Name()); err != nil {
						errs = append(errs, err)
					}
				}
			}
		}
		cgroups.RemoveParent()
		done = append(done, "cgroup tree "+cgroups.Parent)
	}
	// Every pod is gone: IPAM leases left by a crash can go too.
	ipam := filepath.Join(m.paths.cniDir(), "networks")
	if _, err := os.Stat(ipam); err == nil {
		os.RemoveAll(ipam)
	}
	if removed, err := RemoveBridgeIfUnused(bridge); err != nil {
		errs = append(errs, err)
	} else if removed {
		done = append(done, "bridge "+bridge)
	}
	return done, errors.Join(errs...)
}
