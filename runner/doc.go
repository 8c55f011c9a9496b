// Package runner replays the steps of parsed articles in sessions, judges
// each step, and reports the outcome.
//
// Run replays one parser.Document in a fresh session and returns a
// DocResult, telling a Reporter as it goes: the text report of `wordish
// run` (NewTextReporter), a `go test -json` event stream
// (NewJSONReporter), JUnit XML (NewJUnitReporter), one HTML page
// (NewHTMLReporter). Every step is passed, failed, errored, skipped or
// not run; see Outcome. Update rewrites the
// expected output of failed steps in a document's source (`wordish
// update`), Script turns a document into a bash script (`wordish script`),
// and StepName names a step in all the machine-readable reports.
//
// # Checking articles with go test
//
// wordishtest.Test (package wordishtest, apart so that the command does
// not link "testing") makes articles part of a Go project's tests. Put a
// test beside the articles, for instance docs_test.go at the root of the
// module:
//
//	package docs_test
//
//	import (
//		"testing"
//
//		"github.com/wordish-go/wordish/runner"
//		"github.com/wordish-go/wordish/wordishtest"
//	)
//
//	func TestDocs(t *testing.T) {
//		wordishtest.Test(t, runner.Options{}, "README.md", "docs/*.md", "!docs/internal.md")
//	}
//
// Then:
//
//	go test -run TestDocs                      # replay README.md and docs/*.md
//	go test -run 'TestDocs/README.md' -v       # one article, every step listed
//	go test -run 'TestDocs/README.md/L42'      # one step (the earlier ones still replay)
//	gotestsum -- -run TestDocs                 # any go test tooling (gotestsum runs go test)
//	WORDISH_UPDATE=1 go test -run TestDocs     # accept the new outputs
//
// Each article is a subtest named after its path, each step a nested
// subtest named by StepName (L<line>_<slug of the command>). A drifted
// step fails with its file:line, its command and a diff:
//
//	--- FAIL: TestDocs/README.md/L42_echo_greeting_world (0.00s)
//	    docs_test.go:10: README.md:42: $ echo "$greeting world"
//	        --- expected
//	        +++ actual
//	        @@ -1 +1 @@
//	        -hello there
//	        +hello world
//
// Options carries what the command line's flags set (timeout, extra
// prompts, shell, environment, working directory, keep-going); its zero
// value is what `wordish run` does by default.
package runner
