package runner

import (
	"fmt"
	"time"

	"github.com/wordish-go/wordish/parser"
)

// Options are the settings of the replay of one document, the runner's
// part of wordish.Config; the zero value is what `wordish run` does by
// default.
type Options struct {
	Shell     string        `json:"shell,omitempty"`      // "" = bash
	Timeout   time.Duration `json:"timeout,omitempty"`    // per command; 0 = DefaultTimeout
	Env       []string      `json:"env,omitempty"`        // extra K=V for the shell
	Workdir   string        `json:"workdir,omitempty"`    // "" = a fresh temporary directory per document
	Keep      bool          `json:"keep,omitempty"`       // keep temporary working directories
	KeepGoing bool          `json:"keep_going,omitempty"` // go on after an errored step
	Stepper   Stepper       `json:"-"`                    // one step at a time, consulted around each (wordish step, --shell-on-failure)

	// Select, when set, picks the steps to report (`wordish run
	// FILE:LINE`, --run): the steps before the last selected one still
	// run, to rebuild the state the selected ones expect, but are
	// neither reported nor counted unless they errored (an error stops
	// the document, and the report must say why); the steps after it do
	// not run, except cleanup steps. wordish.Run selects with both this
	// and its own selection (FILE:LINE, Config.Run).
	Select func(*parser.Step) bool `json:"-"`
}

// Outcome is the verdict on one step.
type Outcome string

const (
	Passed  Outcome = "passed"
	Failed  Outcome = "failed"
	Errored Outcome = "errored"
	Skipped Outcome = "skipped"
	NotRun  Outcome = "not run"
)

// StepResult is what happened to one step.
type StepResult struct {
	Step     *parser.Step
	Outcome  Outcome
	Status   int    // exit status, when the command ran
	Stdout   string // normalised standard output
	Stderr   string // normalised standard error
	Merged   string // normalised transcript of both, in arrival order
	Actual   string // the output the expected text was judged against
	Diff     string // for Failed: unified diff, expected against actual
	Reason   string // for Errored: "exit status 3, expected 0", "timed out after 1s", ...
	Duration time.Duration
	Deferred bool // a cleanup step run at the end, after a bail-out or signal
}

// DocResult is what happened to one document.
type DocResult struct {
	Path     string
	Doc      *parser.Document // nil when the document could not be read
	Err      error            // unreadable or unparsable document
	Steps    []*StepResult    // in the order they were judged
	Duration time.Duration
}

// Counts tallies outcomes.
type Counts struct{ Passed, Failed, Errored, Skipped, NotRun int }

// Add counts one outcome.
func (c *Counts) Add(o Outcome) {
	switch o {
	case Passed:
		c.Passed++
	case Failed:
		c.Failed++
	case Errored:
		c.Errored++
	case Skipped:
		c.Skipped++
	case NotRun:
		c.NotRun++
	}
}

// String is the summary line of the text report.
func (c Counts) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d errored, %d skipped, %d not run",
		c.Passed, c.Failed, c.Errored, c.Skipped, c.NotRun)
}

// Counts tallies the document's step outcomes.
func (d *DocResult) Counts() Counts {
	var c Counts
	for _, s := range d.Steps {
		c.Add(s.Outcome)
	}
	return c
}

// OK reports whether nothing failed or errored.
func (c Counts) OK() bool { return c.Failed == 0 && c.Errored == 0 }

// Reporter receives results as they happen. Calls for one document come
// from one goroutine, in order.
type Reporter interface {
	StartDoc(path string)
	Step(path string, r *StepResult)
	EndDoc(r *DocResult)
}

// StepStarter is implemented by reporters that want to know which step
// is running (a progress line): Run calls StartStep as each step's
// command starts, selected or not, before its Step.
type StepStarter interface {
	StartStep(path string, s *parser.Step)
}

// Merge adds the counts of o.
func (c *Counts) Merge(o Counts) {
	c.Passed += o.Passed
	c.Failed += o.Failed
	c.Errored += o.Errored
	c.Skipped += o.Skipped
	c.NotRun += o.NotRun
}
