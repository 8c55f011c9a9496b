package runner

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/wordish-go/wordish/expect"
	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/session"
)

// geteuid is os.Geteuid, replaceable in tests.
var geteuid = os.Geteuid

// CheckRoot returns an error naming the first step written with a root
// prompt when wordish is not running as root: such a document is not
// replayed at all, rather than half-replayed up to a command that cannot
// work. Run does not check (wordish.Run does, for every document, before
// any runs).
func CheckRoot(doc *parser.Document) error {
	if geteuid() == 0 {
		return nil
	}
	for _, s := range doc.Steps() {
		if s.Root && !s.Options.Skip {
			return &parser.Error{File: s.File, Line: s.Line, Msg: fmt.Sprintf("this step has a root prompt %q but wordish is not running as root: "+
				"run it as root, or in the VM sandbox with --sandbox vm", strings.TrimSpace(s.Prompt))}
		}
	}
	return nil
}

// Run replays doc in a fresh session and judges every step, telling rep
// as it goes:
//
//   - steps run in order, consecutive runnable steps sent as one
//     session.RunBatch (the shell stops by itself at the first unexpected
//     status, so a batch costs no round trip per step);
//   - a step whose status does not fit its status= option (default 0),
//     that timed out, that ended the shell or was interrupted is errored;
//     the document then stops (unless KeepGoing and the shell is alive)
//     and the steps left are "not run", except cleanup steps, which are
//     run at the end (Deferred) in any case, in a new shell in the same
//     directory if the first one is gone;
//   - when ctx is cancelled (SIGINT, SIGTERM), the running command is
//     interrupted, and the document stops as after an error.
func Run(ctx context.Context, doc *parser.Document, opts Options, rep Reporter) *DocResult {
	r := &docRun{
		ctx:  ctx,
		opts: opts,
		rep:  rep,
		res:  &DocResult{Path: doc.Path, Doc: doc},
	}
	start := time.Now()
	rep.StartDoc(doc.Path)
	defer func() {
		r.res.Duration = time.Since(start)
		rep.EndDoc(r.res)
	}()
	r.steps = selectSteps(doc.Steps(), opts.Select)
	r.run()
	return r.res
}

type docRun struct {
	ctx   context.Context
	opts  Options
	rep   Reporter
	res   *DocResult
	steps []*parser.Step
	sess  *session.Session
	extra []*session.Session // shells started for cleanup after the first died
}

func (r *docRun) cfg() session.Config {
	return session.Config{
		Shell:   r.opts.Shell,
		Workdir: r.opts.Workdir,
		Keep:    r.opts.Keep,
		Env:     r.opts.Env,
		Timeout: r.timeout(),
	}
}

// Prestart starts, in the background, the session that the next
// document replayed with opts takes (session.Prestart): its start-up
// overlaps the document running meanwhile. DropSpare closes it.
func Prestart(opts Options) { session.Prestart((&docRun{opts: opts}).cfg()) }

// DropSpare closes the session Prestart started, if no document took it.
func DropSpare() { session.DropSpare() }

func (r *docRun) timeout() time.Duration {
	if r.opts.Timeout > 0 {
		return r.opts.Timeout
	}
	return DefaultTimeout
}

// DefaultTimeout is a command's time limit when neither Options.Timeout
// nor the step's timeout= option sets one (--timeout's default).
const DefaultTimeout = 60 * time.Second

// selectSteps drops the steps after the last selected one, except
// cleanup steps; without a selection it keeps every step.
func selectSteps(steps []*parser.Step, sel func(*parser.Step) bool) []*parser.Step {
	if sel == nil {
		return steps
	}
	last := -1
	for i, s := range steps {
		if sel(s) {
			last = i
		}
	}
	kept := steps[: last+1 : last+1]
	for _, s := range steps[last+1:] {
		if s.Options.Cleanup {
			kept = append(kept, s)
		}
	}
	return kept
}

func (r *docRun) record(sr *StepResult) {
	if sel := r.opts.Select; sel != nil && !sel(sr.Step) && sr.Outcome != Errored {
		return
	}
	r.res.Steps = append(r.res.Steps, sr)
	r.rep.Step(r.res.Path, sr)
}

