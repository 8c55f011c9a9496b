package wordish

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/wordish-go/wordish/parser"
)

func TestSplitFileLines(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile("odd:7", nil, 0o644) // a file whose name looks like FILE:LINE
	tests := []struct {
		arg   string
		file  string
		lines []int
	}{
		{"a.md", "a.md", nil},
		{"a.md:42", "a.md", []int{42}},
		{"a.md:4,2,9", "a.md", []int{4, 2, 9}},
		{"dir/a b.md:3", "dir/a b.md", []int{3}},
		{"a.md:0", "a.md:0", nil},
		{"a.md:", "a.md:", nil},
		{"a.md:x", "a.md:x", nil},
		{":5", ":5", nil},
		{"odd:7", "odd:7", nil},
	}
	for _, tt := range tests {
		file, lines := splitFileLines(tt.arg)
		if file != tt.file || !reflect.DeepEqual(lines, tt.lines) {
			t.Errorf("splitFileLines(%q) = %q, %v; want %q, %v", tt.arg, file, lines, tt.file, tt.lines)
		}
	}
}

func TestStepAt(t *testing.T) {
	src := "# T\n\n```console\n$ echo one\none\n$ for i in 1; do\n>   echo $i\n> done\n1\n```\n\nProse.\n\n```console\n$ true\n```\n"
	doc, err := parser.Parse("t.md", []byte(src), parser.Config{})
	if err != nil {
		t.Fatal(err)
	}
	steps := doc.Steps()
	want := map[int]int{ // line -> index of the step, -1 for none
		1: -1, 3: -1, 4: 0, 5: 0, 6: 1, 7: 1, 8: 1, 9: 1, 10: -1, 12: -1, 15: 2, 16: -1, 100: -1,
	}
	for line, i := range want {
		got := stepAt(steps, line)
		if i < 0 && got != nil || i >= 0 && got != steps[i] {
			t.Errorf("stepAt(%d) = %v, want step %d", line, got, i)
		}
	}
}

func TestExpandArgs(t *testing.T) {
	t.Chdir("fixtures")
	paths := func(ts []*target) []string {
		var out []string
		for _, t := range ts {
			s := t.path
			if t.err != nil {
				s += " ERR"
			} else if !t.whole {
				var lines []string
				for _, n := range t.lines {
					lines = append(lines, strconv.Itoa(n))
				}
				s += ":" + strings.Join(lines, ",")
			}
			out = append(out, s)
		}
		return out
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"tree"}, []string{"tree/a.md", "tree/b.rst", "tree/sub/c.html", "tree/sub/deep/d.md", "tree/sub/e.markdown"}},
		{[]string{"tree/sub/**/*.md", "tree/*.md"}, []string{"tree/sub/deep/d.md", "tree/a.md"}},
		{[]string{"pass.md:10", "pass.md:18"}, []string{"pass.md:10,18"}},
		{[]string{"pass.md:10", "pass.md"}, []string{"pass.md"}}, // named whole too
		{[]string{"tree/a.md", "tree"}, []string{"tree/a.md", "tree/b.rst", "tree/sub/c.html", "tree/sub/deep/d.md", "tree/sub/e.markdown"}},
		{[]string{"tree/**/*.nope", "tree/vendor"}, []string{"tree/**/*.nope ERR", "tree/vendor/lib/v.md"}}, // named: searched
		{[]string{"tree/[.md"}, []string{"tree/[.md ERR"}},
	}
	for _, tt := range tests {
		if got := paths(expandArgs(tt.args)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("expandArgs(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}
