package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWatch: wordish watch replays every article at start, then the one
// saved, in place or replaced by a rename (as editors save), clearing the
// screen each time, and ends at Ctrl-C with status 130.
func TestWatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.md")
	writeFiles(t, dir, map[string]string{"a.md": "```console\n$ echo hi\nhi\n```\n", "b.md": "```console\n$ echo b\nb\n```\n", "other.md": "x\n"})
	s := startScreen(t, dir, "watch", "a.md", "b.md")
	s.waitFor("wordish watch a.md b.md")
	s.waitFor("ok   a.md: 1 passed")
	s.waitFor("ok   b.md: 1 passed")
	s.waitFor("replays when a file is saved; Ctrl-C to stop")

	// Another file of the directory changing is no reason to replay.
	writeFiles(t, dir, map[string]string{"other.md": "y\n"})

	// Saved by a rename over the old file.
	tmp := filepath.Join(dir, ".a.md.swp")
	if err := os.WriteFile(tmp, []byte("```console\n$ echo hi\nhello\n```\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	s.waitFor("\x1b[H\x1b[2J")
	s.waitFor("wordish watch a.md (") // only the article saved
	s.waitFor("FAIL a.md:2: $ echo hi")
	s.waitFor("+hi")
	s.waitFor("replays when a file is saved")

	// Saved in place.
	if err := os.WriteFile(path, []byte("```console\n$ echo hi\nhi\n$ echo two\ntwo\n```\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.waitFor("\x1b[H\x1b[2J")
	s.waitFor("wordish watch a.md (")
	s.waitFor("ok   a.md: 2 passed")
	s.waitFor("replays when a file is saved")
	s.send("\x03")
	if code := s.exit(); code != 130 {
		t.Errorf("exit status %d, want 130; the screen:\n%s", code, s.text())
	}
	if strings.Contains(s.text()[strings.Index(s.text(), "FAIL a.md:2"):], "b.md: 1 passed") {
		t.Errorf("b.md replayed though not saved:\n%s", s.text())
	}
	if n := strings.Count(s.text(), "\x1b[H\x1b[2J"); n != 3 {
		t.Errorf("%d replays, want 3 (other.md changing is not one); the screen:\n%s", n, s.text())
	}
}