func (r *docRun) run() {
	if len(r.steps) == 0 {
		return
	}
	if r.ctx.Err() != nil {
		r.bail(0, "interrupted before it started")
		return
	}
	sess, err := session.Start(r.cfg())
	if err != nil {
		// Reported on the first step that would have run, like any
		// other error that stops the document.
		i := 0
		for i < len(r.steps) && r.steps[i].Options.Skip {
			r.record(&StepResult{Step: r.steps[i], Outcome: Skipped})
			i++
		}
		if i < len(r.steps) {
			r.record(&StepResult{Step: r.steps[i], Outcome: Errored, Status: -1,
				Reason: "cannot start the shell: " + err.Error()})
			r.bail(i+1, "the shell did not start")
		}
		return
	}
	r.sess = sess
	defer func() {
		// Close the extra shells first: they run in the first one's
		// directory, which the first one's Close may remove.
		for _, s := range r.extra {
			s.Close()
		}
		r.sess.Close()
	}()
	if r.opts.Stepper != nil {
		r.stepwise() // step.go
		return
	}

	i := 0
	for i < len(r.steps) {
		if r.ctx.Err() != nil {
			r.bail(i, "interrupted")
			return
		}
		if s := r.steps[i]; s.Options.Skip {
			r.record(&StepResult{Step: s, Outcome: Skipped})
			i++
			continue
		}
		j := i
		for j < len(r.steps) && !r.steps[j].Options.Skip {
			j++
		}
		batch := r.steps[i:j]
		errored := false
		n := r.runBatch(r.sess, batch, true, func(k int, sr *StepResult) {
			if sr.Outcome == Errored {
				errored = true
			}
		})
		i += n
		switch {
		case n == 0:
			// Nothing ran: the shell is gone (it died between batches).
			sr := &StepResult{Step: r.steps[i], Outcome: Errored, Status: -1,
				Reason: "the shell is gone; the command could not be sent"}
			r.record(sr)
			r.bail(i+1, "the shell is gone")
			return
		case errored || n < len(batch):
			if r.ctx.Err() != nil {
				r.bail(i, "interrupted")
				return
			}
			if !r.sess.Alive() {
				r.bail(i, "the shell is gone")
				return
			}
			if !r.opts.KeepGoing {
				r.bail(i, "an earlier step errored")
				return
			}
		}
	}
}

// bail marks the steps from i on as not run (skip steps as skipped) and
// runs the cleanup steps among them.
func (r *docRun) bail(i int, why string) {
	var cleanup []*parser.Step
	for _, s := range r.steps[i:] {
		switch {
		case s.Options.Skip:
			r.record(&StepResult{Step: s, Outcome: Skipped})
		case s.Options.Cleanup && r.sess != nil:
			cleanup = append(cleanup, s)
		default:
			r.record(&StepResult{Step: s, Outcome: NotRun, Reason: why})
		}
	}
	r.cleanup(cleanup)
}

// cleanup runs the deferred cleanup steps, each once, going on after a
// failing one; they are not interrupted by ctx (it is already cancelled
// when they run after a signal).
func (r *docRun) cleanup(steps []*parser.Step) {
	sess := r.sess
	for len(steps) > 0 {
		if !sess.Alive() {
			cfg := r.cfg()
			cfg.Workdir = r.sess.Dir()
			cfg.Keep = true // the first session owns the directory
			s, err := session.Start(cfg)
			if err != nil {
				for _, st := range steps {
					r.record(&StepResult{Step: st, Outcome: Errored, Status: -1, Deferred: true,
						Reason: "cleanup not run: cannot start a new shell: " + err.Error()})
				}
				return
			}
			r.extra = append(r.extra, s)
			sess = s
		}
		n := r.runBatch(sess, steps, false, nil)
		if n == 0 && sess.Alive() {
			// Cannot happen with a live shell; never loop forever.
			for _, st := range steps {
				r.record(&StepResult{Step: st, Outcome: Errored, Status: -1, Deferred: true,
					Reason: "cleanup not run: the shell did not accept it"})
			}
			return
		}
		if n == 0 {
			// The new shell died at once; report and stop.
			r.record(&StepResult{Step: steps[0], Outcome: Errored, Status: -1, Deferred: true,
				Reason: "cleanup not run: the shell is gone"})
			n = 1
		}
		steps = steps[n:]
	}
}

