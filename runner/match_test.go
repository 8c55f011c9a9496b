package runner

import (
	"strings"
	"testing"

	"github.com/wordish-go/wordish/parser"
)

func TestMatch(t *testing.T) {
	normWS := parser.Options{NormWS: true}
	regex := parser.Options{Regex: true}
	ignore := parser.Options{IgnoreOutput: true}
	tests := []struct {
		name     string
		expected string
		actual   string
		opts     parser.Options
		want     bool
	}{
		{"identical", "hello\nworld", "hello\nworld\n", parser.Options{}, true},
		{"different", "hello", "hallo\n", parser.Options{}, false},
		{"both empty", "", "", parser.Options{}, true},
		{"expected empty, output", "", "x\n", parser.Options{}, false},
		{"expected output, none", "x", "", parser.Options{}, false},
		{"blank output is empty", "", "\n  \n\t\n", parser.Options{}, true},
		{"trailing whitespace", "a  \nb\t", "a\nb   \n", parser.Options{}, true},
		{"leading and trailing blank lines", "\n\nx\n\n", "x", parser.Options{}, true},
		{"inner blank line counts", "a\n\nb", "a\nb", parser.Options{}, false},
		{"inner blank line kept", "a\n\nb", "a\n   \nb\n", parser.Options{}, true},
		{"tab in expected, blanks in output", "colour\tsize", "colour  size\n", parser.Options{}, true},
		{"tab stops count columns", "ab\tc", "ab  c\n", parser.Options{}, false},
		{"common indentation of expected", "    a\n      b", "a\n  b\n", parser.Options{}, true},
		{"common indentation of actual", "a\n  b", "\t\ta\n\t\t  b\n", parser.Options{}, true},
		{"relative indentation counts", "a\n  b", "a\nb\n", parser.Options{}, false},
		{"relative indentation counts 2", "  a\nb", "a\nb\n", parser.Options{}, false},
		{"tab and spaces differ", "\ta\n\t b", " a\n  b", parser.Options{}, true},
		{"inner whitespace counts", "a b", "a  b", parser.Options{}, false},
		{"case counts", "A", "a", parser.Options{}, false},
		{"prefix is not enough", "abc", "abcd", parser.Options{}, false},
		{"extra line", "a", "a\nb", parser.Options{}, false},

		{"ellipsis in line", "total ... kB", "total 1234 kB\n", parser.Options{}, true},
		{"ellipsis empty", "ab...cd", "abcd", parser.Options{}, true},
		{"ellipsis across lines", "start...end", "start\nmiddle\nend", parser.Options{}, true},
		{"ellipsis several", "a...b...c", "a1b2c", parser.Options{}, true},
		{"ellipsis order", "a...c...b", "a1b2c", parser.Options{}, false},
		{"ellipsis prefix anchored", "b...", "ab", parser.Options{}, false},
		{"ellipsis suffix anchored", "...a", "ab", parser.Options{}, false},
		{"ellipsis alone", "...", "anything\nat all\n", parser.Options{}, true},
		{"ellipsis alone, empty", "...", "", parser.Options{}, true},
		{"ellipsis line zero lines", "first\n...\nlast", "first\nlast", parser.Options{}, true},
		{"ellipsis line many lines", "first\n...\nlast", "first\n1\n2\n3\nlast\n", parser.Options{}, true},
		{"ellipsis line keeps line boundaries", "first\n...\nlast", "first\nxlast", parser.Options{}, false},
		{"ellipsis line keeps line start", "first\n...\nlast", "firstx\nlast", parser.Options{}, false},
		{"ellipsis line at start", "...\nlast", "a\nb\nlast", parser.Options{}, true},
		{"ellipsis line at start, partial line", "...\nlast", "a\nblast", parser.Options{}, false},
		{"ellipsis line at end", "first\n...", "first", parser.Options{}, true},
		{"ellipsis line at end, more", "first\n...", "first\nsecond\n", parser.Options{}, true},
		{"ellipsis line middle literal at line start", "a\n...\nb\n...\nc", "a\nxb\nb\nc", parser.Options{}, true},
		{"ellipsis line middle literal missing", "a\n...\nb\n...\nc", "a\nxb\nc", parser.Options{}, false},
		{"ellipsis overlapping prefix suffix", "aa...aa", "aaa", parser.Options{}, false},
		{"ellipsis prefix suffix exact", "aa...aa", "aaaa", parser.Options{}, true},
		{"ellipsis with indentation", "  a\n  ...\n  c", "a\nb\nc", parser.Options{}, true},
		{"ellipsis with trailing blanks", "a ...  \nc", "a b\nc", parser.Options{}, true},
		{"ellipsis dots literal", "wait...", "wait...", parser.Options{}, true},
		{"ellipsis consecutive lines", "a\n...\n...\nb", "a\nb", parser.Options{}, true},
		{"ellipsis needs the rest", "a...b", "a", parser.Options{}, false},

		{"norm-ws collapses", "a   b\n c", "a b c", normWS, true},
		{"norm-ws newlines", "a b c", "a\nb\n\tc\n", normWS, true},
		{"norm-ws still compares words", "a b", "a c", normWS, false},
		{"norm-ws needs a blank", "a b", "ab", normWS, false},
		{"norm-ws with ellipsis", "a ... d", "a b c d", normWS, true},
		{"norm-ws with empty ellipsis", "a ... d", "a d", normWS, true},

		{"regex whole line", `[0-9]+ files`, "12 files\n", regex, true},
		{"regex anchored", `[0-9]+`, "12 files\n", regex, false},
		{"regex anchored start", `files`, "12 files\n", regex, false},
		{"regex multiline one to one", "a.*\nb+", "abc\nbbb\n", regex, true},
		{"regex line count must agree", "a.*", "abc\nbbb\n", regex, false},
		{"regex line count must agree 2", "a.*\nb", "abc\n", regex, false},
		{"regex ellipsis line", "start\n...\nend [0-9]", "start\nx\ny\nend 5", regex, true},
		{"regex ellipsis line zero", "start\n...\nend [0-9]", "start\nend 5", regex, true},
		{"regex ellipsis lead", "...\nend", "x\nend", regex, true},
		{"regex ellipsis trail", "start\n...", "start\nx", regex, true},
		{"regex ellipsis middle", "a\n...\nb\n...\nc", "a\n1\nb\n2\nc", regex, true},
		{"regex ellipsis middle missing", "a\n...\nb\n...\nc", "a\n1\n2\nc", regex, false},
		{"regex indentation", "  x\\d", "x1", regex, true},
		{"regex bad", "a(", "a(", regex, false},
		{"regex empty", "", "", regex, true},
		{"regex empty vs output", "", "x", regex, false},

		{"ignore-output", "whatever", "something else", ignore, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Compile(tt.expected, tt.opts)
			if got := m.Match(tt.actual); got != tt.want {
				t.Errorf("Compile(%q).Match(%q) = %v, want %v", tt.expected, tt.actual, got, tt.want)
			}
		})
	}
}

