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
// the first of b.md: only the accepted outputs are written, c.md is not
// replayed at all, and the exit status says that steps still drift.
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
	// two, five and six still drift; c.md was not replayed.
	s.waitFor("3 drifted step(s) left as they were")
	if code := s.exit(); code != 1 {
		t.Errorf("exit status %d, want 1; the screen:\n%s", code, s.text())
	}
	if strings.Contains(s.text(), "drifted step 4 of 4") || strings.Contains(s.text(), "c.md") {
		t.Errorf("asked after a, or replayed c.md after q:\n%s", s.text())
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
		{"step", filepath.Join(dir, "a.md")},
		{"run", "--shell-on-failure", filepath.Join(dir, "a.md")},
		{"watch", filepath.Join(dir, "a.md")},
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

// shellArticle drifts at its second step; its third sees the state the
// user leaves in the failure shell.
const shellArticle = "# Shell on failure\n\n```console\n$ greet() { echo \"hi $1\"; }\n$ echo drift\nexpected\n$ echo \"$PWD $FOO\"; greet you\n/tmp 1\nhi you\n```\n\n" +
	"<!-- wordish: cleanup -->\n```console\n$ echo cleaning\ncleaning\n```\n"

// TestShellOnFailure: at the failing step the user gets the article's
// own shell, types cd /tmp; FOO=1, uses a function the article defined,
// and leaves; the next step sees that state and passes.
func TestShellOnFailure(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.md": shellArticle})
	s := startScreen(t, dir, "run", "--shell-on-failure", "a.md")
	s.waitFor("FAIL a.md:5: $ echo drift")
	s.waitFor("+drift")
	s.waitFor("exit or Ctrl-D to go on")
	s.waitFor("(wordish) ")
	s.send("cd /tmp; FOO=1; greet me\r")
	s.waitFor("hi me")
	s.waitFor("(wordish) /tmp$ ")
	s.send("exit\r")
	s.waitFor("back to the replay")
	s.waitFor("FAIL a.md: 3 passed, 1 failed, 0 errored, 0 skipped, 0 not run")
	if code := s.exit(); code != 1 {
		t.Errorf("exit status %d, want 1; the screen:\n%s", code, s.text())
	}
	if strings.Contains(s.text(), "FAIL a.md:7") || strings.Contains(s.text(), "ERROR a.md:7") {
		t.Errorf("the step after the shell did not pass:\n%s", s.text())
	}
}

// TestStep drives wordish step: Enter runs a step and shows its output, s
// skips one, c runs up to the next failure, where --shell-on-failure
// hands the shell over; q then stops, and the cleanup step still runs.
func TestStep(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.md": "```console\n$ echo one\none\n$ echo two\ntwo\n$ echo three\nthree\n$ echo drift\nexpected\n$ echo \"$PWD $FOO\"\n/tmp 1\n$ echo never\nnever\n```\n\n" +
		"<!-- wordish: cleanup -->\n```console\n$ echo cleaning\ncleaning\n```\n"})
	s := startScreen(t, dir, "step", "--shell-on-failure", "a.md")
	s.waitFor("next a.md:2: $ echo one\r\n[Enter] run, [s]kip, [c]ontinue to the next failure, [q]uit: ")
	s.send("\r")
	s.waitFor("PASS a.md:2: $ echo one")
	s.waitFor("    | one")
	s.waitFor("next a.md:4: $ echo two")
	s.send("s")
	s.waitFor("next a.md:6: $ echo three")
	s.send("c")
	s.waitFor("PASS a.md:6: $ echo three")
	s.waitFor("FAIL a.md:8: $ echo drift")
	s.waitFor("(wordish) ")
	s.send("cd /tmp; FOO=1\r")
	s.waitFor("(wordish) /tmp$ ")
	s.send("\x04") // Ctrl-D
	s.waitFor("back to the replay")
	s.waitFor("next a.md:10: $ echo \"$PWD $FOO\"")
	s.send("\r")
	s.waitFor("PASS a.md:10")
	s.waitFor("    | /tmp 1")
	s.waitFor("next a.md:12: $ echo never")
	s.send("q")
	s.waitFor("NOT RUN (stopped by the user):")
	s.waitFor("a.md:12: $ echo never")
	s.waitFor("PASS a.md:18: $ echo cleaning")
	s.waitFor("FAIL a.md: 4 passed, 1 failed, 0 errored, 1 skipped, 1 not run")
	if code := s.exit(); code != 1 {
		t.Errorf("exit status %d, want 1; the screen:\n%s", code, s.text())
	}
	if strings.Contains(s.text(), "next a.md:18") {
		t.Errorf("asked about the cleanup step run at the end:\n%s", s.text())
	}
}

// TestUpdateInteractiveAll: a for every file writes everything, exit 0.
func TestUpdateInteractiveAll(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.md": "```console\n$ echo one\nuno\n$ seq 3\n1\n...\n9\n```\n"})
	s := startScreen(t, dir, "update", "-i", "a.md")
	s.waitFor("a.md: drifted step 1 of 2")
	s.waitFor("[q]uit: ")
	s.send("a")
	s.waitFor("a.md: rewrote the expected output of 2 step(s)")
	if code := s.exit(); code != 0 {
		t.Errorf("exit status %d, want 0; the screen:\n%s", code, s.text())
	}
	// The wildcard is kept, as by wordish update.
	if got, want := readFile(t, filepath.Join(dir, "a.md")), "```console\n$ echo one\none\n$ seq 3\n1\n...\n3\n```\n"; got != want {
		t.Errorf("a.md:\n%s\nwant:\n%s", got, want)
	}
}

// TestShellOnFailureStop: exit 1 in the failure shell stops the replay;
// the cleanup step still runs.
func TestShellOnFailureStop(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.md": shellArticle})
	s := startScreen(t, dir, "run", "--shell-on-failure", "-v", "a.md")
	s.waitFor("(wordish) ")
	s.send("exit 1\r")
	s.waitFor("stopping the replay")
	s.waitFor("NOT RUN (stopped by the user):")
	s.waitFor("a.md:7: $ echo")
	s.waitFor("PASS a.md:14: $ echo cleaning")
	s.waitFor("FAIL a.md: 2 passed, 1 failed, 0 errored, 0 skipped, 1 not run")
	if code := s.exit(); code != 1 {
		t.Errorf("exit status %d, want 1; the screen:\n%s", code, s.text())
	}
}
