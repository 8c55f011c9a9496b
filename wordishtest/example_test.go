package wordishtest_test

import (
	"testing"
	"time"

	"github.com/wordish-go/wordish"
	"github.com/wordish-go/wordish/runner"
	"github.com/wordish-go/wordish/wordishtest"
)

// A project checks its README and user guide from `go test`. The function
// below would be TestDocs in a _test.go file next to README.md; it is
// written as a variable here only because an example cannot declare a
// test. It has no output to check: it needs the articles.
func ExampleTest() {
	TestDocs := func(t *testing.T) {
		wordishtest.Test(t, wordish.Config{Replay: runner.Options{
			Timeout: 30 * time.Second,           // per command
			Env:     []string{"LC_ALL=C.UTF-8"}, // for the articles' shell
		}}, "README.md", "docs/*.md", "!docs/lvm.md") // lvm.md needs root: left out
	}
	_ = TestDocs
}
