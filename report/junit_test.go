package report

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

func TestJUnitReporter(t *testing.T) {
	var buf bytes.Buffer
	rep := NewJUnitReporter(&buf)
	docs := sampleDocs()
	// Invisible characters that XML 1.0 cannot carry must not break it.
	docs[0].Steps[1].Diff += "+\x1b[31mred\x1b[0m\x00\n"
	replay(rep, docs)
	if err := rep.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration:\n%s", buf.String())
	}

	// Round trip: the output must parse as XML, strictly, into the
	// structure we meant.
	var got junitSuites
	dec := xml.NewDecoder(&buf)
	dec.Strict = true
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("not valid XML: %v", err)
	}
	type c struct {
		Name, Class, File string
		Line              int
		Kind, Message     string
	}
	var cases []c
	for _, s := range got.Suites {
		for _, tc := range s.Cases {
			kind, msg := "pass", ""
			switch {
			case tc.Failure != nil:
				kind, msg = "failure", tc.Failure.Message
			case tc.Error != nil:
				kind, msg = "error", tc.Error.Message
			case tc.Skipped != nil:
				kind, msg = "skipped", tc.Skipped.Message
			}
			cases = append(cases, c{tc.Name, tc.Classname, tc.File, tc.Line, kind, msg})
		}
	}
	want := []c{
		{"L3_echo_hi", "docs/a.md", "docs/a.md", 3, "pass", ""},
		{"L5_echo_x_y", "docs/a.md", "docs/a.md", 5, "failure", "output differs"},
		{"L9_false", "docs/a.md", "docs/a.md", 9, "error", "exit status 1, expected 0"},
		{"L11_ls", "docs/a.md", "docs/a.md", 11, "skipped", "not run: an earlier step errored"},
		{"L13_rm_rf_x", "docs/a.md", "docs/a.md", 13, "skipped", "skipped"},
		{"L1_true", "b.md", "b.md", 1, "pass", ""},
		{"document", "missing.md", "missing.md", 0, "error", "missing.md: no such file or directory"},
	}
	if diff := cmp.Diff(want, cases); diff != "" {
		t.Errorf("testcases (-want +got):\n%s", diff)
	}

	type counts struct{ Tests, Failures, Errors, Skipped int }
	var suites []counts
	for _, s := range got.Suites {
		suites = append(suites, counts{s.Tests, s.Failures, s.Errors, s.Skipped})
	}
	wantSuites := []counts{{5, 1, 1, 2}, {1, 0, 0, 0}, {1, 0, 1, 0}}
	if diff := cmp.Diff(wantSuites, suites); diff != "" {
		t.Errorf("suite counts (-want +got):\n%s", diff)
	}
	if tot := (counts{got.Tests, got.Failures, got.Errors, got.Skipped}); tot != (counts{7, 1, 2, 2}) {
		t.Errorf("totals %+v", tot)
	}
	if got.Suites[0].Time != "1.500" {
		t.Errorf("suite time %q, want 1.500", got.Suites[0].Time)
	}

	// The failure carries the command and the diff.
	f := got.Suites[0].Cases[1].Failure.Text
	for _, s := range []string{"$ echo <x> & y", "-a\n+b", "red"} {
		if !strings.Contains(f, s) {
			t.Errorf("failure text %q lacks %q", f, s)
		}
	}
	// The error carries the output.
	if e := got.Suites[0].Cases[2].Error.Text; !strings.Contains(e, "oops") {
		t.Errorf("error text %q lacks the output", e)
	}
}

// TestJUnitInterrupted: a document that started but never ended still
// shows up, as an error, so an interrupted CI run is not read as green.
func TestJUnitInterrupted(t *testing.T) {
	var buf bytes.Buffer
	rep := NewJUnitReporter(&buf)
	rep.StartDoc("x.md")
	rep.Step("x.md", &runner.StepResult{Step: &parser.Step{Line: 1}, Outcome: runner.Passed})
	rep.Close()
	var got junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Suites) != 1 || got.Errors != 1 {
		t.Errorf("got %+v, want one suite with an error", got)
	}
}

// TestJUnitPlanOrder: with -j, documents end in any order; the suites
// follow the plan (the command line's order).
func TestJUnitPlanOrder(t *testing.T) {
	var buf bytes.Buffer
	rep := NewJUnitReporter(&buf)
	rep.Begin([]string{"a.md", "b.md"})
	rep.StartDoc("b.md")
	rep.StartDoc("a.md")
	rep.EndDoc(&runner.DocResult{Path: "b.md"})
	rep.EndDoc(&runner.DocResult{Path: "a.md"})
	rep.Close()
	var got junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range got.Suites {
		names = append(names, s.Name)
	}
	if len(names) != 2 || names[0] != "a.md" || names[1] != "b.md" {
		t.Errorf("suites %q, want a.md then b.md", names)
	}
}
