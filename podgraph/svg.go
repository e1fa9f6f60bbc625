package podgraph

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strings"
)

// The SVG is laid out by podsim itself on a fixed grid: every text is
// monospace, so a line's width is its length times charW, and boxes are
// sized from their text. Nothing depends on a font being installed except
// the exact look; nothing depends on map order, so one pod gives one file.
const (
	fontSize  = 12
	charW     = 7.3 // width of one monospace character at fontSize
	lineH     = 16
	pad       = 10
	gap       = 14
	nsBoxH    = 38 // an own-namespace box: two lines
	minCtrW   = 210
	font      = "DejaVu Sans Mono, Menlo, Consolas, monospace"
	colPod    = "#f3f4f6"
	colPodNS  = "#dbeafe"
	colOwnNS  = "#fef3c7"
	colVolume = "#dcfce7"
	colNet    = "#fde2c4"
	colHost   = "#ffffff"
	colStroke = "#374151"
)

// edge colours, one per volume
var volColors = []string{"#15803d", "#7c3aed", "#0e7490", "#b45309", "#be185d", "#4d7c0f"}

type box struct{ x, y, w, h float64 }

func (b box) right() float64  { return b.x + b.w }
func (b box) bottom() float64 { return b.y + b.h }
func (b box) cx() float64     { return b.x + b.w/2 }

// line is one line of text in a box.
type line struct {
	text  string
	bold  bool
	color string
	tip   string // a <title> (tooltip), e.g. a path shortened in the text
}

func textW(s string) float64 { return float64(len([]rune(s))) * charW }

func linesW(ls []line) float64 {
	w := 0.0
	for _, l := range ls {
		if t := textW(l.text); t > w {
			w = t
		}
	}
	return w
}

type svgWriter struct{ b bytes.Buffer }

func (s *svgWriter) printf(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

func esc(t string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(t))
	return b.String()
}

func (s *svgWriter) rect(b box, fill, stroke string, dashed bool, class, tip string) {
	dash := ""
	if dashed {
		dash = ` stroke-dasharray="6 4"`
	}
	s.printf(`<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="6" fill="%s" stroke="%s" stroke-width="1.2"%s>`, class, b.x, b.y, b.w, b.h, fill, stroke, dash)
	if tip != "" {
		s.printf(`<title>%s</title>`, esc(tip))
	}
	s.printf("</rect>\n")
}

func (s *svgWriter) text(x, y float64, l line) {
	attrs := ""
	if l.bold {
		attrs += ` font-weight="bold"`
	}
	if l.color != "" {
		attrs += fmt.Sprintf(` fill="%s"`, l.color)
	}
	s.printf(`<text x="%.1f" y="%.1f"%s>%s`, x, y, attrs, esc(l.text))
	if l.tip != "" {
		s.printf(`<title>%s</title>`, esc(l.tip))
	}
	s.printf("</text>\n")
}

// lines writes ls from the top-left corner (x, y) and returns the y below.
func (s *svgWriter) lines(x, y float64, ls []line) float64 {
	for _, l := range ls {
		y += lineH
		s.text(x, y-4, l)
	}
	return y
}

// ctrLayout is a container box and what goes in it.
type ctrLayout struct {
	c      Container
	head   []line
	own    []NS
	tail   []line
	b      box
	mountX map[string]float64 // volume name -> x where its edge leaves the box
}

