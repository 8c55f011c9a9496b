package main

import (
	"io"
	"os"

	"github.com/wordish-go/wordish/runner"
)

// reportFiles are the report files asked for, by format name
// (runner.ReportFormats): --json FILE is reportFiles{"json": FILE}. A
// format given "" is not written.
type reportFiles map[string]string

// reportFlag is the flag.Value of one format's --NAME FILE.
type reportFlag struct {
	files *reportFiles
	name  string
}

func (r reportFlag) String() string {
	if r.files == nil {
		return ""
	}
	return (*r.files)[r.name]
}

func (r reportFlag) Set(v string) error {
	if *r.files == nil {
		*r.files = reportFiles{}
	}
	(*r.files)[r.name] = v
	return nil
}

// check refuses, before anything runs, a report FILE that would
// overwrite an article: the format's own Check, or checkReportOut.
func (rf reportFiles) check(docs []string) error {
	for _, f := range runner.ReportFormats {
		out := rf[f.Name]
		if out == "" {
			continue
		}
		check := f.Check
		if check == nil {
			check = func(out string, docs []string) error { return checkReportOut(f.Name, out, docs) }
		}
		if err := check(out, docs); err != nil {
			return err
		}
	}
	return nil
}

// open creates the report files and their reporters, begun with the
// documents. textOut is where the text report goes: stdout, or nowhere
// when a format that may have standard output to itself has it (the
// reader of --json - renders the steps; a text report beside it would
// show every step twice). closers end each report, then close its file.
func (rf reportFiles) open(docs []string, stdout io.Writer) (reps []runner.Reporter, textOut io.Writer, closers []func() error, err error) {
	textOut = stdout
	var opened []*os.File // closed again if a later one fails
	for _, f := range runner.ReportFormats {
		out := rf[f.Name]
		if out == "" {
			continue
		}
		w := stdout
		var closeFile func() error
		if out == "-" && f.Stdout {
			textOut = io.Discard
		} else {
			fh, err := os.Create(out)
			if err != nil {
				for _, fh := range opened {
					fh.Close()
				}
				return nil, nil, nil, err
			}
			w, closeFile = fh, fh.Close
			opened = append(opened, fh)
		}
		r := f.New(w)
		r.Begin(docs)
		reps = append(reps, r)
		closers = append(closers, r.Close)
		if closeFile != nil {
			closers = append(closers, closeFile)
		}
	}
	return reps, textOut, closers, nil
}
