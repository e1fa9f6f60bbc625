package bench

import (
	"bytes"
	"os"
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
	p.Set("c1", "process", "file /etc/hosts", "# podsim")
	c.Set("c1", "process", "file /etc/hosts", "# kubelet")
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
		case "file /etc/hosts":
			if d.Explanation == "" || d.Essential {
				t.Fatalf("hosts file: %+v", d)
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

// TestFidelityDocExplainsEveryDifference: docs/fidelity.md is where the
// differences podsim keeps on purpose are explained (issue: compare), so
// every explained item must have its row there, and no row may name an
// item the code no longer explains.
func TestFidelityDocExplainsEveryDifference(t *testing.T) {
	doc, err := os.ReadFile("../docs/fidelity.md")
	if err != nil {
		t.Fatal(err)
	}
	_, kept, ok := strings.Cut(string(doc), "## The differences podsim keeps on purpose")
	if !ok {
		t.Fatal("docs/fidelity.md lacks its section \"The differences podsim keeps on purpose\"")
	}
	kept, _, _ = strings.Cut(kept, "\n## ")
	rows := map[string]bool{}
	for _, l := range strings.Split(kept, "\n") {
		if strings.HasPrefix(l, "| `") {
			item, _, _ := strings.Cut(strings.TrimPrefix(l, "| `"), "`")
			rows[item] = true
		}
	}
	for _, e := range Explanations {
		if !rows[e.Prefix] {
			t.Errorf("docs/fidelity.md has no row for %q (a difference podsim keeps)", e.Prefix)
		}
		delete(rows, e.Prefix)
	}
	for item := range rows {
		t.Errorf("docs/fidelity.md explains %q, which bench.Explanations does not: remove the row or add the explanation", item)
	}
}
