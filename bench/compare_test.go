package bench

import (
	"bytes"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	var p, c Facts
	p.Set("POD", "namespaces", "net", "pause")
	c.Set("POD", "namespaces", "net", "pause")
	p.Set("c1", "namespaces", "net", "shared")
	c.Set("c1", "namespaces", "net", "shared")
	p.Set("c1", "namespaces", "pid", "own")
	c.Set("c1", "namespaces", "pid", "shared")
	p.Set("c1", "process", "env HOSTNAME", "(unset)")
	c.Set("c1", "process", "env HOSTNAME", "podtest")
	p.Set("c1", "security", "CapEff", "00000000a80425fb")
	c.Set("c1", "security", "CapEff", "00000000a80425fb")
	c.Set("c1", "process", "weird thing", "x")
	ds := Compare(&p, &c)
	s := SummarizeDiffs(ds)
	if s.Items != 6 || s.Equal != 3 || s.Different != 3 || s.Essential != 1 || s.Unexplained != 2 {
		t.Fatalf("summary %+v\n%+v", s, ds)
	}
	// Namespaces sort first within a row.
	if ds[1].Row != "c1" || ds[1].Area != "namespaces" {
		t.Fatalf("order: %+v", ds)
	}
	for _, d := range ds {
		switch d.Item {
		case "weird thing":
			if d.Podsim != "(absent)" || d.Equal {
				t.Fatalf("absent item: %+v", d)
			}
		case "env HOSTNAME":
			if d.Explanation == "" || d.Essential {
				t.Fatalf("HOSTNAME: %+v", d)
			}
		case "pid":
			if !d.Essential {
				t.Fatalf("pid sharing must be essential: %+v", d)
			}
		}
	}
	var b bytes.Buffer
	WriteCompare(&b, ds, false)
	out := b.String()
	for _, want := range []string{"≠ ESSENTIAL", "UNEXPLAINED", "6 items: 3 equal, 3 different (1 essential, 2 unexplained)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "CapEff") {
		t.Errorf("equal non-namespace items are hidden without --all:\n%s", out)
	}
}

func TestNSRelation(t *testing.T) {
	if NSRelation("1", "1", "9", true) != "pause" || NSRelation("1", "1", "9", false) != "shared" ||
		NSRelation("2", "1", "9", false) != "own" || NSRelation("9", "1", "9", false) != "host" || NSRelation("", "1", "9", false) != "-" {
		t.Fatal("relations")
	}
}
