// Package wordishtest checks articles from `go test`: each document is a
// subtest, each step a subtest of it, and WORDISH_UPDATE=1 rewrites the
// expected outputs that drifted. It is its own package so that the
// wordish command, which does not run tests, does not link "testing".
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

	"github.com/wordish-go/wordish"
	"github.com/wordish-go/wordish/runner"
)

// UpdateEnv is the environment variable that turns on golden update in
// Test: `WORDISH_UPDATE=1 go test ./...` rewrites the expected outputs of
// failed steps, as `wordish update` does.
const UpdateEnv = "WORDISH_UPDATE"

// Test checks articles from a Go test: each document matching patterns is
// replayed as `wordish run` would, in its own session, and reported as a
// subtest named after its path, with a nested subtest per step named by
// runner.StepName ("L42_make_install"). Each document is one wordish.Run
// of cfg:
//
//	// docs_test.go, next to README.md
//	func TestDocs(t *testing.T) {
//		wordishtest.Test(t, wordish.Config{}, "README.md", "docs/*.md", "!docs/lvm.md")
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
// line (the steps left are skipped as "not run", unless cfg.Replay.KeepGoing),
// though cleanup steps still run. Skipped steps are skipped subtests.
// Documents run in parallel with each other (t.Parallel) and with other
// parallel tests.
//
// Selecting a step with `go test -run 'TestDocs/README.md/L42'` still
// replays the whole document, so the selected step sees the state the
// earlier steps leave, but only selected steps are reported.
//
// Golden update: with cfg.Update, or WORDISH_UPDATE=1 in the
// environment, the expected output of every failed step that was
// reported (selected by -run) is rewritten in its Markdown or reST
// source, exactly as `wordish update` does (package update), and those
// steps are logged as rewritten instead of failing; errored steps are not
// rewritten and still fail. HTML articles cannot be rewritten: that is a
// test failure saying to update the page's source.
//
// cfg is the command line's settings; its zero value is what `wordish
// run` does by default (Jobs, Stdout, Stderr, Choose and the report
// files are Test's). The
// VM sandbox is the wordish program's (it boots a guest running itself),
// not available from go test.
//
// The -run pattern is a regular expression matched against each level
// of the name: 'TestDocs/README.md/L42_' selects the step of line 42
// without the one of line 420.
func Test(t *testing.T, cfg wordish.Config, patterns ...string) {
	t.Helper()
	paths, err := expandPatterns(patterns)
	if err != nil {
		t.Fatal(err)
	}
	if v := os.Getenv(UpdateEnv); v != "" && v != "0" && v != "false" {
		cfg.Update = true
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			// Helpers all the way down, so that messages are attributed
			// to the line of the user's test that calls Test, not to
			// this file.
			t.Helper()
			t.Parallel()
			testDocument(t, path, cfg)
		})
	}
}

// testDocument replays one document with wordish.Run and reports its
// steps as subtests; in update mode, from the Chooser, which then writes
// the failed steps reported (those -run selected).
func testDocument(t *testing.T, path string, cfg wordish.Config) {
	t.Helper()
	cfg.Jobs, cfg.Stdout, cfg.Stderr, cfg.Report.Files = 1, nil, nil, nil
	reported := false
	cfg.Choose = func(r *runner.DocResult) ([]*runner.StepResult, bool) {
		reported = true
		return reportSteps(t, path, r, true), false
	}
	// t.Context is cancelled when the test ends, which interrupts the
	// command running then (a test binary killed by -timeout, say).
	sum, err := wordish.Run(t.Context(), cfg, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Docs) == 0 {
		t.Skipf("%s: not selected (cfg.Shard)", path)
	}
	res := sum.Docs[0]
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Doc.Steps()) == 0 {
		t.Logf("%s: no shell session found", path)
	}
	if !reported {
		reportSteps(t, path, res, false)
	}
	if n := sum.Rewritten[res.Path]; n > 0 {
		t.Logf("%s: rewrote the expected output of %d step(s)", path, n)
	}
	for _, err := range sum.WriteErrs {
		t.Error(err)
	}
}

// reportSteps reports the steps of res as subtests and returns the
// failed ones reported (-run selects them), which update mode rewrites.
func reportSteps(t *testing.T, path string, res *runner.DocResult, update bool) []*runner.StepResult {
	t.Helper()
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
				if update && sr.Step.Editable {
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
	return reported
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
