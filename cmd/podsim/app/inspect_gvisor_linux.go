package app

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/podsim/podsim/sandbox"
)

// writeGVisor prints, for a pod of the runsc handler, both sides of the
// kernel boundary: what the host kernel runs for each container (gVisor's
// Sentry and gofer, their threads, memory and namespaces) next to what the
// container sees when asked (its kernel release, its PID 1, its /proc).
func writeGVisor(out io.Writer, in *sandbox.Inspection, rows []sandbox.GVisorRow) {
	if len(rows) == 0 {
		return
	}
	host, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Fprintf(out, "\ngVisor (runtimeClassName %s, handler runsc): each app container runs on a gVisor Sentry, a kernel in user space;\n", sandbox.RuntimeClassName(&in.State.Pod))
	fmt.Fprintln(out, "the pause is a runc container holding the pod's netns, which every Sentry joins (runsc --network=host), so localhost is shared.")
	fmt.Fprintln(out, "The PID and namespaces in the table above are the Sentry's, as the host kernel sees them.")
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  CONTAINER\tHOST SEES: SENTRY (runsc-sandbox)\tGOFER (runsc-gofer)\tCONTAINER SEES: KERNEL\tPID 1\tPIDS IN ITS /proc (ls included)")
	for _, r := range rows {
		if r.Err != "" {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t(%s)\t\t\n", r.Name, procText(r.Sentry), procText(r.Gofer), r.Err)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", r.Name, procText(r.Sentry), procText(r.Gofer), r.Kernel, r.PID1, strings.Join(r.PIDs, " "))
	}
	tw.Flush()
	fmt.Fprintf(out, "The host kernel is %s; the container's is the Sentry's. Its PID 1 is its command, a process only the Sentry knows:\n", strings.TrimSpace(string(host)))
	fmt.Fprintln(out, "no host process runs it, and its /proc lists the Sentry's processes, not the host's. The gofer has a network namespace of its own (no network): it only serves files.")
}

func procText(p sandbox.HostProc) string {
	if p.PID == 0 {
		return "-"
	}
	return fmt.Sprintf("pid %d, %d threads, %.1f MB RSS, net %d", p.PID, p.Threads, float64(p.RSSKB)/1024, p.NS["net"].Inode)
}
