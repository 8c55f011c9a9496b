package main

import (
	"os"
	"strings"
	"testing"
)

// TestLVMPageUpToDate checks that the checked-in docs/lvm.html is what
// docs/lvm.md renders to now (make docs regenerates it).
func TestLVMPageUpToDate(t *testing.T) {
	src, err := os.ReadFile("../../docs/lvm.md")
	if err != nil {
		t.Skip(err)
	}
	want, err := render(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/lvm.html")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("docs/lvm.html is out of date: run make docs")
	}
	// highlighted as a documentation generator would: spans in a <pre>
	for _, s := range []string{`<pre class="chroma">`, `<span class="gp">#</span>`, `<span class="go">`, "<!-- wordish: cleanup -->"} {
		if !strings.Contains(string(got), s) {
			t.Errorf("docs/lvm.html lacks %s", s)
		}
	}
}
