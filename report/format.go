package report

import (
	"io"

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

// docOrder is the order of the documents of a report written at Close:
// Begin's, then those not planned as they start. Callers lock.
type docOrder struct {
	order []string
	known map[string]bool
}

func (o *docOrder) add(path string) {
	if o.known == nil {
		o.known = map[string]bool{}
	}
	if !o.known[path] {
		o.known[path] = true
		o.order = append(o.order, path)
	}
}
