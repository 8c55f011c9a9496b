package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

// The text report. Layout (no colour, not verbose; see fixtures/*.golden):
//
//	FAIL fixtures/fail.md:7: $ echo hello world
//	    --- expected
//	    +++ actual
//	    @@ -1 +1 @@
//	    -hello wordl
//	    +hello world
//	FAIL fixtures/fail.md: 2 passed, 1 failed, 0 errored, 0 skipped, 0 not run
//	ERROR fixtures/error.md:6: $ ls /no/such/dir
//	    exit status 2, expected 0
//	    output:
//	    | ls: cannot access '/no/such/dir': No such file or directory
//	    not run:
//	    fixtures/error.md:7: $ echo two
//	FAIL fixtures/error.md: 1 passed, 0 failed, 1 errored, 0 skipped, 1 not run
//	3 passed, 1 failed, 1 errored, 0 skipped, 1 not run
//
// A failure whose expected text was compared with standard output alone
// also lists standard error under "stderr (not compared):" (and standard
// output under "stdout (not compared):" with the stderr option). Outputs
// of errored steps are cut to their last 40 lines. A not-run list that
// follows no error (a signal before the document started) is headed
// "NOT RUN (reason):".
// Diffs are unified diffs of the expected output against the actual one
// after the matching rules (blank edge lines and common indentation
// removed); a "..." line shows as context, followed by the actual lines it
// matched behind "~"; invisible characters are shown as runner.Visible does.
// Every step that did not pass gets a line "LABEL file:line: $ command"
// (continuation lines of the command follow as "    > ..."), with the
// details indented by four spaces; cleanup steps run at the end are shown
// whatever their outcome. Each document ends with a line "ok|FAIL path:
// counts", and the report with the totals, which is always its last line;
// the totals add "; N documents unreadable" when documents could not be
// read or parsed. When more than one document was reported and something
// went wrong, a recap of every failed or errored step (its file:line,
// command and the first lines of its diff or its reason) and of every
// unreadable document comes before the totals, headed "Failures:", so a
// long CI log ends with what needs fixing. -q (Quiet) leaves out the
// "ok" lines of documents that passed, the cleanup steps that passed and
// the recap: only what went wrong, and the totals.
// -v adds PASS and SKIP lines and the document's duration; without -v the
// report holds no timing, so it can be compared with golden files.
//
// Documents run in parallel are printed whole and in argument order: the
// first unfinished document streams, the others are buffered until their
// turn. On a terminal a progress line is drawn (and erased before any
// other output): "[N/TOTAL] file:line: $ command (3.2s)", the step
// running (the one running longest, with -j), its number among the steps
// started and its time so far, redrawn while it runs. Colours are used
// only when asked (the caller decides, from --color, NO_COLOR,
// FORCE_COLOR and the terminal).

// TextOptions tune the text report.
type TextOptions struct {
	Verbose  bool `json:"verbose,omitempty"`  // show passing and skipped steps and durations
	Quiet    bool `json:"quiet,omitempty"`    // only what went wrong, and the totals (no recap)
	Color    bool `json:"color,omitempty"`    // ANSI colours
	Progress bool `json:"progress,omitempty"` // draw a progress line (only on a terminal)
	Total    int  `json:"-"`                  // steps the run will start, for the progress line (0 = unknown; wordish.Run counts them)
}

// TextReporter writes the human-readable report. It is safe for
// concurrent use by several documents.
type TextReporter struct {
	mu     sync.Mutex
	w      io.Writer
	opt    TextOptions
	docs   []*textDoc // in argument order
	live   int        // index of the document that streams to w
	totals runner.Counts
	bad    int // documents that could not be read or parsed
	ended  int // documents ended

	started       int                    // steps started, for the progress line
	running       map[string]runningStep // by document
	progressShown bool
	ticker        *time.Ticker
	stop          chan struct{}
}

// runningStep is a step whose command runs.
type runningStep struct {
	step  *parser.Step
	since time.Time
}

// progressEvery is how often the progress line is redrawn while a step
// runs, so its time goes on.
const progressEvery = 200 * time.Millisecond

type textDoc struct {
	path       string
	started    bool
	ended      bool
	buf        bytes.Buffer
	notRun     bool // the last line printed belongs to a not-run list
	afterError bool // the last step printed errored
	counts     runner.Counts
	recap      bytes.Buffer // its part of the recap
}

// NewTextReporter returns a text reporter writing to w.
func NewTextReporter(w io.Writer, opt TextOptions) *TextReporter {
	return &TextReporter{w: w, opt: opt, running: map[string]runningStep{}}
}

