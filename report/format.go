package report

import (
	"io"
	"sync"
	"time"

	"github.com/wordish-go/wordish/runner"
)

// A FileReporter is a report written to a file as the run goes: Begin
// with the documents in argument order (their order in the report, however
// parallel runs interleave), the runner.Reporter events, then Close, which writes
// what is left and returns the first write error.
type FileReporter interface {
	runner.Reporter
	Begin(paths []string)
	Close() error
}

// A Format is a report wordish writes to a file: `wordish run
// --NAME FILE`. The command line registers one flag per format, and the
// VM sandbox hands the formats over to its guest by name.
type Format struct {
	Name  string // the flag: --json
	Usage string // the flag's help; `FILE` names its value
	// Stdout: FILE "-" is standard output, which then carries this
	// report alone (no text report).
	Stdout bool
	// Check, if set, refuses a FILE before anything runs (one that would
	// overwrite an article); Check refuses the run's documents anyway.
	Check func(file string) error
	New   func(w io.Writer) FileReporter
}

// Formats are the file reports, in the order they are written to.
// A new format is a file with its reporter and one line here.
var Formats = []Format{
	{Name: "json", Usage: "also write a go test -json event stream to `FILE`; - = standard output, and then no text report (gotestsum --raw-command -- wordish run --json - ...)",
		Stdout: true, New: func(w io.Writer) FileReporter { return NewJSONReporter(w) }},
	{Name: "junit", Usage: "also write JUnit XML to `FILE`",
		New: func(w io.Writer) FileReporter { return NewJUnitReporter(w) }},
	{Name: "html", Usage: "also write an HTML report (one self-contained page) to `FILE`",
		Check: checkHTMLOut, New: func(w io.Writer) FileReporter { return NewHTMLReporter(w) }},
}

// collector is what the reports written at Close (HTML, JUnit) share:
// the documents in order (Begin's, then those not planned as they
// start), when each started, and their results. Safe for concurrent use;
// its methods implement Begin and runner.Reporter.
type collector struct {
	mu      sync.Mutex
	now     func() time.Time
	order   []string
	known   map[string]bool
	started map[string]time.Time           // StartDoc time by path
	docs    map[string][]*runner.DocResult // ended documents by path
	closed  bool
}

func newCollector() collector {
	return collector{now: time.Now, known: map[string]bool{}, started: map[string]time.Time{}, docs: map[string][]*runner.DocResult{}}
}

// add notes path in the order; callers lock.
func (c *collector) add(path string) {
	if !c.known[path] {
		c.known[path] = true
		c.order = append(c.order, path)
	}
}

// Begin declares the documents in argument order, so that they come in
// that order however parallel runs interleave.
func (c *collector) Begin(paths []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range paths {
		c.add(p)
	}
}

// StartDoc implements runner.Reporter.
func (c *collector) StartDoc(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.add(path)
	c.started[path] = c.now()
}

// Step implements runner.Reporter; steps are taken from the
// runner.DocResult at EndDoc.
func (c *collector) Step(string, *runner.StepResult) {}

// EndDoc implements runner.Reporter.
func (c *collector) EndDoc(r *runner.DocResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.add(r.Path)
	if _, seen := c.started[r.Path]; !seen {
		c.started[r.Path] = c.now()
	}
	c.docs[r.Path] = append(c.docs[r.Path], r)
}

// close marks the report closed and reports whether it was open (a
// second Close writes nothing); callers lock.
func (c *collector) close() bool {
	open := !c.closed
	c.closed = true
	return open
}
