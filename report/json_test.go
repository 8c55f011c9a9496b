package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

// sampleDocs are hand-built results covering every outcome, for the
// reporter tests; they do not need the runner.
func sampleDocs() []*runner.DocResult {
	step := func(line int, cmd string) *parser.Step {
		return &parser.Step{File: "docs/a.md", Line: line, Prompt: "$ ", Command: cmd}
	}
	a := &runner.DocResult{Path: "docs/a.md", Duration: 1500 * time.Millisecond, Steps: []*runner.StepResult{
		{Step: step(3, "echo hi"), Outcome: runner.Passed, Actual: "hi", Duration: 10 * time.Millisecond},
		{Step: step(5, "echo <x> & y"), Outcome: runner.Failed, Actual: "b",
			Diff: "--- expected\n+++ actual\n@@ -1 +1 @@\n-a\n+b\n"},
		{Step: step(9, "false"), Outcome: runner.Errored, Status: 1, Reason: "exit status 1, expected 0", Merged: "oops\n"},
		{Step: step(11, "ls"), Outcome: runner.NotRun},
		{Step: step(13, "rm -rf x # wordish: skip"), Outcome: runner.Skipped},
	}}
	b := &runner.DocResult{Path: "b.md", Steps: []*runner.StepResult{
		{Step: &parser.Step{File: "b.md", Line: 1, Command: "true"}, Outcome: runner.Passed},
	}}
	c := &runner.DocResult{Path: "missing.md", Err: errors.New("missing.md: no such file or directory")}
	return []*runner.DocResult{a, b, c}
}

// replay feeds results to a reporter the way the runner does.
func replay(rep runner.Reporter, docs []*runner.DocResult) {
	for _, d := range docs {
		rep.StartDoc(d.Path)
		for _, s := range d.Steps {
			rep.Step(d.Path, s)
		}
		rep.EndDoc(d)
	}
}

type event struct {
	Time    *time.Time
	Action  string
	Package string
	Test    string
	Elapsed *float64
	Output  *string
}

func parseEvents(t *testing.T, data []byte) []event {
	t.Helper()
	var evs []event
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var e event
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		evs = append(evs, e)
	}
	return evs
}

func TestJSONReporterEvents(t *testing.T) {
	var buf bytes.Buffer
	rep := NewJSONReporter(&buf)
	replay(rep, sampleDocs())
	if err := rep.Close(); err != nil {
		t.Fatal(err)
	}
	evs := parseEvents(t, buf.Bytes())

	// The terminal action of every test, and the package's.
	final := map[string]string{}
	for _, e := range evs {
		if e.Time == nil || e.Package != jsonPackage {
			t.Errorf("event %+v: no time or wrong package", e)
		}
		switch e.Action {
		case "pass", "fail", "skip":
			if _, dup := final[e.Test]; dup {
				t.Errorf("test %q ends twice", e.Test)
			}
			final[e.Test] = e.Action
			if e.Elapsed == nil {
				t.Errorf("%s event of %q has no Elapsed", e.Action, e.Test)
			}
		case "output":
			if e.Output == nil || !strings.HasSuffix(*e.Output, "\n") {
				t.Errorf("output event %+v: not one whole line", e)
			}
		case "run", "start":
		default:
			t.Errorf("unexpected action %q", e.Action)
		}
	}
	want := map[string]string{
		"docs":                  "fail", // the directory, for gotestsum (see JSONReporter)
		"docs/a.md":             "fail",
		"docs/a.md/L3_echo_hi":  "pass",
		"docs/a.md/L5_echo_x_y": "fail",
		"docs/a.md/L9_false":    "fail",
		"docs/a.md/L11_ls":      "skip",
		"docs/a.md/L13_rm_rf_x": "skip",
		"b.md":                  "pass",
		"b.md/L1_true":          "pass",
		"missing.md":            "fail",
		"":                      "fail", // the package
	}
	if diff := cmp.Diff(want, final); diff != "" {
		t.Errorf("final actions (-want +got):\n%s", diff)
	}
	if evs[0].Action != "start" || evs[len(evs)-1].Test != "" {
		t.Errorf("stream must open with the package start and end with the package result")
	}

	// Failure output carries file:line, the command and the diff.
	var out strings.Builder
	for _, e := range evs {
		if e.Test == "docs/a.md/L5_echo_x_y" && e.Output != nil {
			out.WriteString(*e.Output)
		}
	}
	wantOut := "=== RUN   docs/a.md/L5_echo_x_y\n" +
		"    docs/a.md:5: $ echo <x> & y\n" +
		"        --- expected\n" +
		"        +++ actual\n" +
		"        @@ -1 +1 @@\n" +
		"        -a\n" +
		"        +b\n" +
		"--- FAIL: docs/a.md/L5_echo_x_y (0.00s)\n"
	if out.String() != wantOut {
		t.Errorf("failure output:\n%s\nwant:\n%s", out.String(), wantOut)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`$ echo \u003cx\u003e \u0026 y\n`)) {
		t.Errorf("<, > and & not escaped as test2json escapes them")
	}
}