// StartStep implements runner.StepStarter: the progress line shows the
// step from now on.
func (t *TextReporter) StartStep(path string, s *parser.Step) {
	if !t.opt.Progress {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.started++
	t.running[path] = runningStep{s, time.Now()}
	if t.ticker == nil && t.stop == nil {
		t.ticker = time.NewTicker(progressEvery)
		t.stop = make(chan struct{})
		go t.tick(t.ticker, t.stop)
	}
	t.drawProgress()
}

func (t *TextReporter) tick(tk *time.Ticker, stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-tk.C:
			t.mu.Lock()
			t.drawProgress()
			t.mu.Unlock()
		}
	}
}

// Begin declares the documents in argument order, so that parallel runs
// print in that order; documents not planned print in the order they
// start.
func (t *TextReporter) Begin(paths []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range paths {
		t.docs = append(t.docs, &textDoc{path: p})
	}
}

// doc finds the state of a document: for StartDoc the first planned
// occurrence of the path not started yet, otherwise the started one not
// ended yet (a path given twice is matched to its occurrences in turn).
func (t *TextReporter) doc(path string, start bool) *textDoc {
	for _, d := range t.docs {
		if d.path == path && !d.ended && d.started != start {
			return d
		}
	}
	if !start { // Step or EndDoc without StartDoc
		for _, d := range t.docs {
			if d.path == path && !d.ended {
				return d
			}
		}
	}
	d := &textDoc{path: path}
	t.docs = append(t.docs, d)
	return d
}

// StartDoc implements runner.Reporter.
func (t *TextReporter) StartDoc(path string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.doc(path, true).started = true
}

// Step implements runner.Reporter.
func (t *TextReporter) Step(path string, r *runner.StepResult) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.doc(path, false)
	d.started = true
	d.counts.Add(r.Outcome)
	t.totals.Add(r.Outcome)
	if cur, ok := t.running[path]; ok && cur.step == r.Step {
		delete(t.running, path)
	}
	t.formatStep(d, r)
	if !t.opt.Quiet && (r.Outcome == runner.Failed || r.Outcome == runner.Errored) {
		t.recapStep(d, r)
	}
	t.flush()
	t.drawProgress()
}

// EndDoc implements runner.Reporter.
func (t *TextReporter) EndDoc(r *runner.DocResult) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.doc(r.Path, false)
	d.started = true
	d.notRun = false
	delete(t.running, r.Path)
	t.ended++
	c := r.Counts()
	switch {
	case r.Err != nil:
		t.bad++
		fmt.Fprintf(&d.buf, "%s %s\n", t.paint(red, "FAIL"), r.Err)
		if !t.opt.Quiet {
			fmt.Fprintf(&d.recap, "%s %s\n", t.paint(red, "FAIL"), r.Err)
		}
	case t.opt.Quiet && c.OK():
		// nothing to say
	default:
		label := t.paint(green, "ok  ")
		switch {
		case !c.OK():
			label = t.paint(red, "FAIL")
		case c.NotRun > 0:
			// Interrupted: nothing failed, but not all was checked.
			label = t.paint(yellow, "stop")
		}
		fmt.Fprintf(&d.buf, "%s %s: %s", label, r.Path, c)
		if t.opt.Verbose {
			fmt.Fprintf(&d.buf, " (%s)", r.Duration.Round(time.Millisecond))
		}
		d.buf.WriteByte('\n')
	}
	d.ended = true
	t.flush()
	t.drawProgress()
}

// Totals returns the counts over every step reported so far.
func (t *TextReporter) Totals() runner.Counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.totals
}

// Unreadable returns the number of documents reported as unreadable or
// unparsable so far.
func (t *TextReporter) Unreadable() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.bad
}

// Finish prints whatever is still buffered, the recap and the summary
// line, which is the last line of the report.
func (t *TextReporter) Finish() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stop != nil {
		t.ticker.Stop()
		close(t.stop)
	}
	t.opt.Progress = false // for good: nothing follows the summary
	t.clearProgress()
	for _, d := range t.docs {
		if d.buf.Len() > 0 {
			t.w.Write(d.buf.Bytes())
			d.buf.Reset()
		}
	}
	var recap bytes.Buffer // in document order, as the report
	for _, d := range t.docs {
		recap.Write(d.recap.Bytes())
	}
	if t.ended > 1 && recap.Len() > 0 {
		fmt.Fprintf(t.w, "\n%s\n", t.paint(bold, "Failures:"))
		t.w.Write(recap.Bytes())
	}
	fmt.Fprintln(t.w, summaryLine(t.totals, t.bad))
}

