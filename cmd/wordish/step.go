package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
	"github.com/wordish-go/wordish/session"
)

// wordish step, and --shell-on-failure for run and step.

const stepUsage = `usage: wordish step [flags] FILE...

Replay articles one step at a time, in the same persistent shell as
"wordish run": each command is shown before it runs, and one key says
what to do with it:

  Enter  run it, then show its output and verdict
  s      skip it (reported as skipped)
  c      run the steps that follow without asking, up to the next one
         that fails or errors
  q      stop here: the steps left are not run, cleanup steps still are

With --shell-on-failure, the first step that fails or errors hands the
terminal over to you inside the article's own shell (same directory,
variables, functions): look around, fix things; exit or Ctrl-D resumes
the replay, exit 1 (any status but 0) stops it (cleanup steps still
run). Standard input must be a terminal.

Exit status as for wordish run.

Flags:
`

func stepMain(args []string, stdout, stderr io.Writer) int {
	f, files, status, done := parseReplayFlags("step", stepUsage, args, stdout, stderr)
	if done {
		return status
	}
	return replayStepping(files, f, true, stdout, stderr)
}

// replayStepping is `wordish step` (ask) and `wordish run
// --shell-on-failure` (not ask): the replay of run with a runner.Stepper
// reading keys from the terminal, one document at a time.
func replayStepping(files []string, f runFlags, ask bool, stdout, stderr io.Writer) int {
	what := "step"
	if !ask {
		what = "run --shell-on-failure"
	}
	if f.sandbox != "" && f.sandbox != "host" {
		fmt.Fprintf(stderr, "wordish: %s cannot be used with --sandbox (it needs this terminal)\n", what)
		return exitUsage
	}
	if err := needTerminal(what); err != nil {
		fmt.Fprintf(stderr, "wordish: %v\n", err)
		return exitUsage
	}
	if ask {
		f.cfg.Report.Verbose = true // every verdict, and no progress line
	}
	term := isTerminal(stdout)
	sp := &stepper{
		tty:   os.Stdin,
		out:   stdout,
		term:  term,
		ask:   ask,
		shell: f.shellOnFailure,
	}
	cfg := f.config(stdout, stderr)
	cfg.Jobs = 1
	cfg.Replay.Stepper = sp
	return replay(f, files, cfg)
}

// stepper is the runner.Stepper of step and --shell-on-failure.
type stepper struct {
	tty    *os.File // the user's terminal (standard input)
	out    io.Writer
	term   bool // out is a terminal (erase the progress line)
	ask    bool // ask before each step (wordish step)
	shell  bool // hand the shell over at the first failure
	cont   bool // c: run without asking up to the next failure
	handed bool
	stop   bool // the user left the handed-over shell with exit N, N not 0
}

// Before implements runner.Stepper.
func (sp *stepper) Before(s *parser.Step) runner.StepAction {
	if sp.stop {
		return runner.StepStop
	}
	if !sp.ask || sp.cont {
		return runner.StepRun
	}
	prompt := s.Prompt
	if prompt == "" {
		prompt = "$ "
	}
	cmd := strings.ReplaceAll(strings.TrimRight(s.Command, "\n"), "\n", "\n    > ")
	fmt.Fprintf(sp.out, "\nnext %s:%d: %s%s\n[Enter] run, [s]kip, [c]ontinue to the next failure, [q]uit: ", s.File, s.Line, prompt, cmd)
	k, err := readKey(int(sp.tty.Fd()), "\nscq")
	if err != nil {
		k = 'q'
	}
	switch k {
	case 's':
		fmt.Fprintln(sp.out, "skip")
		return runner.StepSkip
	case 'q':
		fmt.Fprintln(sp.out, "quit")
		return runner.StepStop
	case 'c':
		fmt.Fprintln(sp.out, "continue")
		sp.cont = true
	default:
		fmt.Fprintln(sp.out)
	}
	return runner.StepRun
}

// After implements runner.Stepper.
func (sp *stepper) After(r *runner.StepResult, sess *session.Session) {
	switch r.Outcome {
	case runner.Passed:
		if sp.ask && strings.TrimSpace(r.Merged) != "" {
			// The verdict line is the report's (verbose); the output is
			// what the reader of the article sees too.
			for _, l := range strings.Split(strings.TrimRight(r.Merged, "\n"), "\n") {
				fmt.Fprintln(sp.out, strings.TrimRight("    | "+runner.Visible(l), " "))
			}
		}
		return
	case runner.Failed, runner.Errored:
		sp.cont = false
	default:
		return
	}
	if !sp.shell || sp.handed {
		return
	}
	sp.handed = true
	if sp.term {
		io.WriteString(sp.out, "\r\x1b[K")
	}
	fmt.Fprintf(sp.out, "\nwordish: %s:%d %s. This is its shell (same directory, variables, functions);\n"+
		"wordish: exit or Ctrl-D to go on with the replay, exit 1 to stop it.\n", r.Step.File, r.Step.Line, r.Outcome)
	stop, err := sess.Interact(sp.tty, "(wordish) ")
	switch {
	case err != nil:
		fmt.Fprintf(sp.out, "wordish: %v\n", err)
	case stop:
		sp.stop = true
		fmt.Fprintln(sp.out, "wordish: stopping the replay (cleanup steps still run).")
	default:
		fmt.Fprintln(sp.out, "wordish: back to the replay.")
	}
}
