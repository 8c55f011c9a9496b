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
