package runner

import (
	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/session"
)

// StepAction is what a Stepper wants done with the next step.
type StepAction int

const (
	StepRun  StepAction = iota // run it
	StepSkip                   // do not run it: it is reported as skipped
	StepStop                   // stop the document: the steps left are not run, cleanup steps still are
)

// A Stepper (Options.Stepper) makes Run replay one step at a time and
// consult it around each runnable step: `wordish step` asks the user
// before each one, --shell-on-failure hands the shell to the user after a
// failing one. Steps with the skip option are not shown to it, nor are
// the cleanup steps run at the end after a stop.
type Stepper interface {
	// Before is called before a step runs.
	Before(s *parser.Step) StepAction
	// After is called once the step has been judged and reported, with
	// the session it ran in (to hand over: session.Interact). The next
	// step runs in that session when After returns.
	After(r *StepResult, sess *session.Session)
}

// stepwise is the replay loop of Run with a Stepper: one step per batch,
// otherwise the same rules (an errored step stops the document unless
// KeepGoing; cleanup steps run at the end).
func (r *docRun) stepwise() {
	st := r.opts.Stepper
	for i := 0; i < len(r.steps); i++ {
		if r.ctx.Err() != nil {
			r.bail(i, "interrupted")
			return
		}
		s := r.steps[i]
		if s.Options.Skip {
			r.record(&StepResult{Step: s, Outcome: Skipped})
			continue
		}
		switch st.Before(s) {
		case StepSkip:
			r.record(&StepResult{Step: s, Outcome: Skipped, Reason: "skipped by the user"})
			continue
		case StepStop:
			r.bail(i, "stopped by the user")
			return
		}
		var sr *StepResult
		if n := r.runBatch(r.sess, r.steps[i:i+1], true, func(_ int, x *StepResult) { sr = x }); n == 0 {
			r.record(&StepResult{Step: s, Outcome: Errored, Status: -1,
				Reason: "the shell is gone; the command could not be sent"})
			r.bail(i+1, "the shell is gone")
			return
		}
		st.After(sr, r.sess)
		if sr.Outcome != Errored && r.sess.Alive() {
			continue
		}
		switch {
		case r.ctx.Err() != nil:
			r.bail(i+1, "interrupted")
			return
		case !r.sess.Alive():
			r.bail(i+1, "the shell is gone")
			return
		case !r.opts.KeepGoing:
			r.bail(i+1, "an earlier step errored")
			return
		}
	}
}