// Close is Finish, for FileReporter; it cannot fail (write errors on
// the terminal are not the report's to return).
func (t *TextReporter) Close() error {
	t.Finish()
	return nil
}

// summaryLine is the last line of the text report: the step counts and, when
// there are any, the documents that could not be read or parsed.
func summaryLine(c runner.Counts, unreadable int) string {
	switch unreadable {
	case 0:
		return c.String()
	case 1:
		return c.String() + "; 1 document unreadable"
	}
	return fmt.Sprintf("%s; %d documents unreadable", c, unreadable)
}

// recapLines bounds the diff lines a failure shows in the recap: enough
// to recognise it, the whole is above.
const recapLines = 6

// recapStep adds a failed or errored step to the recap.
func (t *TextReporter) recapStep(d *textDoc, r *runner.StepResult) {
	b := &d.recap
	label := t.paint(red, "FAIL")
	if r.Outcome == runner.Errored {
		label = t.paint(red+";"+bold, "ERROR")
	}
	fmt.Fprintf(b, "%s %s\n", label, t.where(r))
	var lines []string
	switch {
	case r.Outcome == runner.Errored:
		reason := r.Reason
		if reason == "" {
			reason = fmt.Sprintf("exit status %d", r.Status)
		}
		lines = []string{reason}
	case r.Diff != "":
		for _, l := range strings.Split(strings.TrimSuffix(r.Diff, "\n"), "\n") {
			if !strings.HasPrefix(l, "--- ") && !strings.HasPrefix(l, "+++ ") && l != "---" && l != "+++" {
				lines = append(lines, l)
			}
		}
	case r.Reason != "":
		lines = []string{r.Reason}
	}
	if len(lines) > recapLines {
		more := len(lines) - recapLines + 1
		lines = append(lines[:recapLines-1], fmt.Sprintf("… %d more lines", more))
	}
	for _, l := range lines {
		b.WriteString(strings.TrimRight(indent+runner.Visible(l), " ") + "\n")
	}
}

// flush writes out the live document's output and moves on to the next
// documents while they are finished.
func (t *TextReporter) flush() {
	for t.live < len(t.docs) {
		d := t.docs[t.live]
		if d.buf.Len() > 0 {
			t.clearProgress()
			t.w.Write(d.buf.Bytes())
			d.buf.Reset()
		}
		if !d.ended {
			return
		}
		t.live++
	}
}

// ---- progress line ------------------------------------------------------

// progressWidth bounds the progress line, so it never wraps on an
// 80-column terminal (a wrapped line cannot be erased).
const progressWidth = 79

// drawProgress draws the progress line for the step running longest, or
// erases it when no step runs.
func (t *TextReporter) drawProgress() {
	if !t.opt.Progress {
		return
	}
	var cur runningStep
	for _, r := range t.running {
		if cur.step == nil || r.since.Before(cur.since) {
			cur = r
		}
	}
	if cur.step == nil {
		t.clearProgress()
		return
	}
	t.clearProgress()
	io.WriteString(t.w, progressLine(t.started, t.opt.Total, cur.step, time.Since(cur.since)))
	t.progressShown = true
}

// progressLine is "[N/TOTAL] file:line: $ command (elapsed)", the command's
// first line only, cut to progressWidth.
func progressLine(n, total int, s *parser.Step, elapsed time.Duration) string {
	count := fmt.Sprintf("[%d]", n)
	if total > 0 {
		count = fmt.Sprintf("[%d/%d]", n, total)
	}
	cmd, _, multi := strings.Cut(s.Command, "\n")
	if multi {
		cmd += " …"
	}
	prompt := "$ "
	if s.Root {
		prompt = "# "
	}
	tail := fmt.Sprintf(" (%.1fs)", elapsed.Seconds())
	line := fmt.Sprintf("%s %s:%d: %s%s", count, s.File, s.Line, prompt, runner.Visible(cmd))
	if r := []rune(line); len(r)+len(tail) > progressWidth {
		line = string(r[:max(0, progressWidth-len(tail)-1)]) + "…"
	}
	return line + tail
}

func (t *TextReporter) clearProgress() {
	if t.progressShown {
		io.WriteString(t.w, "\r\x1b[K")
		t.progressShown = false
	}
}

// ---- step formatting ----------------------------------------------------

const (
	red    = "31"
	green  = "32"
	yellow = "33"
	cyan   = "36"
	bold   = "1"
)

func (t *TextReporter) paint(color, s string) string {
	if !t.opt.Color || s == "" {
		return s
	}
	return "\x1b[" + color + "m" + s + "\x1b[0m"
}

const indent = "    "

// maxOutputLines bounds the output shown for an errored step: its end is
// what explains the error.
const maxOutputLines = 40