func newCtrLayout(p *Pod, c Container) *ctrLayout {
	l := &ctrLayout{c: c, own: c.Own}
	l.head = []line{{text: containerTitle(c), bold: true}, {text: processLine(c)}}
	if c.Image != "" {
		l.head = append(l.head, line{text: "image " + c.Image})
	}
	if c.Cgroup != "" {
		l.head = append(l.head, line{text: "cgroup …/" + path.Base(c.Cgroup), tip: "cgroup " + c.Cgroup})
	}
	if len(c.Joined) > 0 {
		l.tail = append(l.tail, line{text: joinedText(c) + " " + strings.Join(c.Joined, " "), color: "#1d4ed8"})
	}
	if len(c.Host) > 0 {
		l.tail = append(l.tail, line{text: "host's (not isolated): " + p.HostText(c.Host), color: "#6b7280"})
	}
	for _, m := range c.Mounts {
		t := fmt.Sprintf("mount %s <- %s (%s)", m.Path, m.Volume, m.Mode())
		if m.SubPath != "" {
			t += " subPath " + m.SubPath
		}
		l.tail = append(l.tail, line{text: t, color: "#166534"})
	}
	if c.Role == "init" && len(c.Own) == 0 && c.PID == 0 {
		l.tail = append(l.tail, line{text: "ran to completion before the", color: "#6b7280"},
			line{text: "app containers started", color: "#6b7280"})
	}
	w := linesW(l.head)
	if t := linesW(l.tail); t > w {
		w = t
	}
	for _, n := range l.own {
		if t := textW("own "+nsLabel(n.Type)+" namespace") + 2*pad; t > w {
			w = t
		}
		if t := textW(n.String()) + 2*pad; t > w {
			w = t
		}
	}
	l.b.w = w + 2*pad
	if l.b.w < minCtrW {
		l.b.w = minCtrW
	}
	l.b.h = pad + float64(len(l.head)+len(l.tail))*lineH + float64(len(l.own))*(nsBoxH+6) + 2*pad
	return l
}

func (l *ctrLayout) draw(s *svgWriter) {
	c := l.c
	fill := "#ffffff"
	if c.Role == "sandbox" {
		fill = "#eef2ff"
	}
	tip := c.Name
	if c.Cgroup != "" {
		tip += " cgroup " + c.Cgroup
	}
	s.rect(l.b, fill, colStroke, c.Role == "init", "container", tip)
	y := s.lines(l.b.x+pad, l.b.y+pad/2, l.head) + 6
	for _, n := range l.own {
		nb := box{l.b.x + pad, y, l.b.w - 2*pad, nsBoxH}
		s.rect(nb, colOwnNS, "#b45309", false, "ns-own", "")
		s.lines(nb.x+pad/2, nb.y+2, []line{{text: "own " + nsLabel(n.Type) + " namespace", color: "#92400e"}, {text: n.String(), bold: true}})
		y += nsBoxH + 6
	}
	s.lines(l.b.x+pad, y, l.tail)
}

