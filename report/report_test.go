package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

func TestTextReporterSteps(t *testing.T) {
	step := &parser.Step{File: "a.md", Line: 3, Command: "for i in 1; do\n  echo $i\ndone"}
	root := &parser.Step{File: "a.md", Line: 9, Root: true, Prompt: "# ", Command: "id -u"}
	tests := []struct {
		name string
		opt  TextOptions
		r    *runner.StepResult
		want string // the step's lines
	}{
		{"pass is quiet", TextOptions{}, &runner.StepResult{Step: step, Outcome: runner.Passed}, ""},
		{"skip is quiet", TextOptions{}, &runner.StepResult{Step: step, Outcome: runner.Skipped}, ""},
		{"pass verbose", TextOptions{Verbose: true}, &runner.StepResult{Step: root, Outcome: runner.Passed},
			"PASS a.md:9: # id -u (0s)\n"},
		{"skip verbose", TextOptions{Verbose: true}, &runner.StepResult{Step: root, Outcome: runner.Skipped},
			"SKIP a.md:9: # id -u\n"},
		{"deferred pass shown", TextOptions{}, &runner.StepResult{Step: root, Outcome: runner.Passed, Deferred: true},
			"PASS a.md:9: # id -u    (cleanup, run at the end)\n"},
		{"multi-line command", TextOptions{}, &runner.StepResult{Step: step, Outcome: runner.Failed, Diff: "--- expected\n+++ actual\n@@ -1 +1 @@\n-1\n+2\n"},
			"FAIL a.md:3: $ for i in 1; do\n    >   echo $i\n    > done\n    --- expected\n    +++ actual\n    @@ -1 +1 @@\n    -1\n    +2\n"},
		{"stderr apart", TextOptions{}, &runner.StepResult{Step: root, Outcome: runner.Failed, Diff: "D\n", Stdout: "o\n", Actual: "o\n", Stderr: "e\t\n", Merged: "o\ne\t\n"},
			"FAIL a.md:9: # id -u\n    D\n    stderr (not compared):\n    | e→\n"},
		{"no stderr apart when merged was compared", TextOptions{}, &runner.StepResult{Step: root, Outcome: runner.Failed, Diff: "D\n", Stdout: "o\n", Actual: "o\ne\n", Stderr: "e\n", Merged: "o\ne\n"},
			"FAIL a.md:9: # id -u\n    D\n"},
		{"error with output", TextOptions{}, &runner.StepResult{Step: root, Outcome: runner.Errored, Reason: "exit status 2, expected 0", Merged: "x \n\x00y\n"},
			"ERROR a.md:9: # id -u\n    exit status 2, expected 0\n    output:\n    | x·\n    | \\x00y\n"},
		{"colour", TextOptions{Color: true}, &runner.StepResult{Step: root, Outcome: runner.Failed, Diff: "@@ -1 +1 @@\n-a\n+b\n"},
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
	rep.Step("a.md", &runner.StepResult{Step: &parser.Step{File: "a.md", Line: 1, Command: "x"}, Outcome: runner.Errored,
		Reason: "why", Merged: strings.Join(lines, "\n") + "\n"})
	got := out.String()
	if !strings.Contains(got, "| … 60 lines before\n") || !strings.HasSuffix(got, "| the last line\n") {
		t.Errorf("got\n%s", got)
	}
	if n := strings.Count(got, "\n"); n != 2+1+1+40 {
		t.Errorf("%d lines", n)
	}
}

// The progress line names the step running, its number among the
// total and its time, is drawn only when asked, and is erased before the
// report goes on, so the summary stays the last line.
func TestTextReporterProgress(t *testing.T) {
	var out bytes.Buffer
	rep := NewTextReporter(&out, TextOptions{Progress: true, Total: 2})
	rep.Begin([]string{"a.md"})
	rep.StartDoc("a.md")
	s1 := &parser.Step{File: "a.md", Line: 1, Command: "sleep 4"}
	s2 := &parser.Step{File: "a.md", Line: 3, Command: "for i in 1 2; do\n  echo $i\ndone"}
	// The ticker draws too: read the output under the reporter's lock.
	snap := func() string {
		rep.mu.Lock()
		defer rep.mu.Unlock()
		return out.String()
	}
	rep.StartStep("a.md", s1)
	if got := snap(); got != "[1/2] a.md:1: $ sleep 4 (0.0s)" {
		t.Fatalf("progress line: %q", got)
	}
	rep.Step("a.md", &runner.StepResult{Step: s1, Outcome: runner.Passed})
	rep.StartStep("a.md", s2)
	if got := snap(); !strings.HasSuffix(got, "\r\x1b[K[2/2] a.md:3: $ for i in 1 2; do … (0.0s)") {
		t.Fatalf("progress line: %q", got)
	}
	// Redrawn while the step runs.
	n := len(snap())
	time.Sleep(3 * progressEvery)
	if len(snap()) <= n {
		t.Errorf("not redrawn while the step runs: %q", out.String())
	}
	rep.Step("a.md", &runner.StepResult{Step: s2, Outcome: runner.Passed})
	rep.EndDoc(&runner.DocResult{Path: "a.md", Steps: []*runner.StepResult{{Outcome: runner.Passed}, {Outcome: runner.Passed}}})
	rep.Finish()
	s := out.String()
	last := s[strings.LastIndex(s, "\r\x1b[K")+len("\r\x1b[K"):]
	if last != "ok   a.md: 2 passed, 0 failed, 0 errored, 0 skipped, 0 not run\n2 passed, 0 failed, 0 errored, 0 skipped, 0 not run\n" {
		t.Errorf("after the last erase: %q", last)
	}

	out.Reset()
	rep = NewTextReporter(&out, TextOptions{})
	rep.StartDoc("a.md")
	rep.StartStep("a.md", s1)
	rep.Step("a.md", &runner.StepResult{Step: s1, Outcome: runner.Passed})
	if out.Len() != 0 {
		t.Errorf("progress without a terminal: %q", out.String())
	}
}

func TestProgressLine(t *testing.T) {
	long := &parser.Step{File: "docs/a-rather-long-name/of-an-article.md", Line: 1234, Root: true,
		Command: "some-command --with --many --flags --and --arguments that go on and on"}
	tests := []struct {
		n, total int
		s        *parser.Step
		d        time.Duration
		want     string
	}{
		{1, 1, &parser.Step{File: "a.md", Line: 2, Command: "make\ttest"}, 1500 * time.Millisecond, "[1/1] a.md:2: $ make→test (1.5s)"},
		{3, 0, &parser.Step{File: "a.md", Line: 2, Command: "x"}, 0, "[3] a.md:2: $ x (0.0s)"},
		{12, 345, long, 61 * time.Second, "[12/345] docs/a-rather-long-name/of-an-article.md:1234: # some-command… (61.0s)"},
	}
	for _, tt := range tests {
		got := progressLine(tt.n, tt.total, tt.s, tt.d)
		if got != tt.want {
			t.Errorf("progressLine = %q, want %q", got, tt.want)
		}
		if n := len([]rune(got)); n > progressWidth {
			t.Errorf("%q: %d runes, more than %d", got, n, progressWidth)
		}
	}
}

// -q keeps what went wrong and the totals; the recap comes only when
// more than one document was reported; unreadable documents are counted
// in the summary, in the singular for one.
func TestTextReporterQuietRecapSummary(t *testing.T) {
	step := func(file string, line int, o runner.Outcome, diff string) *runner.StepResult {
		return &runner.StepResult{Step: &parser.Step{File: file, Line: line, Command: "cmd"}, Outcome: o, Reason: "why", Diff: diff}
	}
	diff := "--- expected\n+++ actual\n@@ -1,7 +1,7 @@\n-1\n+2\n 3\n 4\n 5\n 6\n 7\n"
	run := func(opt TextOptions, docs ...string) string {
		var out bytes.Buffer
		rep := NewTextReporter(&out, opt)
		rep.Begin(docs)
		for _, d := range docs {
			rep.StartDoc(d)
			switch d {
			case "ok.md":
				r := step(d, 1, runner.Passed, "")
				rep.Step(d, r)
				rep.EndDoc(&runner.DocResult{Path: d, Steps: []*runner.StepResult{r}})
			case "bad.md":
				r := step(d, 4, runner.Failed, diff)
				rep.Step(d, r)
				rep.EndDoc(&runner.DocResult{Path: d, Steps: []*runner.StepResult{r}})
			case "cut.md":
				r := step(d, 2, runner.NotRun, "")
				r.Reason = "interrupted before it started"
				rep.Step(d, r)
				rep.EndDoc(&runner.DocResult{Path: d, Steps: []*runner.StepResult{r}})
			default:
				rep.EndDoc(&runner.DocResult{Path: d, Err: &parser.Error{File: d, Msg: "no such file or directory"}})
			}
		}
		rep.Finish()
		return out.String()
	}
	tests := []struct {
		name string
		opt  TextOptions
		docs []string
		want string
	}{
		{"one document: no recap", TextOptions{}, []string{"bad.md"},
			"FAIL bad.md:4: $ cmd\n    --- expected\n    +++ actual\n    @@ -1,7 +1,7 @@\n    -1\n    +2\n     3\n     4\n     5\n     6\n     7\n" +
				"FAIL bad.md: 0 passed, 1 failed, 0 errored, 0 skipped, 0 not run\n" +
				"0 passed, 1 failed, 0 errored, 0 skipped, 0 not run\n"},
		{"recap", TextOptions{}, []string{"ok.md", "bad.md", "gone.md"},
			"ok   ok.md: 1 passed, 0 failed, 0 errored, 0 skipped, 0 not run\n" +
				"FAIL bad.md:4: $ cmd\n    --- expected\n    +++ actual\n    @@ -1,7 +1,7 @@\n    -1\n    +2\n     3\n     4\n     5\n     6\n     7\n" +
				"FAIL bad.md: 0 passed, 1 failed, 0 errored, 0 skipped, 0 not run\n" +
				"FAIL gone.md: no such file or directory\n" +
				"\nFailures:\n" +
				"FAIL bad.md:4: $ cmd\n    @@ -1,7 +1,7 @@\n    -1\n    +2\n     3\n     4\n    … 3 more lines\n" +
				"FAIL gone.md: no such file or directory\n" +
				"1 passed, 1 failed, 0 errored, 0 skipped, 0 not run; 1 document unreadable\n"},
		// Nothing failed, but nothing was checked either: not "ok".
		{"interrupted", TextOptions{}, []string{"ok.md", "cut.md"},
			"ok   ok.md: 1 passed, 0 failed, 0 errored, 0 skipped, 0 not run\n" +
				"NOT RUN (interrupted before it started):\n    cut.md:2: $ cmd\n" +
				"stop cut.md: 0 passed, 0 failed, 0 errored, 0 skipped, 1 not run\n" +
				"1 passed, 0 failed, 0 errored, 0 skipped, 1 not run\n"},
		{"all well: no recap", TextOptions{}, []string{"ok.md", "ok.md"},
			"ok   ok.md: 1 passed, 0 failed, 0 errored, 0 skipped, 0 not run\n" +
				"ok   ok.md: 1 passed, 0 failed, 0 errored, 0 skipped, 0 not run\n" +
				"2 passed, 0 failed, 0 errored, 0 skipped, 0 not run\n"},
		{"quiet", TextOptions{Quiet: true}, []string{"ok.md", "bad.md", "gone.md", "lost.md"},
			"FAIL bad.md:4: $ cmd\n    --- expected\n    +++ actual\n    @@ -1,7 +1,7 @@\n    -1\n    +2\n     3\n     4\n     5\n     6\n     7\n" +
				"FAIL bad.md: 0 passed, 1 failed, 0 errored, 0 skipped, 0 not run\n" +
				"FAIL gone.md: no such file or directory\n" +
				"FAIL lost.md: no such file or directory\n" +
				"1 passed, 1 failed, 0 errored, 0 skipped, 0 not run; 2 documents unreadable\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(tt.opt, tt.docs...); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// A not-run list that does not follow an error says why.
func TestTextReporterNotRunReason(t *testing.T) {
	var out bytes.Buffer
	rep := NewTextReporter(&out, TextOptions{})
	rep.StartDoc("a.md")
	for _, line := range []int{1, 2} {
		rep.Step("a.md", &runner.StepResult{Step: &parser.Step{File: "a.md", Line: line, Command: "x"}, Outcome: runner.NotRun,
			Reason: "interrupted before it started"})
	}
	want := "NOT RUN (interrupted before it started):\n    a.md:1: $ x\n    a.md:2: $ x\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

func TestTextReporterOrder(t *testing.T) {
	// Two documents reported interleaved come out whole, in plan order.
	var out bytes.Buffer
	rep := NewTextReporter(&out, TextOptions{})
	rep.Begin([]string{"a.md", "b.md"})
	step := func(file string, line int, o runner.Outcome) *runner.StepResult {
		return &runner.StepResult{Step: &parser.Step{File: file, Line: line, Command: "cmd"}, Outcome: o, Reason: "why"}
	}
	rep.StartDoc("b.md")
	rep.StartDoc("a.md")
	rep.Step("b.md", step("b.md", 1, runner.Errored))
	rep.Step("a.md", step("a.md", 1, runner.Passed))
	rep.Step("b.md", step("b.md", 2, runner.NotRun))
	rep.EndDoc(&runner.DocResult{Path: "b.md", Steps: []*runner.StepResult{step("b.md", 1, runner.Errored), step("b.md", 2, runner.NotRun)}})
	if out.Len() != 0 {
		t.Fatalf("b.md printed before a.md ended:\n%s", out.String())
	}
	rep.Step("a.md", step("a.md", 2, runner.Failed))
	rep.EndDoc(&runner.DocResult{Path: "a.md", Steps: []*runner.StepResult{step("a.md", 1, runner.Passed), step("a.md", 2, runner.Failed)}})
	rep.Finish()
	want := `FAIL a.md:2: $ cmd
    why
FAIL a.md: 1 passed, 1 failed, 0 errored, 0 skipped, 0 not run
ERROR b.md:1: $ cmd
    why
    (no output)
    not run:
    b.md:2: $ cmd
FAIL b.md: 0 passed, 0 failed, 1 errored, 0 skipped, 1 not run

Failures:
FAIL a.md:2: $ cmd
    why
ERROR b.md:1: $ cmd
    why
1 passed, 1 failed, 1 errored, 0 skipped, 1 not run
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
