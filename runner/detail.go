package runner

import (
	"fmt"
	"strings"
)

// Detail is the message the machine-readable reports (JSON, JUnit) and
// wordishtest.Test attach to a step that did not pass: the command as typed
// after its prompt, then what went wrong — the diff for a failure; the
// reason and the output for an error; why it was skipped or not run. It
// has no file:line prefix (each report places that itself) and no trailing
// newline. A passing step has no detail.
func Detail(r *StepResult) string {
	var b strings.Builder
	prompt := "$ "
	if r.Step != nil {
		if r.Step.Prompt != "" {
			prompt = r.Step.Prompt
		}
		b.WriteString(prompt + r.Step.Command + "\n")
	}
	switch r.Outcome {
	case Passed:
		return ""
	case Failed:
		if r.Deferred {
			b.WriteString("(cleanup step, run at the end)\n")
		}
		if r.Diff != "" {
			b.WriteString(r.Diff)
		} else {
			// The runner always fills Diff for a failure; this keeps the
			// report useful should it ever not.
			fmt.Fprintf(&b, "output differs; actual output:\n%s", r.Actual)
		}
	case Errored:
		if r.Deferred {
			b.WriteString("(cleanup step, run at the end)\n")
		}
		reason := r.Reason
		if reason == "" {
			reason = fmt.Sprintf("exit status %d", r.Status)
		}
		b.WriteString("error: " + reason + "\n")
		if out := r.Merged; strings.TrimSpace(out) != "" {
			b.WriteString("output:\n" + out)
		}
	case Skipped:
		b.WriteString("skipped")
	case NotRun:
		reason := r.Reason
		if reason == "" {
			reason = "an earlier step errored"
		}
		b.WriteString("not run: " + reason)
	}
	return strings.TrimRight(b.String(), "\n")
}

// SkipReason is the one-line message of a skipped or not-run step.
func SkipReason(r *StepResult) string {
	if r.Outcome == NotRun {
		if r.Reason != "" {
			return "not run: " + r.Reason
		}
		return "not run: an earlier step errored"
	}
	return "skipped"
}
