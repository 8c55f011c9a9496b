package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOrderBurst: an article showing standard output and standard error
// written at once, in the order written, passes every time (issue 10: it
// failed in 26 of 30 runs, the two terminals read in another order);
// both are terminals; with stderr, standard error alone is compared.
func TestOrderBurst(t *testing.T) {
	var b strings.Builder
	b.WriteString("```console\n")
	for i := range 10 {
		fmt.Fprintf(&b, "$ printf 'a%d\\n'; printf 'b%d\\n' >&2; printf 'c%d\\n'; ls /nonexistent-%d; echo d%d\n", i, i, i, i, i)
		fmt.Fprintf(&b, "a%d\nb%d\nc%d\nls: cannot access '/nonexistent-%d': No such file or directory\nd%d\n", i, i, i, i, i)
	}
	b.WriteString("$ [ -t 1 ] && [ -t 2 ] && echo terminals\nterminals\n```\n\n")
	b.WriteString("<!-- wordish: stderr -->\n```console\n$ printf 'a\\n'; printf 'b\\n' >&2; printf 'c\\n'\nb\n```\n")
	doc := filepath.Join(t.TempDir(), "order.md")
	if err := os.WriteFile(doc, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for run := range 3 {
		out, errs, code := wordish(t, "run", doc)
		if code != 0 || !strings.Contains(out, "12 passed, 0 failed") {
			t.Fatalf("run %d: exit %d\n%s%s", run, code, out, errs)
		}
	}
}

// TestMergedOrder: with the merged option both streams share one
// terminal, so the order between them is checked, within a burst too: an
// article showing the order written passes, one showing another order
// fails, where the streams apart (the default) take the article's order
// between them (interleave) and pass it.
func TestMergedOrder(t *testing.T) {
	const burst = "$ echo out1; echo err1 >&2; echo out2%s\n%s\n"
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var good strings.Builder
	good.WriteString("<!-- wordish: merged -->\n```console\n")
	for i := range 5 {
		fmt.Fprintf(&good, "$ printf 'a%d\\n'; printf 'b%d\\n' >&2; printf 'c%d\\n'; ls /nonexistent-%d; echo d%d\n", i, i, i, i, i)
		fmt.Fprintf(&good, "a%d\nb%d\nc%d\nls: cannot access '/nonexistent-%d': No such file or directory\nd%d\n", i, i, i, i, i)
	}
	good.WriteString("$ [ -t 1 ] && [ -t 2 ] && echo terminals\nterminals\n```\n\n```console\n")
	fmt.Fprintf(&good, burst, "   # wordish: merged", "out1\nerr1\nout2")
	good.WriteString("```\n")
	for _, c := range []struct {
		name, src string
		code      int
		summary   string
	}{
		{"exact order", good.String(), 0, "7 passed, 0 failed"},
		{"wrong order", "<!-- wordish: merged -->\n```console\n" + fmt.Sprintf(burst, "", "out1\nout2\nerr1") + "```\n", 1, "0 passed, 1 failed"},
		{"wrong order, command", "```console\n" + fmt.Sprintf(burst, " # wordish: merged", "err1\nout1\nout2") + "```\n", 1, "0 passed, 1 failed"},
		{"stderr left out", "<!-- wordish: merged -->\n```console\n" + fmt.Sprintf(burst, "", "out1\nout2") + "```\n", 1, "0 passed, 1 failed"},
		// The same wrong order passes without merged: the streams apart
		// cannot tell it (what merged is for).
		{"wrong order, apart", "```console\n" + fmt.Sprintf(burst, "", "out1\nout2\nerr1") + "```\n", 0, "1 passed, 0 failed"},
	} {
		out, errs, code := wordish(t, "run", write(strings.ReplaceAll(c.name, " ", "-")+".md", c.src))
		if code != c.code || !strings.Contains(out, c.summary) {
			t.Errorf("%s: exit %d, want %d and %q\n%s%s", c.name, code, c.code, c.summary, out, errs)
		}
	}
}