// runBatch sends steps as one batch and judges every result as it
// arrives. With interruptible, a cancelled ctx interrupts the running
// command; Interrupt is repeated until the batch returns because it does
// nothing in the gap before the batch starts.
//
// A stale interrupt could still reach the next batch: Interrupt checks
// that a batch runs, then queues; if the batch ends in between, the
// queued interrupt stops the next batch unless it is started after the
// queueing and the session drains it — session.RunBatch drains it at its
// start, and waiting for the watcher here guarantees the queueing is over
// by then.
func (r *docRun) runBatch(sess *session.Session, steps []*parser.Step, interruptible bool, each func(int, *StepResult)) int {
	cmds := make([]session.Command, len(steps))
	for k, s := range steps {
		cmds[k] = command(s)
		cmds[k].Timeout = r.timeoutOf(s) // once: the session's limit is the judge's
	}
	done := make(chan struct{})
	watcher := make(chan struct{})
	if !interruptible {
		close(watcher)
	} else {
		go func() {
			defer close(watcher)
			select {
			case <-done:
				return
			case <-r.ctx.Done():
			}
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				sess.Interrupt()
				select {
				case <-done:
					return
				case <-t.C:
				}
			}
		}()
	}
	// The shell runs a batch's commands back to back: the next one
	// starts when the one before is judged.
	starter, _ := r.rep.(StepStarter)
	if starter != nil {
		starter.StartStep(r.res.Path, steps[0])
	}
	n := sess.RunBatch(cmds, func(k int, res session.Result) {
		sr := judge(steps[k], cmds[k], res, cmds[k].Timeout)
		sr.Deferred = !interruptible
		r.record(sr)
		if each != nil {
			each(k, sr)
		}
		if starter != nil && k+1 < len(steps) && sr.Outcome != Errored {
			starter.StartStep(r.res.Path, steps[k+1])
		}
	})
	close(done)
	// Wait for the watcher: an Interrupt still under way when the next
	// batch (the cleanup) starts would stop that batch instead.
	<-watcher
	return n
}

// timeoutOf is the time limit of s's command: its timeout= option, else
// the run's.
func (r *docRun) timeoutOf(s *parser.Step) time.Duration {
	if s.Options.Timeout > 0 {
		return s.Options.Timeout
	}
	return r.timeout()
}

// command maps a step to what the session runs.
func command(s *parser.Step) session.Command {
	return session.Command{Text: s.Command, Timeout: s.Options.Timeout, Input: s.Options.Input,
		Expect: s.Options.Status, Code: s.Options.StatusCode, Merged: s.Options.Merged}
}

// judge turns what one command did into a verdict on its step.
func judge(s *parser.Step, c session.Command, res session.Result, timeout time.Duration) *StepResult {
	sr := &StepResult{
		Step:     s,
		Status:   res.Status,
		Stdout:   normalize(res.Stdout),
		Duration: res.Duration,
	}
	sr.Stderr = normalize(res.Stderr)
	if len(res.Stderr) == 0 {
		sr.Merged = sr.Stdout
	} else {
		sr.Merged = normalize(res.Transcript)
	}
	switch {
	case res.Interrupted:
		sr.Outcome, sr.Reason = Errored, "interrupted"
	case res.TimedOut:
		sr.Outcome, sr.Reason = Errored, fmt.Sprintf("timed out after %s", timeout)
	case res.Exited:
		sr.Outcome, sr.Reason = Errored, fmt.Sprintf("the command ended the shell (exit status %d)", res.Status)
	case !c.Expected(res.Status):
		sr.Outcome, sr.Reason = Errored, fmt.Sprintf("exit status %d, expected %s", res.Status, expectation(c))
	}
	if sr.Outcome == Errored {
		return sr
	}
	judgeOutput(sr, Compile(s.Expected, s.Options), res.Merged)
	if sr.Outcome == Failed && res.Dropped > 0 {
		sr.Diff += fmt.Sprintf("(%d bytes of the output were dropped from its middle)\n", res.Dropped)
	}
	return sr
}