func TestJSONReporterAllPass(t *testing.T) {
	var buf bytes.Buffer
	rep := NewJSONReporter(&buf)
	replay(rep, sampleDocs()[1:2])
	rep.Close()
	evs := parseEvents(t, buf.Bytes())
	last := evs[len(evs)-1]
	if last.Action != "pass" || last.Test != "" {
		t.Errorf("last event %+v, want the package passing", last)
	}
	if o := evs[len(evs)-2].Output; o == nil || !strings.HasPrefix(*o, "ok  \twordish\t") {
		t.Errorf("want an ok line before the package pass, got %+v", evs[len(evs)-2])
	}
}

// TestJSONReporterConcurrent runs documents from several goroutines, as
// `wordish run -j N` may, and checks every line is still one whole event
// (run with -race to check the locking).
func TestJSONReporterConcurrent(t *testing.T) {
	var buf bytes.Buffer
	rep := NewJSONReporter(&buf)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := sampleDocs()[0]
			d.Path = fmt.Sprintf("doc%d.md", i)
			replay(rep, []*runner.DocResult{d})
		}()
	}
	wg.Wait()
	rep.Close()
	evs := parseEvents(t, buf.Bytes())
	fails := 0
	for _, e := range evs {
		if e.Action == "fail" && strings.Count(e.Test, "/") == 0 && e.Test != "" {
			fails++
		}
	}
	if fails != 8 {
		t.Errorf("%d documents failed, want 8", fails)
	}
	// Each document's events come together.
	done := map[string]bool{}
	cur := ""
	for _, e := range evs {
		doc, _, _ := strings.Cut(e.Test, "/")
		if doc == cur || doc == "" {
			continue
		}
		if done[doc] {
			t.Fatalf("events of %s interleaved with others", doc)
		}
		done[cur], cur = true, doc
	}
}

// TestJSONReporterInterrupted: a document that never ends is still
// written, at Close, and fails the package.
func TestJSONReporterInterrupted(t *testing.T) {
	var buf bytes.Buffer
	rep := NewJSONReporter(&buf)
	d := sampleDocs()[1]
	rep.StartDoc(d.Path)
	rep.Step(d.Path, d.Steps[0])
	replay(rep, sampleDocs()[2:]) // an unreadable document meanwhile
	rep.Close()
	evs := parseEvents(t, buf.Bytes())
	var got []string
	for _, e := range evs {
		got = append(got, e.Action+" "+e.Test)
	}
	want := []string{
		"start ", "run missing.md", "output missing.md", "output missing.md", "output missing.md", "fail missing.md",
		"run b.md", "output b.md", "run b.md/L1_true", "output b.md/L1_true", "output b.md/L1_true", "pass b.md/L1_true",
		"output ", "output ", "fail ",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestJSONReporterMatchesGoTest runs a real Go test shaped like the sample
// documents (a subtest per document, one per step, failing and skipping
// with the same messages) under `go test -json`, and compares its event
// stream with ours: same actions for the same tests, in the same order,
// with the same output lines, once the things that must differ (the
// enclosing TestDocs, the package name, times, source positions) are
// normalised.
func TestJSONReporterMatchesGoTest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	docs := sampleDocs()
	var src strings.Builder
	src.WriteString("package t2j\n\nimport \"testing\"\n\nfunc TestDocs(t *testing.T) {\n")
	for _, d := range docs {
		fmt.Fprintf(&src, "\tt.Run(%q, func(t *testing.T) {\n", d.Path)
		for _, s := range d.Steps {
			fmt.Fprintf(&src, "\t\tt.Run(%q, func(t *testing.T) {\n", runner.StepName(s.Step))
			switch s.Outcome {
			case runner.Failed, runner.Errored:
				fmt.Fprintf(&src, "\t\t\tt.Error(%q)\n", runner.Detail(s))
			case runner.Skipped, runner.NotRun:
				fmt.Fprintf(&src, "\t\t\tt.Skip(%q)\n", runner.SkipReason(s))
			}
			src.WriteString("\t\t})\n")
		}
		if d.Err != nil {
			fmt.Fprintf(&src, "\t\tt.Error(%q)\n", d.Err.Error())
		}
		src.WriteString("\t})\n")
	}
	src.WriteString("}\n")

	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/t2j\n\ngo 1.26\n")
	write("a_test.go", src.String())
	cmd := exec.Command("go", "test", "-json", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	real, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	rep := NewJSONReporter(&buf)
	replay(rep, docs)
	rep.Close()

	pos := regexp.MustCompile(`^    ([^ ]+?(:\d+)?: )+`)
	secs := regexp.MustCompile(`\(?\d+\.\d+s\)?`)
	norm := func(evs []event, pkg, prefix string) []string {
		var out []string
		for _, e := range evs {
			// The root of go test's names, the directory's test in ours
			// (see JSONReporter): each the top level of its stream.
			if e.Test == "TestDocs" || pkg == jsonPackage && e.Test == "docs" {
				continue
			}
			s := e.Action + " " + strings.TrimPrefix(e.Test, prefix)
			if e.Output != nil {
				o := strings.ReplaceAll(*e.Output, prefix, "")
				o = strings.ReplaceAll(o, pkg, "PKG")
				o = pos.ReplaceAllString(o, "    POS: ")
				s += " " + secs.ReplaceAllString(o, "T")
			}
			out = append(out, s)
		}
		return out
	}
	want := norm(parseEvents(t, real), "example.com/t2j", "TestDocs/")
	got := norm(parseEvents(t, buf.Bytes()), jsonPackage, "")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event stream differs from go test -json (-go test +ours):\n%s", diff)
	}
}
