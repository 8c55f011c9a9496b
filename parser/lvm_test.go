package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// articles holds third-party articles used as test input (not shipped).
var articles = filepath.Join("..", "..", "shared", "articles")

// TestLVMArticle checks that the reST source and the Sphinx HTML of the
// same article give the same steps, and that every line points at a
// prompt line.
func TestLVMArticle(t *testing.T) {
	rstPath := filepath.Join(articles, "lvm-2010.rst")
	htmlPath := filepath.Join(articles, "lvm-2010.html")
	if _, err := os.Stat(rstPath); err != nil {
		t.Skip("shared articles not present:", err)
	}
	parse := func(path string) []*Step {
		doc, err := ParseFile(path, Config{})
		if err != nil {
			t.Fatal(err)
		}
		steps := doc.Steps()
		lines := strings.Split(string(doc.Source), "\n")
		for _, s := range steps {
			l := lines[s.Line-1]
			// The prompt and the command's first word open the line (in
			// HTML, behind the <pre> markup).
			if !strings.Contains(l, strings.TrimSpace(s.Prompt)) || !strings.Contains(l, s.Prompt+strings.Fields(s.Command)[0]) {
				t.Errorf("%s:%d: not the prompt line of %q: %q", path, s.Line, s.Command, l)
			}
		}
		return steps
	}
	r, h := parse(rstPath), parse(htmlPath)
	if len(r) != 41 || len(h) != 41 {
		t.Fatalf("got %d reST and %d HTML steps, want 41", len(r), len(h))
	}
	// Sphinx expanded the source's tabs, so continuation lines may differ
	// in leading blanks.
	norm := func(c string) string {
		ls := strings.Split(c, "\n")
		for i := 1; i < len(ls); i++ {
			ls[i] = strings.TrimLeft(ls[i], " \t")
		}
		return strings.Join(ls, "\n")
	}
	for i := range r {
		if norm(r[i].Command) != norm(h[i].Command) || r[i].Expected != h[i].Expected || r[i].Root != h[i].Root || !r[i].Root {
			t.Errorf("step %d differs:\nrst  %d %q -> %q\nhtml %d %q -> %q", i, r[i].Line, r[i].Command, r[i].Expected, h[i].Line, h[i].Command, h[i].Expected)
		}
	}
	// The multi-line function definitions are single steps.
	if c := r[16].Command; !strings.HasPrefix(c, "upgrade_schema_and_website () {") || !strings.HasSuffix(c, "}") {
		t.Errorf("step 16: %q", c)
	}
}
