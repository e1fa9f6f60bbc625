package app

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/podsim/podsim/sandbox"
)

// writeUserNS prints the pod's user namespace: with hostUsers: false the
// ID range the pod holds and each process's uid_map as the kernel has it
// (one namespace, made by the pause, so one mapping); otherwise the host's.
func writeUserNS(out io.Writer, in *sandbox.Inspection) {
	u := in.State.UserNS
	if u == nil {
		fmt.Fprintf(out, "USER is the host's (no hostUsers: false): uid 0 inside is uid 0 outside (uid_map %q).\n", mapText(firstMap(in)))
		return
	}
	fmt.Fprintf(out, "\nuser namespace (hostUsers: false): the pod's uids and gids 0-%d are host IDs %s; the pause made it, every container joined it (USER shared)\n", u.Length-1, u.Range())
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  CONTAINER\tPID\tUSER NS\tUID_MAP (inside outside count)")
	for _, r := range in.Rows {
		if r.Err != "" {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\n", r.Name, r.PID, r.NS["user"], mapText(r.UIDMap))
	}
	tw.Flush()
	fmt.Fprintf(out, "root inside is uid %d on the host: files it writes are owned by %d, and it has no capability over anything the host's user namespace owns.\n", u.HostID, u.HostID)
}

func firstMap(in *sandbox.Inspection) string {
	for _, r := range in.Rows {
		if r.UIDMap != "" {
			return r.UIDMap
		}
	}
	return ""
}

func mapText(m string) string { return strings.Join(strings.Fields(m), " ") }
