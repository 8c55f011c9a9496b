package report

// For the main runner engineer: NewJSONReporter returns a *JSONReporter,
// which is a runner.Reporter; call its Close method once after the last document
// has ended (also after an interrupt), because the final package-level
// pass/fail event, which `go test -json` consumers wait for, is only
// written there. Its methods are safe for concurrent use.

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wordish-go/wordish/runner"
)

// jsonPackage is the Package field of every event of the JSON report; the
// consumers of `go test -json` group tests by package.
const jsonPackage = "wordish"

// JSONReporter writes results as a `go test -json` event stream (the
// format of cmd/test2json), so that gotestsum, go-junit-report, IDEs and
// CI systems that read Go test output take them unchanged. Each document
// is a test named after its path as given; each step a subtest named
// runner.StepName, i.e. "docs/a.md/L12_echo_hi". Passed steps pass, failed and
// errored steps fail with the runner.Detail as their output, skipped and not-run
// steps are skipped. The event sequence (actions, "=== RUN" and "--- PASS"
// framing lines, indentation of messages, the final "ok"/"FAIL" package
// lines) is that of a real `go test -json` run; a test in json_test.go
// compares the two.
//
// The events of one document are held back until the document ends and
// then written together, so that documents replayed in parallel (-j) do
// not interleave in the stream: a reader of the raw stream, or a tool
// that prints outputs as they come, sees each document whole.
//
// A document in a directory, "docs/a.md", has a "/" in its test name,
// and test2json readers take what comes before the first "/" as the
// top-level test (a `go test` top-level test never holds a "/"):
// gotestsum 1.13 crashes on a failing step of "docs/a.md" unless a test
// "docs" ran and ended. So each such first path element is a test of its
// own, run before the first document under it and ended, failed if one
// of them failed, just before the package's result.
type JSONReporter struct {
	mu      sync.Mutex
	enc     *json.Encoder
	now     func() time.Time
	start   time.Time
	started bool
	failed  bool
	closed  bool
	err     error                    // first write error
	docs    map[string]*jsonDocState // documents in flight, by path
	dirs    map[string]*jsonDirState // first path elements, for the readers (see above)
	dirList []string                 // in the order they started
	cur     *jsonDocState            // the document whose events are being emitted
}

type jsonDocState struct {
	start  time.Time
	failed bool
	held   []jsonEvent // its events so far, written at EndDoc
}

// jsonEvent is test2json's event; field order and omission follow it.
type jsonEvent struct {
	Time    time.Time
	Action  string
	Package string
	Test    string   `json:",omitempty"`
	Elapsed *float64 `json:",omitempty"`
	Output  *string  `json:",omitempty"`
}

// NewJSONReporter returns a reporter writing the event stream to w. Call
// Close after the last document.
func NewJSONReporter(w io.Writer) *JSONReporter {
	// The encoder's defaults are test2json's (json.Marshal): one event a
	// line, <, > and & escaped as \u003c, \u003e, \u0026.
	return &JSONReporter{enc: json.NewEncoder(w), now: time.Now, docs: map[string]*jsonDocState{}, dirs: map[string]*jsonDirState{}}
}

// Begin implements FileReporter: test2json has no plan, events come in
// the order they happen.
func (j *JSONReporter) Begin([]string) {}

// jsonDirState is the test of a first path element.
type jsonDirState struct {
	start  time.Time
	failed bool
}

// dir starts the test of path's first element when it has one and it has
// not started yet, and returns its state (nil for none); called with no
// document's events held.
func (j *JSONReporter) dir(path string) *jsonDirState {
	name, _, ok := strings.Cut(path, "/")
	if !ok || name == "" {
		return nil
	}
	if d := j.dirs[name]; d != nil {
		return d
	}
	held := j.cur
	j.cur = nil
	defer func() { j.cur = held }()
	d := &jsonDirState{start: j.now()}
	j.dirs[name] = d
	j.dirList = append(j.dirList, name)
	j.emit("run", name, nil, nil)
	j.output(name, "=== RUN   "+name+"\n")
	return d
}

// emit writes one event; callers hold j.mu.
func (j *JSONReporter) emit(action, test string, elapsed *float64, output *string) {
	j.begin()
	e := jsonEvent{Time: j.now(), Action: action, Package: jsonPackage, Test: test, Elapsed: elapsed, Output: output}
	if j.cur != nil {
		j.cur.held = append(j.cur.held, e)
		return
	}
	j.write(e)
}

// flush writes the events held for doc.
func (j *JSONReporter) flush(doc *jsonDocState) {
	for _, e := range doc.held {
		j.write(e)
	}
	doc.held = nil
}

// begin writes the package's "start" event, which opens every
// `go test -json` stream, unless it was written already.
func (j *JSONReporter) begin() {
	if !j.started {
		j.started = true
		j.start = j.now()
		j.write(jsonEvent{Time: j.start, Action: "start", Package: jsonPackage})
	}
}

func (j *JSONReporter) write(e jsonEvent) {
	if j.err != nil {
		return
	}
	j.err = j.enc.Encode(e)
}

