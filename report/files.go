package report

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

// Options say which reports a run writes and how the text report looks.
// The zero value: the plain text report only.
type Options struct {
	TextOptions
	// Files are the file reports by format name (Formats): {"json":
	// "out.json"} is --json out.json. A FILE "-" is the run's standard
	// output, for the formats that allow it; "" writes nothing.
	Files map[string]string `json:"files,omitempty"`
}

// Check refuses, before anything runs, a report file that would
// overwrite an article: one of docs (the paths of the run's documents),
// or what the format's own Check refuses (by default, an existing file
// with the extension of an article).
func Check(files map[string]string, docs []string) error {
	for _, f := range Formats {
		out := files[f.Name]
		if out == "" || out == "-" {
			continue
		}
		if isDocument(out, docs) {
			return fmt.Errorf("--%s %s: is one of the documents; the report would overwrite it", f.Name, out)
		}
		check := f.Check
		if check == nil {
			check = func(out string) error { return checkOut(f.Name, out) }
		}
		if err := check(out); err != nil {
			return err
		}
	}
	return nil
}

// isDocument reports whether out is one of docs, by name or as the same
// file.
func isDocument(out string, docs []string) bool {
	outInfo, statErr := os.Stat(out)
	for _, d := range docs {
		if filepath.Clean(d) == filepath.Clean(out) {
			return true
		}
		if statErr == nil {
			if di, err := os.Stat(d); err == nil && os.SameFile(di, outInfo) {
				return true
			}
		}
	}
	return false
}

// checkOut refuses an existing file with the extension of an article as
// the FILE of --NAME.
func checkOut(name, out string) error {
	if _, err := os.Stat(out); err != nil {
		return nil
	}
	if f, err := parser.FormatOf(out); err == nil {
		return fmt.Errorf("--%s %s: an existing file with the extension of an article (%s); the report would overwrite it (name it FILE.%s)", name, out, f, name)
	}
	return nil
}

// Open creates the file reports and their reporters, begun with docs.
// textOut is where the text report goes: stdout, or nowhere when a
// format that may have standard output to itself has it (the reader of
// --json - renders the steps; a text report beside it would show every
// step twice). closers end each report, then close its file.
func Open(files map[string]string, docs []string, stdout io.Writer) (reps []runner.Reporter, textOut io.Writer, closers []func() error, err error) {
	textOut = stdout
	var opened []*os.File // closed again if a later one fails
	for _, f := range Formats {
		out := files[f.Name]
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

// Multi sends every event to several reporters, one event at a time
// (the file reporters then see documents interleave only between
// events).
type Multi []runner.Reporter

var multiMu sync.Mutex

// StartDoc implements runner.Reporter.
func (m Multi) StartDoc(path string) {
	multiMu.Lock()
	defer multiMu.Unlock()
	for _, r := range m {
		r.StartDoc(path)
	}
}

// Step implements runner.Reporter.
func (m Multi) Step(path string, s *runner.StepResult) {
	multiMu.Lock()
	defer multiMu.Unlock()
	for _, r := range m {
		r.Step(path, s)
	}
}

// StartStep passes the news on to the reporters that want it (the text
// report's progress line); no lock: it only reaches StepStarters.
func (m Multi) StartStep(path string, s *parser.Step) {
	for _, r := range m {
		if st, ok := r.(runner.StepStarter); ok {
			st.StartStep(path, s)
		}
	}
}

// EndDoc implements runner.Reporter.
func (m Multi) EndDoc(d *runner.DocResult) {
	multiMu.Lock()
	defer multiMu.Unlock()
	for _, r := range m {
		r.EndDoc(d)
	}
}
