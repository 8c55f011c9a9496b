package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUpdateInteractive answers y, n, a for the drifts of a.md and q at
// the first of b.md: only the accepted outputs are written, and c.md is
// not asked about.
func TestUpdateInteractive(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.md": "# A\n\n```console\n$ echo one\nuno\n$ echo two\ndos\n$ echo same\nsame\n$ echo three\ntres\n$ echo four\ncuatro\n```\n",
		"b.md": "```console\n$ echo five\ncinco\n$ echo six\nseis\n```\n",
		"c.md": "```console\n$ echo seven\nsiete\n```\n",
	})
	s := startScreen(t, dir, "update", "-i", "a.md", "b.md", "c.md")
	s.waitFor("a.md: drifted step 1 of 4")
	s.waitFor("-uno")
	s.waitFor("+one")
	s.waitFor("[q]uit: ")
	s.send("y")
	s.waitFor("a.md: drifted step 2 of 4")
	s.waitFor("$ echo two")
	s.waitFor("[q]uit: ")
	s.send("x") // not an answer: ignored
	s.send("n")
	s.waitFor("a.md: drifted step 3 of 4")
	s.waitFor("[q]uit: ")
	s.send("a")
	s.waitFor("b.md: drifted step 1 of 2")
	s.waitFor("[q]uit: ")
	s.send("q")
	s.waitFor("a.md: rewrote the expected output of 3 step(s)")
	if code := s.exit(); code != 0 {
		t.Errorf("exit status %d, want 0; the screen:\n%s", code, s.text())
	}
	if strings.Contains(s.text(), "drifted step 4 of 4") || strings.Contains(s.text(), "c.md: drifted") {
		t.Errorf("asked after a or q:\n%s", s.text())
	}
	want := map[string]string{
		"a.md": "# A\n\n```console\n$ echo one\none\n$ echo two\ndos\n$ echo same\nsame\n$ echo three\nthree\n$ echo four\nfour\n```\n",
		"b.md": "```console\n$ echo five\ncinco\n$ echo six\nseis\n```\n",
		"c.md": "```console\n$ echo seven\nsiete\n```\n",
	}
	for name, w := range want {
		if got := readFile(t, filepath.Join(dir, name)); got != w {
			t.Errorf("%s afterwards:\n%s\nwant:\n%s", name, got, w)
		}
	}
}

// TestInteractiveNeedsTerminal: without a terminal on standard input the
// interactive commands say so and exit 2, before anything runs.
func TestInteractiveNeedsTerminal(t *testing.T) {
	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	writeFiles(t, dir, map[string]string{"a.md": "```console\n$ touch " + ran + "\n$ echo x\ny\n```\n"})
	for _, args := range [][]string{
		{"update", "-i", filepath.Join(dir, "a.md")},
	} {
		_, stderr, code := wordish(t, args...)
		if code != 2 || !strings.Contains(stderr, "standard input is not a terminal") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("a command ran")
	}
	if got := readFile(t, filepath.Join(dir, "a.md")); !strings.Contains(got, "\ny\n") {
		t.Error("the article changed")
	}
}
