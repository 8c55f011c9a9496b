package session

import (
	"time"

	"github.com/wordish-go/wordish/expect"
)

// Config describes a session. Its zero value runs bash in a fresh
// temporary directory with a 60 s timeout per command.
type Config struct {
	Shell   string        // shell program; "" = bash from PATH
	Workdir string        // working directory; "" = a fresh temporary one
	Keep    bool          // keep the temporary working directory
	Env     []string      // extra K=V variables
	Timeout time.Duration // default per-command timeout; 0 = 60 s
}

// Command is one command to run.
type Command struct {
	Text    string        // shell source, possibly several lines
	Expect  expect.Kind   // which statuses let the batch go on
	Code    int           // for expect.Code
	Timeout time.Duration // 0 = the session's default
	// Input is typed to the command on its terminal, a line at a time
	// when it waits (after a prompt), then an end of file; the terminal
	// echoes it, as for a user typing. Without Input, a command reading
	// its input gets an end of file.
	Input string
	// Merged puts the command's standard error on the terminal of its
	// standard output, as a terminal shows both: Stdout (and Transcript)
	// then hold both streams in the exact order written, and Stderr is
	// empty. Without it standard error is a terminal of its own: each
	// stream is exact, their order in Transcript is not (see the package
	// doc, Terminals). Only with bash, and not for a command whose text
	// contains exec nor once set -x may be on: those run apart
	// (Result.Merged says which).
	Merged bool
}

// Result is what one command did.
type Result struct {
	Stdout      []byte // raw bytes from the terminal (standard output)
	Stderr      []byte // raw bytes of standard error
	Transcript  []byte // both, in the order they arrived
	Dropped     int64  // bytes dropped from the middle of a flood (0 = none)
	Status      int    // exit status ($?); 128+N for a signal
	Duration    time.Duration
	TimedOut    bool // killed at its timeout
	Exited      bool // the command ended the shell (exit, exec, kill -9 $$); Status is the shell's
	Interrupted bool // stopped by Session.Interrupt (SIGINT/SIGTERM to wordish)
	// Tampered says how the command broke the session's protocol (it
	// wrote an end-of-command marker, or something other than the shell
	// wrote to the channel); such a command is never to count as passed.
	Tampered string
	// Merged: the command ran with standard error on the terminal of its
	// standard output (Command.Merged).
	Merged bool
}

// Expected reports whether status fits the command's expectation.
func (c Command) Expected(status int) bool { return c.Expect.Fits(c.Code, status) }
