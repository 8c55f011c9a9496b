package update

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

// TestUpdaterChoose: with Choose, only the results it picks are written.
func TestUpdaterChoose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.md")
	src := "```console\n$ echo one\nuno\n$ echo two\ndos\n```\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	doc, err := parser.ParseFile(path, parser.Config{})
	if err != nil {
		t.Fatal(err)
	}
	u := NewUpdater(nopReporter{})
	var offered int
	u.Choose = func(r *runner.DocResult) ([]*runner.StepResult, bool) {
		offered = len(r.Steps)
		var keep []*runner.StepResult
		for _, s := range r.Steps {
			if s.Step.Command == "echo two" {
				keep = append(keep, s)
			}
		}
		return keep, false
	}
	runner.Run(context.Background(), doc, runner.Options{}, u)
	if offered != 2 {
		t.Errorf("Choose saw %d results, want 2", offered)
	}
	got, _ := os.ReadFile(path)
	if want := "```console\n$ echo one\nuno\n$ echo two\ntwo\n```\n"; string(got) != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	if n := u.Changed()[path]; n != 1 {
		t.Errorf("Changed = %d, want 1", n)
	}
}
