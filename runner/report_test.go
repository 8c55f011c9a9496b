package runner

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wordish-go/wordish/parser"
)

func TestTextReporterSteps(t *testing.T) {
	step := &parser.Step{File: "a.md", Line: 3, Command: "for i in 1; do\n  echo $i\ndone"}
	root := &parser.Step{File: "a.md", Line: 9, Root: true, Prompt: "# ", Command: "id -u"}
	tests := []struct {
		name string
		opt  TextOptions
		r    *StepResult
		want string // the step's lines
	}{
		{"pass is quiet", TextOptions{}, &StepResult{Step: step, Outcome: Passed}, ""},
		{"skip is quiet", TextOptions{}, &StepResult{Step: step, Outcome: Skipped}, ""},
		{"pass verbose", TextOptions{Verbose: true}, &StepResult{Step: root, Outcome: Passed},
			"PASS a.md:9: # id -u (0s)\n"},
		{"skip verbose", TextOptions{Verbose: true}, &StepResult{Step: root, Outcome: Skipped},
			"SKIP a.md:9: # id -u\n"},
		{"deferred pass shown", TextOptions{}, &StepResult{Step: root, Outcome: Passed, Deferred: true},
			"PASS a.md:9: # id -u    (cleanup, run at the end)\n"},
		{"multi-line command", TextOptions{}, &StepResult{Step: step, Outcome: Failed, Diff: "--- expected\n+++ actual\n@@ -1 +1 @@\n-1\n+2\n"},
			"FAIL a.md:3: $ for i in 1; do\n    >   echo $i\n    > done\n    --- expected\n    +++ actual\n    @@ -1 +1 @@\n    -1\n    +2\n"},
		{"stderr apart", TextOptions{}, &StepResult{Step: root, Outcome: Failed, Diff: "D\n", Stdout: "o\n", Actual: "o\n", Stderr: "e\t\n", Merged: "o\ne\t\n"},
			"FAIL a.md:9: # id -u\n    D\n    stderr (not compared):\n    | e→\n"},
		{"no stderr apart when merged was compared", TextOptions{}, &StepResult{Step: root, Outcome: Failed, Diff: "D\n", Stdout: "o\n", Actual: "o\ne\n", Stderr: "e\n", Merged: "o\ne\n"},
			"FAIL a.md:9: # id -u\n    D\n"},
		{"error with output", TextOptions{}, &StepResult{Step: root, Outcome: Errored, Reason: "exit status 2, expected 0", Merged: "x \n\x00y\n"},
			"ERROR a.md:9: # id -u\n    exit status 2, expected 0\n    output:\n    | x·\n    | \\x00y\n"},
		{"colour", TextOptions{Color: true}, &StepResult{Step: root, Outcome: Failed, Diff: "@@ -1 +1 @@\n-a\n+b\n"},
			"\x1b[31mFAIL\x1b[0m a.md:9: # id -u\n    \x1b[36m@@ -1 +1 @@\x1b[0m\n    \x1b[31m-a\x1b[0m\n    \x1b[32m+b\x1b[0m\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			rep := NewTextReporter(&out, tt.opt)
			rep.StartDoc("a.md")
			rep.Step("a.md", tt.r)
			got := out.String()
			if got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestTextReporterLongOutput(t *testing.T) {
	var out bytes.Buffer
	rep := NewTextReporter(&out, TextOptions{})
	rep.StartDoc("a.md")
	lines := make([]string, 100)
	for i := range lines {
		lines[i] = "line"
	}
	lines[99] = "the last line"
	rep.Step("a.md", &StepResult{Step: &parser.Step{File: "a.md", Line: 1, Command: "x"}, Outcome: Errored,
		Reason: "why", Merged: strings.Join(lines, "\n") + "\n"})
	got := out.String()
	if !strings.Contains(got, "| … 60 lines before\n") || !strings.HasSuffix(got, "| the last line\n") {
		t.Errorf("got\n%s", got)
	}
	if n := strings.Count(got, "\n"); n != 2+1+1+40 {
		t.Errorf("%d lines", n)
	}
}

// The progress line is drawn only when asked, and erased before the
// report goes on, so the summary stays the last line.
func TestTextReporterProgress(t *testing.T) {
	var out bytes.Buffer
	rep := NewTextReporter(&out, TextOptions{Progress: true})
	rep.Plan([]string{"a.md"})
	rep.StartDoc("a.md")
	rep.Step("a.md", &StepResult{Step: &parser.Step{File: "a.md", Line: 1, Command: "x"}, Outcome: Passed})
	if !strings.Contains(out.String(), "\r\x1b[K1 steps: 1 passed") {
		t.Fatalf("no progress line: %q", out.String())
	}
	rep.EndDoc(&DocResult{Path: "a.md", Steps: []*StepResult{{Outcome: Passed}}})
	rep.Finish()
	s := out.String()
	last := s[strings.LastIndex(s, "\r\x1b[K")+len("\r\x1b[K"):]
	if last != "1 passed, 0 failed, 0 errored, 0 skipped, 0 not run\n" {
		t.Errorf("after the last erase: %q", last)
	}

	out.Reset()
	rep = NewTextReporter(&out, TextOptions{})
	rep.StartDoc("a.md")
	rep.Step("a.md", &StepResult{Step: &parser.Step{File: "a.md", Line: 1, Command: "x"}, Outcome: Passed})
	if out.Len() != 0 {
		t.Errorf("progress without a terminal: %q", out.String())
	}
}

// A not-run list that does not follow an error says why.
func TestTextReporterNotRunReason(t *testing.T) {
	var out bytes.Buffer
	rep := NewTextReporter(&out, TextOptions{})
	rep.StartDoc("a.md")
	for _, line := range []int{1, 2} {
		rep.Step("a.md", &StepResult{Step: &parser.Step{File: "a.md", Line: line, Command: "x"}, Outcome: NotRun,
			Reason: "interrupted before it started"})
	}
	want := "NOT RUN (interrupted before it started):\n    a.md:1: $ x\n    a.md:2: $ x\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}