// SVG writes the pod as nested boxes: the host with the bridge and the veth,
// the pod cgroup, inside it the pod's namespaces (held by the pause
// container) with eth0, inside those each container with its own mount and
// PID namespaces, and below, the volumes with an edge to every container
// that mounts them.
func SVG(w io.Writer, p *Pod) error {
	const margin = 16.0

	// Containers, bottom-up: their sizes decide the rest.
	var ctrs []*ctrLayout
	for _, c := range p.All() {
		ctrs = append(ctrs, newCtrLayout(p, c))
	}
	rowW, rowH := 0.0, 0.0
	for i, c := range ctrs {
		if i > 0 {
			rowW += gap
		}
		rowW += c.b.w
		if c.b.h > rowH {
			rowH = c.b.h
		}
	}
	for _, c := range ctrs {
		c.b.h = rowH
	}

	// The pod's namespaces box: its header on the left, eth0 on the right.
	nsHead := []line{{text: "pod namespaces, held by the pause container", bold: true},
		{text: "every container joins them (CRI NamespaceOption POD)", color: "#1e3a8a"}}
	for _, n := range p.Shared {
		t := n.String() + "  " + nsLabel(n.Type)
		switch n.Type {
		case "net":
			if p.NetNSPin != "" {
				t += ", pinned at " + p.NetNSPin
			}
		case "uts":
			t = n.String() + "  UTS: hostname " + p.Name
		case "pid":
			t += " (shareProcessNamespace)"
		case "user":
			if p.UserMap != "" {
				t += " (hostUsers: false): " + p.UserMap
			}
		}
		nsHead = append(nsHead, line{text: t})
	}
	eth := []line{{text: "eth0  " + orDash(p.IP), bold: true}, {text: "MAC " + orDash(p.MAC)}}
	if p.HostNetwork {
		eth = []line{{text: "host network  " + orDash(p.IP), bold: true}, {text: "hostNetwork: true: the node's interfaces, no CNI"}}
	}
	ethB := box{w: linesW(eth) + 2*pad, h: float64(len(eth))*lineH + pad}
	podHead := []line{{text: "pod " + p.Namespace + "/" + p.Name, bold: true},
		{text: "uid " + p.UID, color: "#4b5563"},
		{text: "pod cgroup " + p.Cgroup + cgroupModeText(p.CgroupMode), color: "#4b5563"},
		{text: "parent of every container's cgroup", color: "#4b5563"}}

	nsW := rowW + 2*pad
	nsW = maxf(nsW, linesW(nsHead)+3*pad+ethB.w)
	// The veth line drops into eth0 through the pod header: keep it clear of the text.
	nsW = maxf(nsW, linesW(podHead)+ethB.w/2+2*pad+16)
	nsHeadH := maxf(float64(len(nsHead))*lineH, ethB.h) + pad
	nsB := box{w: nsW, h: pad + nsHeadH + rowH + pad}

	// Volumes.
	type volLayout struct {
		v     Volume
		lines []line
		b     box
		color string
		uses  []Use
	}
	var vols []*volLayout
	volRowW, volRowH, nEdges := 0.0, 0.0, 0
	for i, v := range p.Volumes {
		vl := &volLayout{v: v, color: volColors[i%len(volColors)], uses: p.MountsOf(v.Name)}
		vl.lines = []line{{text: "volume " + v.Name, bold: true, color: vl.color}, {text: v.Kind}}
		if v.HostPath != "" {
			vl.lines = append(vl.lines, line{text: "host directory:"})
			for _, part := range wrapPath(v.HostPath, 56) {
				vl.lines = append(vl.lines, line{text: "  " + part, color: "#4b5563", tip: v.HostPath})
			}
		}
		if len(vl.uses) == 0 {
			vl.lines = append(vl.lines, line{text: "(mounted by no container)", color: "#6b7280"})
		}
		for _, u := range vl.uses {
			vl.lines = append(vl.lines, line{text: fmt.Sprintf("bind-mounted in %s at %s (%s)", u.Container, u.Mount.Path, u.Mount.Mode())})
		}
		vl.b.w = maxf(linesW(vl.lines)+2*pad, 180)
		vl.b.h = float64(len(vl.lines))*lineH + pad + 4
		if len(vols) > 0 {
			volRowW += gap
		}
		volRowW += vl.b.w
		volRowH = maxf(volRowH, vl.b.h)
		nEdges += len(vl.uses)
		vols = append(vols, vl)
	}
	volHead := []line{{text: "volumes: directories on the host, bind-mounted into each container's own mount namespace", color: "#166534"}}
	laneGap := 7.0
	edgeZone := 0.0
	if len(vols) > 0 {
		edgeZone = 18 + float64(nEdges)*laneGap
	}

	// Horizontal positions that do not depend on the widths still unknown.
	hostB := box{x: margin, y: margin + 28}
	podB := box{x: hostB.x + pad}
	nsB.x = podB.x + pad
	x := nsB.x + pad
	for _, c := range ctrs {
		c.b.x = x
		x += c.b.w + gap
	}
	// Each volume sits under the containers that mount it (left to right,
	// never overlapping), so its edges are short.
	byName := map[string]*ctrLayout{}
	for _, c := range ctrs {
		byName[c.c.Name] = c
	}
	next := podB.x + pad
	for _, v := range vols {
		want := next
		if len(v.uses) > 0 {
			sum := 0.0
			for _, u := range v.uses {
				if c := byName[u.Container]; c != nil {
					sum += c.b.cx()
				}
			}
			want = sum/float64(len(v.uses)) - v.b.w/2
		}
		v.b.x = maxf(want, next)
		next = v.b.right() + gap
	}
	volRowW = next - gap - podB.x - pad

	podW := maxf(nsB.w, volRowW) + 2*pad
	podW = maxf(podW, linesW(podHead)+2*pad)
	if len(vols) > 0 {
		podW = maxf(podW, linesW(volHead)+2*pad)
	}
	podH := pad + float64(len(podHead))*lineH + pad + nsB.h
	if len(vols) > 0 {
		podH += edgeZone + volRowH + 4 + float64(len(volHead))*lineH
	}
	podH += pad
	podB.w, podB.h = podW, podH

	// Host box: header, the veth and bridge row, the pod, the legend.
	var hostNS []string
	for _, n := range p.Host {
		hostNS = append(hostNS, n.String())
	}
	hostHead := []line{{text: "host (the node): the root namespaces, where podsim, containerd and runc run", bold: true}}
	for _, part := range wrapWords(strings.Join(hostNS, " "), 96) {
		hostHead = append(hostHead, line{text: part, color: "#4b5563"})
	}
	vethL := []line{{text: "veth " + orDash(p.Veth), bold: true}, {text: "host end of the pod's veth pair"}}
	if p.HostNetwork {
		vethL[1].text = "none: hostNetwork: true"
	}
	brL := []line{{text: "bridge " + orDash(p.Bridge), bold: true}, {text: "connects the pods' veths"}}
	vethB := box{w: linesW(vethL) + 2*pad, h: float64(len(vethL))*lineH + pad}
	brB := box{w: linesW(brL) + 2*pad, h: vethB.h}

	ethB.x = nsB.right() - pad - ethB.w
	vethB.x = ethB.cx() - vethB.w/2
	brB.x = vethB.right() + 60
	hostW := maxf(podB.w+2*pad, brB.right()+pad-hostB.x)
	hostW = maxf(hostW, linesW(hostHead)+2*pad)
	hostB.w = hostW

	y := hostB.y + pad/2 + float64(len(hostHead))*lineH + 8
	vethB.y, brB.y = y, y
	podB.y = vethB.bottom() + 28
	y = podB.y + pad + float64(len(podHead))*lineH + pad
	nsB.y = y
	ethB.y = nsB.y + pad
	rowY := nsB.y + pad + nsHeadH
	for _, c := range ctrs {
		c.b.y = rowY
	}
	volY := nsB.bottom() + edgeZone
	for _, v := range vols {
		v.b.y = volY
	}
	volHeadY := volY + volRowH + 4
	legendY := podB.bottom() + 14
	hostB.h = legendY + 24 - hostB.y
	totalW := hostB.right() + margin
	totalH := hostB.bottom() + margin

	s := &svgWriter{}
	s.printf(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	s.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="%s" font-size="%d">`+"\n",
		totalW, totalH, totalW, totalH, font, fontSize)
	s.printf("<title>%s</title>\n", esc("pod "+p.Namespace+"/"+p.Name+", drawn by podsim from the kernel's view"))
	s.printf("<desc>%s</desc>\n", esc("Nested boxes: host > pod cgroup > pod namespaces (net, ipc, uts, held by the pause container) > containers with their own mount and PID namespaces; volumes with edges to the containers that mount them; eth0, veth and bridge."))
	s.printf(`<rect x="0" y="0" width="%.0f" height="%.0f" fill="#ffffff"/>`+"\n", totalW, totalH)
	s.text(margin, margin+12, line{text: "pod " + p.Namespace + "/" + p.Name + ": what the kernel holds (podsim inspect " + p.Name + " -o svg)", bold: true})

	s.rect(hostB, colHost, "#9ca3af", true, "host", "")
	s.lines(hostB.x+pad, hostB.y+pad/2, hostHead)

	s.rect(podB, colPod, colStroke, false, "pod-cgroup", "pod cgroup "+p.Cgroup)
	s.lines(podB.x+pad, podB.y+pad/2, podHead)

	s.rect(nsB, colPodNS, "#1d4ed8", false, "pod-namespaces", "")
	s.lines(nsB.x+pad, nsB.y+pad/2, nsHead)
	for _, c := range ctrs {
		c.draw(s)
	}

	// Network: eth0 in the pod's netns, the veth pair, the bridge.
	s.rect(vethB, colNet, "#c2410c", false, "veth", "")
	s.lines(vethB.x+pad, vethB.y+pad/2-2, vethL)
	s.rect(brB, colNet, "#c2410c", false, "bridge", "")
	s.lines(brB.x+pad, brB.y+pad/2-2, brL)
	s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#c2410c" stroke-width="2"/>`+"\n", vethB.right(), vethB.y+vethB.h/2, brB.x, brB.y+brB.h/2)
	s.text(vethB.right()+6, vethB.y+vethB.h/2-5, line{text: "on", color: "#c2410c"})
	s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#c2410c" stroke-width="2"><title>veth pair</title></line>`+"\n", ethB.cx(), vethB.bottom(), ethB.cx(), ethB.y)
	s.rect(ethB, colNet, "#c2410c", false, "eth0", "")
	s.lines(ethB.x+pad, ethB.y+pad/2-2, eth)
	s.text(ethB.cx()+6, vethB.bottom()+14, line{text: "veth pair", color: "#c2410c"})

	// Volumes and their edges: one lane per edge so lines never overlap.
	if len(vols) > 0 {
		s.lines(podB.x+pad, volHeadY, volHead)
	}
	// Spread the edges' ends along the containers' and volumes' bottoms/tops.
	ctrSlots := map[string][]string{} // container -> volume names in edge order
	for _, v := range vols {
		for _, u := range v.uses {
			ctrSlots[u.Container] = append(ctrSlots[u.Container], v.v.Name+"\x00"+u.Mount.Path)
		}
	}
	lane := 0
	for _, v := range vols {
		s.rect(v.b, colVolume, v.color, false, "volume", "")
		s.lines(v.b.x+pad, v.b.y+2, v.lines)
		for k, u := range v.uses {
			c := byName[u.Container]
			if c == nil {
				continue
			}
			slots := ctrSlots[u.Container]
			idx := 0
			for i, sl := range slots {
				if sl == v.v.Name+"\x00"+u.Mount.Path {
					idx = i
				}
			}
			x1 := c.b.x + c.b.w*float64(idx+1)/float64(len(slots)+1)
			x2 := v.b.x + v.b.w*float64(k+1)/float64(len(v.uses)+1)
			ly := nsB.bottom() + 10 + float64(lane)*laneGap
			lane++
			s.printf(`<polyline points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="none" stroke="%s" stroke-width="2"><title>%s</title></polyline>`+"\n",
				x1, c.b.bottom(), x1, ly, x2, ly, x2, v.b.y, v.color, esc(fmt.Sprintf("volume %s bind-mounted at %s:%s (%s)", v.v.Name, u.Container, u.Mount.Path, u.Mount.Mode())))
			s.printf(`<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", x1, c.b.bottom(), v.color)
		}
	}

	// Legend.
	lx := hostB.x + pad
	for _, it := range []struct{ fill, stroke, text string }{
		{colPod, colStroke, "pod cgroup"},
		{colPodNS, "#1d4ed8", "pod namespace (same inode in every container)"},
		{colOwnNS, "#b45309", "a container's own namespace"},
		{colVolume, "#15803d", "volume"},
		{colNet, "#c2410c", "network"},
	} {
		s.printf(`<rect x="%.1f" y="%.1f" width="14" height="14" rx="3" fill="%s" stroke="%s"/>`+"\n", lx, legendY, it.fill, it.stroke)
		s.text(lx+20, legendY+11, line{text: it.text})
		lx += 20 + textW(it.text) + 18
	}
	s.printf("</svg>\n")
	_, err := w.Write(s.b.Bytes())
	return err
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// wrapPath splits a long path at slashes into lines of at most max runes
// (a single longer element stays whole).
func wrapPath(p string, max int) []string {
	if len(p) <= max {
		return []string{p}
	}
	var out []string
	cur := ""
	for i, part := range strings.Split(p, "/") {
		if i > 0 {
			part = "/" + part
		}
		if cur != "" && len(cur)+len(part) > max {
			out = append(out, cur)
			cur = ""
		}
		cur += part
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// wrapWords splits text at spaces into lines of at most max runes.
func wrapWords(t string, max int) []string {
	var out []string
	cur := ""
	for _, w := range strings.Fields(t) {
		if cur != "" && len(cur)+1+len(w) > max {
			out = append(out, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}
