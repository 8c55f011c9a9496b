package report

// For the main runner engineer: NewJUnitReporter(w) returns a
// *JUnitReporter, which is a runner.Reporter that only collects; the XML is
// written to w by its Close method, to call once after the last document
// has ended (also after an interrupt). For `--junit FILE`, create FILE,
// pass it as w, and close the file after Close. Safe for concurrent use.

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"

	"github.com/wordish-go/wordish/runner"
)

// JUnitReporter collects results and writes them as JUnit XML, the format
// Jenkins, GitLab, GitHub Actions test summaries and most CI systems read:
// a <testsuite> per document (named after its path as given) and a
// <testcase> per step (named runner.StepName, classname the path, with file and
// line attributes). A failed step has a <failure> holding the runner.Detail (the
// command and the diff); an errored one an <error> with the reason as
// message and the command and output as text; skipped and not-run steps a
// <skipped>. An unreadable document is a suite with one errored testcase
// named "document". Suites come in the order of Begin, else in the order
// their documents started.
type JUnitReporter struct {
	collector
	w io.Writer
}

// NewJUnitReporter returns a reporter that writes JUnit XML to w on Close.
func NewJUnitReporter(w io.Writer) *JUnitReporter {
	return &JUnitReporter{collector: newCollector(), w: w}
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	File      string      `xml:"file,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr"`
	Line      int           `xml:"line,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitProblem `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
	SystemErr string        `xml:"system-err,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func junitTime(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func (j *JUnitReporter) suite(r *runner.DocResult, start time.Time) junitSuite {
	s := junitSuite{Name: r.Path, File: r.Path, Time: junitTime(r.Duration),
		Timestamp: start.UTC().Format("2006-01-02T15:04:05")}
	if r.Err != nil {
		s.Tests, s.Errors = 1, 1
		s.Cases = append(s.Cases, junitCase{Name: "document", Classname: r.Path, File: r.Path,
			Time: junitTime(0), Error: &junitProblem{Message: r.Err.Error(), Type: "unreadable"}})
	}
	for _, st := range r.Steps {
		c := junitCase{Name: runner.StepName(st.Step), Classname: r.Path, File: r.Path,
			Line: st.Step.Line, Time: junitTime(st.Duration)}
		s.Tests++
		switch st.Outcome {
		case runner.Failed:
			s.Failures++
			c.Failure = &junitProblem{Message: "output differs", Type: "failed", Text: runner.Detail(st)}
		case runner.Errored:
			s.Errors++
			reason := st.Reason
			if reason == "" {
				reason = fmt.Sprintf("exit status %d", st.Status)
			}
			c.Error = &junitProblem{Message: reason, Type: "errored", Text: runner.Detail(st)}
		case runner.Skipped, runner.NotRun:
			s.Skipped++
			c.Skipped = &junitProblem{Message: runner.SkipReason(st)}
		}
		if st.Outcome == runner.Failed && st.Stderr != "" {
			// Standard error shown apart, as the text report does.
			c.SystemErr = st.Stderr
		}
		s.Cases = append(s.Cases, c)
	}
	return s
}

// Close writes the XML document and returns the write error, if any.
// Documents started but never ended (an interrupted run) are written as
// suites with what is known of them: nothing but their name.
func (j *JUnitReporter) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.close() {
		return nil
	}
	all := junitSuites{Name: "wordish"}
	var total time.Duration
	for _, path := range j.order {
		rs := j.docs[path]
		if len(rs) == 0 {
			rs = []*runner.DocResult{{Path: path, Err: fmt.Errorf("%s: interrupted before the document ended", path)}}
		}
		for _, r := range rs {
			s := j.suite(r, j.started[path])
			all.Tests += s.Tests
			all.Failures += s.Failures
			all.Errors += s.Errors
			all.Skipped += s.Skipped
			total += r.Duration
			all.Suites = append(all.Suites, s)
		}
	}
	all.Time = junitTime(total)
	out, err := xml.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(j.w, "%s%s\n", xml.Header, out)
	return err
}