func (t *TextReporter) formatStep(d *textDoc, r *runner.StepResult) {
	b := &d.buf
	if r.Outcome == runner.NotRun {
		if !d.notRun {
			if d.afterError {
				b.WriteString(indent + "not run:\n")
			} else { // not under an error: say why
				reason := r.Reason
				if reason == "" {
					reason = "an earlier step errored"
				}
				fmt.Fprintf(b, "%s (%s):\n", t.paint(yellow, "NOT RUN"), reason)
			}
			d.notRun = true
		}
		b.WriteString(indent + t.where(r) + "\n")
		return
	}
	var label string
	switch r.Outcome {
	case runner.Passed:
		if !t.opt.Verbose && (!r.Deferred || t.opt.Quiet) {
			return
		}
		label = t.paint(green, "PASS")
	case runner.Skipped:
		if !t.opt.Verbose {
			return
		}
		label = t.paint(yellow, "SKIP")
	case runner.Failed:
		label = t.paint(red, "FAIL")
	case runner.Errored:
		label = t.paint(red+";"+bold, "ERROR")
	}
	d.notRun = false
	d.afterError = r.Outcome == runner.Errored
	fmt.Fprintf(b, "%s %s", label, t.where(r))
	if r.Deferred {
		b.WriteString(indent + "(cleanup, run at the end)")
	}
	if t.opt.Verbose && r.Outcome != runner.Skipped {
		fmt.Fprintf(b, " (%s)", r.Duration.Round(100*time.Microsecond))
	}
	b.WriteByte('\n')
	switch r.Outcome {
	case runner.Failed:
		t.formatDiff(b, r)
		t.formatApart(b, r)
	case runner.Errored:
		reason := r.Reason
		if reason == "" {
			reason = fmt.Sprintf("exit status %d", r.Status)
		}
		b.WriteString(indent + reason + "\n")
		t.formatOutput(b, "output", r.Merged)
	}
}

// where is "file:line: $ command", continuation lines as "    > line".
func (t *TextReporter) where(r *runner.StepResult) string {
	s := r.Step
	if s == nil {
		return "?"
	}
	prompt := "$ "
	if s.Root {
		prompt = "# "
	}
	cmd := strings.ReplaceAll(strings.TrimRight(s.Command, "\n"), "\n", "\n"+indent+"> ")
	return fmt.Sprintf("%s:%d: %s%s", s.File, s.Line, prompt, cmd)
}

func (t *TextReporter) formatDiff(b *bytes.Buffer, r *runner.StepResult) {
	if r.Diff == "" {
		if r.Reason != "" {
			b.WriteString(indent + r.Reason + "\n")
		}
		return
	}
	for _, line := range strings.SplitAfter(strings.TrimSuffix(r.Diff, "\n"), "\n") {
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, "---"), strings.HasPrefix(line, "+++"):
			line = t.paint(bold, line)
		case strings.HasPrefix(line, "@@"):
			line = t.paint(cyan, line)
		case strings.HasPrefix(line, "-"):
			line = t.paint(red, line)
		case strings.HasPrefix(line, "+"):
			line = t.paint(green, line)
		}
		b.WriteString(indent + line + "\n")
	}
}

// formatApart shows the stream that was not part of the comparison, when
// it has something: standard error when the expected text was matched
// against standard output alone, standard output with the stderr option.
func (t *TextReporter) formatApart(b *bytes.Buffer, r *runner.StepResult) {
	if r.Step == nil || r.Step.Options.IgnoreOutput {
		return
	}
	switch {
	case r.Step.Options.Stderr:
		t.formatOutput(b, "stdout (not compared)", r.Stdout)
	case r.Actual == r.Stdout && r.Merged != r.Stdout:
		t.formatOutput(b, "stderr (not compared)", r.Stderr)
	}
}

// formatOutput prints text under a title, each line behind "| " with
// invisible characters made visible; empty text prints "(no output)" for
// the main output and nothing for a side stream.
func (t *TextReporter) formatOutput(b *bytes.Buffer, title, text string) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if strings.TrimSpace(text) == "" {
		if title == "output" {
			b.WriteString(indent + "(no output)\n")
		}
		return
	}
	b.WriteString(indent + title + ":\n")
	if len(lines) > maxOutputLines {
		fmt.Fprintf(b, "%s| … %d lines before\n", indent, len(lines)-maxOutputLines)
		lines = lines[len(lines)-maxOutputLines:]
	}
	for _, l := range lines {
		b.WriteString(strings.TrimRight(indent+"| "+runner.Visible(l), " ") + "\n")
	}
}