func TestMatchRegexError(t *testing.T) {
	m := Compile("ok\nbad(", parser.Options{Regex: true})
	if m.Err() == nil || !strings.Contains(m.Err().Error(), "line 2") {
		t.Fatalf("Err() = %v, want an error naming line 2", m.Err())
	}
}

func TestNormLines(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"\n \n", nil},
		{"  a  \n\n    b\n\n", []string{"a", "", "  b"}},
		{"x", []string{"x"}},
	}
	for _, tt := range tests {
		got := NormLines(tt.in)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("NormLines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The exact path is taken for every ordinary step: it must not allocate.
func TestEqualNormNoAlloc(t *testing.T) {
	m := Compile("  line one\n  line two", parser.Options{})
	actual := "line one  \nline two\n"
	allocs := testing.AllocsPerRun(100, func() {
		if !m.Match(actual) {
			t.Fatal("no match")
		}
	})
	if allocs != 0 {
		t.Errorf("exact match allocates %v times per call", allocs)
	}
}

// A pathological pattern against a large output must stay linear: with a
// backtracking matcher this takes exponential or quadratic time.
func TestEllipsisLinear(t *testing.T) {
	actual := strings.Repeat("a", 1<<20) + "\n"
	expected := strings.Repeat("a...", 30) + "b"
	m := Compile(expected, parser.Options{})
	if m.Match(actual) {
		t.Fatal("matched")
	}
	lines := strings.Repeat("x\n", 200000)
	m = Compile("...\nx\n...\ny", parser.Options{})
	if m.Match(lines) {
		t.Fatal("matched")
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("a...b", "a\nxb\n")
	f.Add("a\n...\nb", "a\nb")
	f.Add("...", "")
	f.Fuzz(func(t *testing.T, expected, actual string) {
		for _, o := range []parser.Options{{}, {NormWS: true}, {Regex: true}} {
			Compile(expected, o).Match(actual)
		}
		// Without wildcards, the matcher agrees with comparing NormLines.
		if !strings.Contains(expected, "...") {
			want := strings.Join(NormLines(expected), "\n") == strings.Join(NormLines(actual), "\n")
			if got := Compile(expected, parser.Options{}).Match(actual); got != want {
				t.Errorf("Match(%q, %q) = %v, NormLines say %v", expected, actual, got, want)
			}
		}
	})
}