func expectation(c session.Command) string {
	if c.Expect == expect.Nonzero {
		return "non-zero"
	}
	return expect.Format(c.Expect, c.Code)
}

// judgeOutput compares the expected output with standard error (stderr
// option), or with standard output, then the merged transcript, then the
// two streams in the order the expected text shows them (interleave),
// and fills Outcome, Actual and Diff. exact says both streams came on one
// terminal (merged option): their order is the order written, so the
// article's order is checked, never taken on its word by interleave.
func judgeOutput(sr *StepResult, m *Matcher, exact bool) {
	o := sr.Step.Options
	candidates := []string{sr.Stdout, sr.Merged}
	if o.Stderr {
		candidates = []string{sr.Stderr}
	} else if sr.Merged == sr.Stdout {
		candidates = candidates[:1]
	}
	for _, c := range candidates {
		if m.Match(c) {
			sr.Outcome, sr.Actual = Passed, c
			return
		}
	}
	if len(candidates) == 2 && !exact {
		// The order between the two streams is not known (interleave).
		if c := interleave(m, sr.Step.Expected, sr.Stdout, sr.Stderr); c != "" && m.Match(c) {
			sr.Outcome, sr.Actual, sr.Merged = Passed, c, c
			return
		}
	}
	sr.Outcome = Failed
	if err := m.Err(); err != nil {
		sr.Actual = candidates[0]
		sr.Reason = err.Error()
		sr.Diff = err.Error() + "\n"
		return
	}
	// Diff against the closer candidate. Actual is also what update
	// mode writes back, so "closer" must follow the author's intent: an
	// article that shows standard error lines shows the terminal (the
	// transcript), one that does not shows standard output. In order:
	// more expected lines matched, a line count nearer the expected one,
	// fewer changed lines, then standard output.
	exp := NormLines(sr.Step.Expected)
	var wild func(i int) bool // "..." lines absorb actual lines in the diff too
	if m.kind == kindGlob || m.kind == kindRegex {
		wild = func(i int) bool { return strings.TrimSpace(exp[i]) == ellipsis }
	}
	var best [3]int
	for k, c := range candidates {
		act := NormLines(c)
		d := unifiedDiffWild(exp, act, func(i, j int) bool { return m.LineEqual(exp[i], act[j], i) }, wild)
		minus, plus := diffCounts(d)
		score := [3]int{minus, abs(len(act) - len(exp)), minus + plus}
		if k == 0 || less(score, best) {
			best, sr.Actual, sr.Diff = score, c, d
		}
	}
	if sr.Diff == "" {
		// Every line matches on its own but the whole does not (a "..."
		// line, norm-ws across lines): show the plain line diff.
		sr.Diff = UnifiedDiff(exp, NormLines(sr.Actual), nil)
	}
	if sr.Diff == "" {
		sr.Diff = "(the output differs only in ways the line diff does not show)\n"
	}
}

// less compares scores lexicographically.
func less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// diffCounts counts the removed and added lines of a unified diff (its
// "---"/"+++" header left out).
func diffCounts(d string) (minus, plus int) {
	for len(d) > 0 {
		line := d
		if i := strings.IndexByte(d, '\n'); i >= 0 {
			line, d = d[:i], d[i+1:]
		} else {
			d = ""
		}
		switch {
		case strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "+++ "):
		case strings.HasPrefix(line, "-"):
			minus++
		case strings.HasPrefix(line, "+"):
			plus++
		}
	}
	return minus, plus
}

// normalize is session.Normalize with a fast path: output without the
// bytes a terminal interprets (CR, BS, ESC, NUL, BEL) and valid UTF-8 is
// already normal text.
func normalize(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	for _, c := range raw {
		if c == '\r' || c == '\t' || c == '\b' || c == 0x1b || c == 0 || c == 7 || c >= 0x80 {
			return session.Normalize(raw)
		}
	}
	return string(raw)
}
