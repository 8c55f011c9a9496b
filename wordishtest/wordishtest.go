// Package wordishtest checks articles from `go test`: each document is a
// subtest, each step a subtest of it, and WORDISH_UPDATE=1 rewrites the
// expected outputs that drifted. It is its own package so that the
// wordish command, which does not run tests, does not link "testing".
// (It was runner.Test: move the call and keep runner.Options.)
package wordishtest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

// UpdateEnv is the environment variable that turns on golden update in
// Test: `WORDISH_UPDATE=1 go test ./...` rewrites the expected outputs of
// failed steps, as `wordish update` does.
const UpdateEnv = "WORDISH_UPDATE"

// Test checks articles from a Go test: each document matching patterns is
// replayed as `wordish run` would, in its own session, and reported as a
// subtest named after its path, with a nested subtest per step named by
// runner.StepName ("L42_make_install"):
//
//	// docs_test.go, next to README.md
//	func TestDocs(t *testing.T) {
//		wordishtest.Test(t, runner.Options{}, "README.md", "docs/*.md", "!docs/lvm.md")
//	}
//
// Patterns are file paths or glob patterns, relative to the test's
// directory (the package directory, where `go test` runs tests), in the
// syntax of github.com/bmatcuk/doublestar: "*", "?", "[a-z]", "{md,rst}",
// and "**" for any number of directories ("docs/**/*.md" is every
// Markdown file under docs, docs/*.md included); matches are files only,
// in sorted order, and as in the shell a "*" or "**" does not enter hidden
// files and directories (".git/**" does). A
// pattern starting with "!" removes the files it matches from those the
// patterns before it selected. A pattern that selects or removes nothing
// fails the test: a misspelt pattern must not silently check nothing.
//
// A failed step is reported with its file:line, its command and the diff
// of expected against actual output; an errored step too, with the
// reason and the output, and the document stops there as on the command
// line (the steps left are skipped as "not run", unless opts.KeepGoing),
// though cleanup steps still run. Skipped steps are skipped subtests.
// Documents run in parallel with each other (t.Parallel) and with other
// parallel tests.
//
// Selecting a step with `go test -run 'TestDocs/README.md/L42'` still
// replays the whole document, so the selected step sees the state the
// earlier steps leave, but only selected steps are reported.
//
// Golden update: with opts.Update, or WORDISH_UPDATE=1 in the
// environment, the expected output of every failed step that was
// reported (selected by -run) is rewritten in its Markdown or reST
// source, exactly as `wordish update` does (see Update), and those steps
// are logged as rewritten instead of failing; errored steps are not
// rewritten and still fail. HTML articles cannot be rewritten: that is a
// test failure saying to update the page's source.
//
// opts is the command line's settings; its zero value is what
// `wordish run` does by default. The VM sandbox is not available from go
// test (it is the wordish program that boots it): opts.Sandbox "vm" fails
// the test rather than run the article on the host.
//
// The -run pattern is a regular expression matched against each level
// of the name: 'TestDocs/README.md/L42_' selects the step of line 42
// without the one of line 420.
func Test(t *testing.T, opts runner.Options, patterns ...string) {
	t.Helper()
	if opts.Sandbox != "" && opts.Sandbox != "host" {
		t.Fatalf("wordishtest.Test: sandbox %q is not available from go test; use wordish run --sandbox %s", opts.Sandbox, opts.Sandbox)
	}
	paths, err := expandPatterns(patterns)
	if err != nil {
		t.Fatal(err)
	}
	if v := os.Getenv(UpdateEnv); v != "" && v != "0" && v != "false" {
		opts.Update = true
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			// Helpers all the way down, so that messages are attributed
			// to the line of the user's test that calls Test, not to
			// this file.
			t.Helper()
			t.Parallel()
			testDocument(t, path, opts)
		})
	}
}

// testDocument replays one document and reports its steps as subtests.
func testDocument(t *testing.T, path string, opts runner.Options) {
	t.Helper()
	doc, err := parser.ParseFile(path, parser.Config{Format: opts.Format, Prompts: opts.Prompts})
	if err != nil {
		t.Fatal(err)
	}
	// t.Context is cancelled when the test ends, which interrupts the
	// command running then (a test binary killed by -timeout, say).
	res := runner.Run(t.Context(), doc, opts, discardReporter{})
	if res.Err != nil {
		t.Error(res.Err)
	}
	if len(doc.Steps()) == 0 {
		t.Logf("%s: no shell session found", path)
	}
	// The steps reported (run -run selected them); only those are
	// rewritten in update mode.
	var mu sync.Mutex
	var reported []*runner.StepResult
	for _, sr := range res.Steps {
		t.Run(runner.StepName(sr.Step), func(t *testing.T) {
			t.Helper()
			mu.Lock()
			reported = append(reported, sr)
			mu.Unlock()
			where := fmt.Sprintf("%s:%d", path, sr.Step.Line)
			switch sr.Outcome {
			case runner.Failed:
				if opts.Update && sr.Step.Editable {
					t.Logf("%s: expected output rewritten:\n%s", where, runner.Detail(sr))
					return
				}
				t.Errorf("%s: %s", where, runner.Detail(sr))
			case runner.Errored:
				t.Errorf("%s: %s", where, runner.Detail(sr))
			case runner.Skipped, runner.NotRun:
				t.Skipf("%s: %s", where, runner.SkipReason(sr))
			}
		})
	}
	if !opts.Update {
		return
	}
	n, err := runner.UpdateFile(doc, reported)
	if err != nil {
		t.Error(err)
		return
	}
	if n > 0 {
		t.Logf("%s: rewrote the expected output of %d step(s)", path, n)
	}
}

// expandPatterns turns Test's patterns into the list of paths, in pattern
// order, each path once.
func expandPatterns(patterns []string) ([]string, error) {
	if len(patterns) == 0 {
		return nil, fmt.Errorf("wordishtest.Test: no article given")
	}
	var paths []string
	seen := map[string]bool{}
	for _, p := range patterns {
		if ex, ok := strings.CutPrefix(p, "!"); ok {
			if !doublestar.ValidatePathPattern(ex) {
				return nil, fmt.Errorf("wordishtest.Test: bad pattern %q", p)
			}
			kept := paths[:0]
			for _, path := range paths {
				if m, _ := doublestar.PathMatch(filepath.Clean(ex), filepath.Clean(path)); m {
					delete(seen, path)
					continue
				}
				kept = append(kept, path)
			}
			if len(kept) == len(paths) {
				return nil, fmt.Errorf("wordishtest.Test: pattern %q excludes none of the articles selected before it", p)
			}
			paths = kept
			continue
		}
		matches, err := doublestar.FilepathGlob(p, doublestar.WithFilesOnly(), doublestar.WithNoHidden())
		if err != nil {
			return nil, fmt.Errorf("wordishtest.Test: bad pattern %q: %v", p, err)
		}
		if len(matches) == 0 {
			wd, _ := os.Getwd()
			return nil, fmt.Errorf("wordishtest.Test: pattern %q matches no file (in %s)", p, wd)
		}
		sort.Strings(matches)
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				paths = append(paths, m)
			}
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("wordishtest.Test: patterns %q select no article", patterns)
	}
	return paths, nil
}

// discardReporter discards the progress reports; Test reports from the
// DocResult.
type discardReporter struct{}

func (discardReporter) StartDoc(string)                 {}
func (discardReporter) Step(string, *runner.StepResult) {}
func (discardReporter) EndDoc(*runner.DocResult)        {}
