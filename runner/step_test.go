package runner

import (
	"context"
	"testing"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/session"
)

// scripted is a Stepper that answers from a list and, after the first
// failing step, changes the shell's state as a user in the handed-over
// shell would.
type scripted struct {
	answers []StepAction
	asked   []int // lines
	after   []Outcome
	handed  bool
}

func (s *scripted) Before(st *parser.Step) StepAction {
	s.asked = append(s.asked, st.Line)
	if len(s.answers) == 0 {
		return StepRun
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return a
}

func (s *scripted) After(r *StepResult, sess *session.Session) {
	s.after = append(s.after, r.Outcome)
	if r.Outcome == Failed && !s.handed {
		s.handed = true
		sess.Run(session.Command{Text: "cd /tmp; FOO=1"})
	}
}

func TestStepper(t *testing.T) {
	src := "```console\n$ echo one\none\n$ echo drift\nnot this\n$ echo \"$PWD $FOO\"\n/tmp 1\n$ echo skipped by the user\n$ echo skipped # wordish: skip\n$ echo stop here\n$ echo not run\n```\n\n" +
		"<!-- wordish: cleanup -->\n```console\n$ echo cleanup\ncleanup\n```\n"
	doc, err := parser.Parse("a.md", []byte(src), parser.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st := &scripted{answers: []StepAction{StepRun, StepRun, StepRun, StepSkip, StepStop}}
	res := Run(context.Background(), doc, Options{Stepper: st}, nopReporter{})
	var got []string
	for _, r := range res.Steps {
		got = append(got, string(r.Outcome)+" "+r.Step.Command)
	}
	want := []string{
		"passed echo one", "failed echo drift", `passed echo "$PWD $FOO"`,
		"skipped echo skipped by the user", "skipped echo skipped # wordish: skip",
		"not run echo stop here", "not run echo not run", "passed echo cleanup",
	}
	if len(got) != len(want) {
		t.Fatalf("results:\n%q\nwant\n%q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("result %d: %q, want %q", i, got[i], want[i])
		}
	}
	if len(st.asked) != 5 {
		t.Errorf("asked about lines %v, want 5 steps (not the skip option, not the cleanup at the end)", st.asked)
	}
	if res.Steps[5].Reason != "stopped by the user" {
		t.Errorf("not-run reason %q", res.Steps[5].Reason)
	}
}

// TestStepperErrorStops: an errored step stops the document as without a
// Stepper, after After saw it.
func TestStepperErrorStops(t *testing.T) {
	doc, err := parser.Parse("a.md", []byte("```console\n$ false\n$ echo x\nx\n```\n"), parser.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st := &scripted{}
	res := Run(context.Background(), doc, Options{Stepper: st}, nopReporter{})
	if len(res.Steps) != 2 || res.Steps[0].Outcome != Errored || res.Steps[1].Outcome != NotRun {
		t.Fatalf("results %v", res.Steps)
	}
	if len(st.after) != 1 || st.after[0] != Errored {
		t.Errorf("After saw %v", st.after)
	}
}