// output emits text as output events of test, one per line as test2json
// does.
func (j *JSONReporter) output(test, text string) {
	for text != "" {
		line, rest, _ := strings.Cut(text, "\n")
		line += "\n"
		j.emit("output", test, nil, &line)
		text = rest
	}
}

// testMessage formats a multi-line message the way testing.T.Error prints it
// under -v: the first line indented by four spaces after "where: ", the
// others by eight.
func testMessage(where, msg string) string {
	lines := strings.Split(msg, "\n")
	var b strings.Builder
	b.WriteString("    " + where + ": " + lines[0] + "\n")
	for _, l := range lines[1:] {
		b.WriteString("        " + l + "\n")
	}
	return b.String()
}

// roundSeconds rounds d as the "--- PASS: name (0.00s)" line shows it, which is
// also what test2json puts in Elapsed.
func roundSeconds(d time.Duration, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(d.Seconds()*p) / p
}

// end emits the closing framing line and event of a test.
func (j *JSONReporter) end(test, action string, d time.Duration) {
	word := map[string]string{"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}[action]
	j.output(test, fmt.Sprintf("--- %s: %s (%.2fs)\n", word, test, d.Seconds()))
	el := roundSeconds(d, 2)
	j.emit(action, test, &el, nil)
}

// StartDoc implements runner.Reporter.
func (j *JSONReporter) StartDoc(path string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.begin()
	j.dir(path)
	j.cur = &jsonDocState{start: j.now()}
	defer func() { j.cur = nil }()
	j.docs[path] = j.cur
	j.emit("run", path, nil, nil)
	j.output(path, "=== RUN   "+path+"\n")
}

// Step implements runner.Reporter.
func (j *JSONReporter) Step(path string, r *runner.StepResult) {
	j.mu.Lock()
	defer j.mu.Unlock()
	doc := j.docs[path]
	if doc == nil { // a Step without StartDoc: report it all the same
		j.dir(path)
		doc = &jsonDocState{start: j.now()}
		j.docs[path] = doc
	}
	j.cur = doc
	defer func() { j.cur = nil }()
	test := path + "/" + runner.StepName(r.Step)
	j.emit("run", test, nil, nil)
	j.output(test, "=== RUN   "+test+"\n")
	where := fmt.Sprintf("%s:%d", path, r.Step.Line)
	action := "pass"
	switch r.Outcome {
	case runner.Failed, runner.Errored:
		action = "fail"
		doc.failed = true
		j.output(test, testMessage(where, runner.Detail(r)))
	case runner.Skipped, runner.NotRun:
		action = "skip"
		j.output(test, testMessage(where, runner.SkipReason(r)))
	}
	j.end(test, action, r.Duration)
}

// EndDoc implements runner.Reporter.
func (j *JSONReporter) EndDoc(r *runner.DocResult) {
	j.mu.Lock()
	defer j.mu.Unlock()
	doc := j.docs[r.Path]
	delete(j.docs, r.Path)
	if doc == nil {
		j.dir(r.Path)
		doc = &jsonDocState{start: j.now()}
		j.cur = doc
		j.emit("run", r.Path, nil, nil)
		j.output(r.Path, "=== RUN   "+r.Path+"\n")
	}
	j.cur = doc
	if r.Err != nil {
		doc.failed = true
		msg := r.Err.Error()
		// The error usually starts with the path already ("FILE:LINE: ...").
		if strings.HasPrefix(msg, r.Path) {
			j.output(r.Path, "    "+msg+"\n")
		} else {
			j.output(r.Path, testMessage(r.Path, msg))
		}
	}
	if !r.Counts().OK() {
		doc.failed = true
	}
	action := "pass"
	if doc.failed {
		action = "fail"
		j.failed = true
		if d := j.dir(r.Path); d != nil {
			d.failed = true
		}
	}
	d := r.Duration
	if d == 0 {
		d = j.now().Sub(doc.start)
	}
	j.end(r.Path, action, d)
	j.cur = nil
	j.flush(doc)
}

// Close writes the package-level result that ends a `go test -json`
// stream and returns the first error writing the stream met. Documents
// still in flight (an interrupted run) count as failed.
func (j *JSONReporter) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return j.err
	}
	j.closed = true
	if len(j.docs) > 0 {
		// Documents that never ended (an interrupted run): what they did
		// so far, then the package fails.
		j.failed = true
		paths := make([]string, 0, len(j.docs))
		for p := range j.docs {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			j.flush(j.docs[p])
		}
	}
	j.begin()
	for _, name := range j.dirList {
		action := "pass"
		if j.dirs[name].failed || len(j.docs) > 0 {
			action = "fail"
		}
		j.end(name, action, j.now().Sub(j.dirs[name].start))
	}
	d := j.now().Sub(j.start)
	verdict, line := "pass", fmt.Sprintf("ok  \t%s\t%.3fs\n", jsonPackage, d.Seconds())
	if j.failed {
		verdict, line = "fail", fmt.Sprintf("FAIL\t%s\t%.3fs\n", jsonPackage, d.Seconds())
	}
	j.output("", strings.ToUpper(verdict)+"\n")
	j.output("", line)
	el := roundSeconds(d, 3)
	j.emit(verdict, "", &el, nil)
	return j.err
}
