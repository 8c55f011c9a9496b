package parser

import (
	"fmt"
	"strings"
	"testing"
)

// nestCase is a Markdown document that nests lists or quotes; line is
// the line the error names, 0 when it parses.
type nestCase struct {
	name string
	src  string
	line int
}

var nestCases = []nestCase{
	{"lists on one line at the bound", strings.Repeat("- ", maxNesting) + "x\n", 0},
	{"lists on one line past the bound", "text\n\n" + strings.Repeat("- ", maxNesting+1) + "x\n", 3},
	{"quotes on one line past the bound", strings.Repeat("> ", maxNesting+1) + "x\n", 1},
	{"quotes and lists past the bound", strings.Repeat("> 1. ", maxNesting/2+1) + "x\n", 1},
	{"lists over lines past the bound", indentedList(maxNesting+1) + "- back\n", maxNesting + 1},
	{"lists over lines at the bound", indentedList(maxNesting), 0},
	// Items closed by a marker further left do not add up.
	{"many shallow lists", strings.Repeat(indentedList(maxNesting/2), 4), 0},
	{"thematic break of many stars", strings.Repeat("* ", 3*maxNesting) + "\n", 0},
	{"thematic break of many hyphens", strings.Repeat("- ", 3*maxNesting) + "\n", 0},
	{"list item holding a long thematic break", "- " + strings.Repeat("* ", 3*maxNesting) + "\n", 0},
	{"hyphens in text", "a " + strings.Repeat("- ", 3*maxNesting) + "x\n", 0},
}

// indentedList is n list items, each nested in the one before.
func indentedList(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat("  ", i) + "- a\n")
	}
	return b.String()
}

func TestNesting(t *testing.T) {
	for _, c := range nestCases {
		t.Run(c.name, func(t *testing.T) {
			src := c.src + "\n```console\n$ echo ok\nok\n```\n"
			doc, err := Parse("deep.md", []byte(src), Config{})
			if c.line == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if len(doc.Steps()) != 1 {
					t.Fatalf("%d steps, want 1", len(doc.Steps()))
				}
				return
			}
			want := &Error{File: "deep.md", Line: c.line, Msg: fmt.Sprintf("lists or block quotes nested deeper than %d levels", maxNesting)}
			if e, ok := err.(*Error); !ok || *e != *want {
				t.Fatalf("error %v, want %v", err, want)
			}
		})
	}
}

// BenchmarkNested parses 1 MB of lists and quotes nested as deeply as
// allowed, and 1 MB nested far deeper, which is refused (goldmark takes
// time in depth times length: 200 KB of "- " on one line took 48 s). At
// the bound the time is goldmark's for as many nodes: compare flat-list.
func BenchmarkNested(b *testing.B) {
	fill := func(unit string) []byte { return []byte(strings.Repeat(unit, 1<<20/len(unit))) }
	for _, c := range []struct {
		name string
		src  []byte
		ok   bool
	}{
		// What goldmark takes for as many list items, unnested.
		{"flat-list", fill("- x\n- y\n"), true},
		{"lists", fill(strings.Repeat("- ", maxNesting) + "x\n"), true},
		{"quotes", fill(strings.Repeat("> ", maxNesting) + "x\n"), true},
		{"indented", []byte(indentedList(maxNesting) + string(fill(strings.Repeat(" ", 2*maxNesting)+"y\n"))), true},
		{"lists-1MB-line", []byte(strings.Repeat("- ", 1<<19) + "x\n"), false},
		{"quotes-1MB-line", []byte(strings.Repeat("> ", 1<<19) + "x\n"), false},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.src)))
			cpu := cpuTime()
			for range b.N {
				if _, err := Parse("deep.md", c.src, Config{}); (err == nil) != c.ok {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}
