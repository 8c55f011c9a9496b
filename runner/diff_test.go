package runner

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

func TestUnifiedDiff(t *testing.T) {
	lines := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
	tests := []struct {
		name     string
		exp, act string
		want     string
	}{
		{"equal", "a\nb", "a\nb", ""},
		{"one changed", "a\nb\nc", "a\nB\nc", "--- expected\n+++ actual\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"only line", "hallo", "hello", "--- expected\n+++ actual\n@@ -1 +1 @@\n-hallo\n+hello\n"},
		{"expected empty", "", "x\ny", "--- expected\n+++ actual\n@@ -0,0 +1,2 @@\n+x\n+y\n"},
		{"actual empty", "x\ny", "", "--- expected\n+++ actual\n@@ -1,2 +0,0 @@\n-x\n-y\n"},
		{"insertion", "a\nc", "a\nb\nc", "--- expected\n+++ actual\n@@ -1,2 +1,3 @@\n a\n+b\n c\n"},
		{"two hunks",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12",
			"1\nX\n3\n4\n5\n6\n7\n8\n9\n10\nY\n12",
			"--- expected\n+++ actual\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n@@ -8,5 +8,5 @@\n 8\n 9\n 10\n-11\n+Y\n 12\n"},
		{"close changes share a hunk",
			"1\n2\n3\n4\n5\n6\n7\n8",
			"1\nX\n3\n4\n5\n6\nY\n8",
			"--- expected\n+++ actual\n@@ -1,8 +1,8 @@\n 1\n-2\n+X\n 3\n 4\n 5\n 6\n-7\n+Y\n 8\n"},
		{"invisible", "a\tb", "a b ", "--- expected\n+++ actual\n@@ -1 +1 @@\n-a→b\n+a b·\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UnifiedDiff(lines(tt.exp), lines(tt.act), nil); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// Applying the edit script to the expected lines must give the actual
// lines, and the script must be minimal compared with an LCS table.
func TestLineDiffRandom(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for iter := 0; iter < 2000; iter++ {
		a := randLines(r)
		b := randLines(r)
		ops := lineDiff(len(a), len(b), func(i, j int) bool { return a[i] == b[j] })
		var got []string
		edits := 0
		ai, bi := 0, 0
		for _, op := range ops {
			switch op.kind {
			case ' ':
				if op.a != ai || op.b != bi || a[op.a] != b[op.b] {
					t.Fatalf("%q -> %q: bad context op %+v", a, b, op)
				}
				got = append(got, a[op.a])
				ai++
				bi++
			case '-':
				if op.a != ai {
					t.Fatalf("%q -> %q: bad delete %+v", a, b, op)
				}
				ai++
				edits++
			case '+':
				got = append(got, b[op.b])
				bi++
				edits++
			}
		}
		if ai != len(a) || fmt.Sprint(got) != fmt.Sprint(b) {
			t.Fatalf("%q -> %q: script gives %q", a, b, got)
		}
		if want := len(a) + len(b) - 2*lcs(a, b); edits != want {
			t.Fatalf("%q -> %q: %d edits, minimum %d", a, b, edits, want)
		}
	}
}

func randLines(r *rand.Rand) []string {
	n := r.Intn(9)
	out := make([]string, n)
	for i := range out {
		out[i] = string(rune('a' + r.Intn(3)))
	}
	return out
}

func lcs(a, b []string) int {
	t := make([][]int, len(a)+1)
	for i := range t {
		t[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				t[i][j] = t[i+1][j+1] + 1
			} else {
				t[i][j] = max(t[i+1][j], t[i][j+1])
			}
		}
	}
	return t[0][0]
}

func TestLineDiffHuge(t *testing.T) {
	// Past maxEdits the middle becomes one replaced block, quickly.
	a := make([]string, 5000)
	b := make([]string, 5000)
	for i := range a {
		a[i] = fmt.Sprint("a", i)
		b[i] = fmt.Sprint("b", i)
	}
	d := UnifiedDiff(a, b, nil)
	if !strings.HasPrefix(d, "--- expected\n+++ actual\n@@ -1,5000 +1,5000 @@\n-a0\n") {
		t.Fatalf("unexpected diff head %q", d[:60])
	}
}

func TestUnifiedDiffWild(t *testing.T) {
	tests := []struct {
		name     string
		exp, act string
		want     string
	}{
		{"wildcard fits", "a\n...\nd", "a\nb\nc\nd", ""},
		{"wildcard absorbs, last line differs", "first\n...\nfourth", "first\nsecond\nthird",
			"--- expected\n+++ actual\n@@ -2,2 +2,2 @@\n ...\n~second\n~third\n-fourth\n"},
		{"wildcard absorbs as little as it can", "first\n...\nlast", "first\na\nlast\nx",
			"--- expected\n+++ actual\n@@ -2,2 +2,3 @@\n ...\n~a\n last\n+x\n"},
		{"empty wildcard", "a\n...\nb", "a\nc",
			"--- expected\n+++ actual\n@@ -1,3 +1,2 @@\n a\n ...\n~c\n-b\n"},
	}
	wild := func(lines []string) func(int) bool {
		return func(i int) bool { return lines[i] == "..." }
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, a := strings.Split(tt.exp, "\n"), strings.Split(tt.act, "\n")
			if got := unifiedDiffWild(e, a, nil, wild(e)); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestVisible(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"", ""},
		{"tab\there", "tab→here"},
		{"trailing  ", "trailing··"},
		{"in ner", "in ner"},
		{"cr\r", "cr␍"},
		{"nul\x00", `nul\x00`},
		{"bell\a del\x7f", `bell\x07 del\x7f`},
		{"bad \xff utf8", `bad \xff utf8`},
		{"nbsp\u00a0zw\u200b", `nbsp\u{00a0}zw\u{200b}`},
		{"unicode ✓ é", "unicode ✓ é"},
	}
	for _, tt := range tests {
		if got := Visible(tt.in); got != tt.want {
			t.Errorf("Visible(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
