package podgraph

import (
	"fmt"
	"io"
	"strings"
)

// DOT writes the pod as a Graphviz digraph: clusters nest like the kernel
// objects (pod cgroup > pod namespaces > containers > their own namespaces),
// volumes are nodes with an edge to each container that mounts them, and
// the network path is eth0 - veth - bridge.
func DOT(w io.Writer, p *Pod) error {
	b := &strings.Builder{}
	ln := func(indent int, format string, args ...any) {
		b.WriteString(strings.Repeat("  ", indent))
		fmt.Fprintf(b, format, args...)
		b.WriteByte('\n')
	}
	ln(0, "digraph %s {", dotQ("pod "+p.Namespace+"/"+p.Name))
	ln(1, "compound=true; rankdir=TB; newrank=true;")
	ln(1, `graph [fontname="monospace", fontsize=11, labeljust=l];`)
	ln(1, `node [shape=box, style="rounded,filled", fillcolor=white, fontname="monospace", fontsize=10];`)
	ln(1, `edge [fontname="monospace", fontsize=9];`)

	// The host side of the network.
	if p.Bridge != "" {
		ln(1, "bridge [label=%s, fillcolor=\"#fde2c4\"];", dotQ("bridge "+p.Bridge+"\n(host network namespace)"))
	}
	if p.Veth != "" {
		ln(1, "veth [label=%s, fillcolor=\"#fde2c4\"];", dotQ("veth "+p.Veth+"\n(host end of the veth pair)"))
	}

	ln(1, "subgraph cluster_pod {")
	podLabel := []string{"pod " + p.Namespace + "/" + p.Name + "  uid " + p.UID,
		"pod cgroup " + p.Cgroup + cgroupModeText(p.CgroupMode)}
	ln(2, "label=%s; style=filled; fillcolor=\"#f2f2f2\";", dotQ(strings.Join(podLabel, "\n")))

	ln(2, "subgraph cluster_podns {")
	shared := []string{"pod namespaces, held by the pause container"}
	for _, n := range p.Shared {
		line := nsLabel(n.Type) + " " + n.String()
		if n.Type == "net" && p.NetNSPin != "" {
			line += "  pinned at " + p.NetNSPin
		}
		if n.Type == "user" && p.UserMap != "" {
			line += "  hostUsers: false, " + p.UserMap
		}
		shared = append(shared, line)
	}
	ln(3, "label=%s; style=filled; fillcolor=\"#dbeafe\";", dotQ(strings.Join(shared, "\n")))
	if p.HostNetwork {
		ln(3, "eth0 [label=%s, fillcolor=\"#fde2c4\"];", dotQ("host network "+p.IP+"\n(hostNetwork: true: no eth0 of its own, no CNI)"))
	} else if p.IP != "" || p.MAC != "" {
		ln(3, "eth0 [label=%s, fillcolor=\"#fde2c4\"];", dotQ("eth0 "+p.IP+"\nMAC "+p.MAC))
	}
	for i, c := range p.All() {
		id := fmt.Sprintf("c%d", i)
		ln(3, "subgraph cluster_%s {", id)
		style := "filled"
		if c.Role == "init" {
			style = "dashed,filled"
		}
		ln(4, "label=%s; style=%q; fillcolor=white;", dotQ(containerTitle(c)), style)
		proc := []string{processLine(c)}
		if c.Image != "" {
			proc = append(proc, "image "+c.Image)
		}
		if c.Cgroup != "" {
			proc = append(proc, "cgroup "+c.Cgroup)
		}
		if len(c.Joined) > 0 {
			proc = append(proc, joinedText(c)+" "+strings.Join(c.Joined, " "))
		}
		if len(c.Host) > 0 {
			proc = append(proc, "host's: "+p.HostText(c.Host))
		}
		ln(4, "%s [label=%s];", id, dotQ(strings.Join(proc, "\n")))
		for _, n := range c.Own {
			ln(4, "%s_%s [label=%s, fillcolor=\"#fef3c7\"];", id, n.Type, dotQ("own "+nsLabel(n.Type)+" namespace\n"+n.String()))
		}
		ln(3, "}")
	}
	ln(2, "}")
	for i, v := range p.Volumes {
		label := []string{"volume " + v.Name, v.Kind}
		if v.HostPath != "" {
			label = append(label, "host dir "+v.HostPath)
		}
		ln(2, "v%d [shape=folder, label=%s, fillcolor=\"#dcfce7\"];", i, dotQ(strings.Join(label, "\n")))
	}
	ln(1, "}")

	if p.Veth != "" && p.Bridge != "" {
		ln(1, "veth -> bridge [dir=none, label=\"attached\"];")
	}
	if p.Veth != "" && (p.IP != "" || p.MAC != "") {
		ln(1, "eth0 -> veth [dir=none, label=\"veth pair\"];")
	}
	for i, v := range p.Volumes {
		for j, c := range p.All() {
			for _, m := range c.Mounts {
				if m.Volume != v.Name {
					continue
				}
				label := m.Path + " (" + m.Mode() + ")"
				if m.SubPath != "" {
					label += " subPath " + m.SubPath
				}
				ln(1, "v%d -> c%d [label=%s, lhead=cluster_c%d, color=\"#15803d\"];", i, j, dotQ("bind mount "+label), j)
			}
		}
	}
	ln(0, "}")
	_, err := io.WriteString(w, b.String())
	return err
}

// dotQ quotes a DOT string; \n in s becomes a left-justified line break.
func dotQ(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	s = strings.ReplaceAll(s, "\n", `\l`)
	if strings.Contains(s, `\l`) {
		s += `\l`
	}
	return `"` + s + `"`
}

func containerTitle(c Container) string {
	switch c.Role {
	case "sandbox":
		return c.Name + " (pause container)"
	case "init":
		return c.Name + " (init container)"
	case "ephemeral":
		if c.Target != "" {
			return c.Name + " (ephemeral container, --target " + c.Target + ")"
		}
		return c.Name + " (ephemeral container)"
	}
	return c.Name + " (container)"
}

func processLine(c Container) string {
	if c.PID == 0 {
		return c.Status
	}
	return fmt.Sprintf("pid %d  %s", c.PID, c.Status)
}

func joinedText(c Container) string {
	if c.Role == "sandbox" {
		return "holds the pod's:"
	}
	return "joins the pod's:"
}

func cgroupModeText(m string) string {
	if m == "" {
		return ""
	}
	return " (cgroup " + m + ")"
}
