// Package session runs shell commands, one after the other, in one
// persistent shell on a pseudo-terminal. (Running as root in a throwaway
// guest is the sandbox package's business.)
//
// # Use
//
//	s, err := session.Start(session.Config{})
//	defer s.Close()
//	n := s.RunBatch(cmds, func(i int, r session.Result) { ... })
//
// RunBatch runs its commands in order and reports each result as soon as
// it is known; it stops after the first command whose status does not fit
// its Command.Expect, that timed out, was interrupted (Session.Interrupt,
// safe from any goroutine) or ended the shell. A session stays usable after
// a timeout or an interrupt as long as the shell lives (Alive).
//
// # Environment
//
// The shell is bash (Config.Shell for another POSIX shell), started as
// "bash --noprofile --norc -m SCRIPT": no profile or rc file, job control
// on (each foreground job gets its own process group and the terminal, so
// that Ctrl-C reaches the job, not the shell), not interactive ($- has no
// i; aliases are expanded: shopt -s expand_aliases). The shell's traps
// show "trap -- ':' SIGINT" (Ctrl-C to a job must not end the shell) and a
// trap on signal 39 (SIGRTMIN+5), both used by the session.
//
// Its environment is wordish's own with TERM=dumb (so no bracketed paste,
// no colours by default), PWD set, WORDISH_SESSION=<random id> (used to
// find the session's processes at Close), and without LC_ALL, COLUMNS,
// LINES, BASH_ENV, ENV, SHELLOPTS, BASHOPTS, CDPATH, GLOBIGNORE,
// PROMPT_COMMAND, PS1-PS4, HISTFILE, TMOUT, OLDPWD, IFS, POSIXLY_CORRECT,
// BASH_XTRACEFD, COLORTERM, TERMCAP, INPUTRC and exported functions. HOME,
// PATH, LANG and the rest are kept; Config.Env is added last (and wins).
//
// It starts in a fresh temporary directory (Dir), removed at Close unless
// Config.Keep, or in Config.Workdir (created if missing, never removed).
// Its file descriptors are 0, 1, 2 only: descriptors that wordish itself
// inherited without close-on-exec are marked close-on-exec at the first
// Start.
//
// # Terminals
//
// Standard input and output are a pseudo-terminal of 80x24, the shell's
// controlling terminal; a command reading standard input reads that
// terminal (nothing is ever typed into it, so such a command waits until
// its timeout). Standard error is a second pseudo-terminal, so programs see
// a terminal on all three descriptors yet the two streams stay apart.
// Output post-processing is off on both (stty -onlcr): the bytes a
// program writes come back as written, "\n" not turned into "\r\n".
// Result.Transcript merges the two streams in the order their bytes
// reached wordish: reliable between writes some milliseconds apart, not
// within a burst written at once to both. The terminals are read while a
// batch runs (RunBatch polls both, no goroutine); what background jobs
// write between batches waits in the terminal (up to its buffer, then
// they block, as with a paused terminal) and goes to the next batch's
// first command.
//
// # How commands run
//
// Commands never go through the terminal: no line-length limit, TAB is
// not completion, control characters are safe. The shell's script is a
// pipe; for each batch the session writes the batch as a file and sends
// the shell two short lines: one sources the file, the next prints an end
// of batch marker. In the file, each command comes as it is (when it
// parses alone as bash, checked with mvdan.cc/sh; otherwise through eval
// of a quoted string), at top level, so declare, local, aliases, traps and
// set options persist exactly as typed at a prompt. After each command the
// shell writes an end marker with the command's sequence number and status
// to standard output and to standard error, and returns from the sourced
// file if the status does not fit the expectation: the Go side never waits
// for the shell between commands, it only reads the two terminals and
// watches the clock. $? is restored before each command, so "false" then
// "echo $?" prints 1.
//
// Markers carry a random per-session nonce that is never stored in a
// shell variable or function (only in the sourced batch text, as \036
// escapes), so no output can pass for one: output with prompts, marker
// look-alikes, NUL bytes, invalid UTF-8 or no final newline comes back
// intact. With bash, one printf writes both markers: the one on standard
// error is its error message about an invalid number, a line that starts
// with the batch file's name and is removed whole. Other bash error
// messages about commands of a batch ("FILE: line N: ...") are rewritten as
// an interactive bash prints them ("bash: ..."). After a command whose
// text contains "exec" (which may redirect the shell's own output), the
// markers are written to the terminals by name, a slower way; after one
// that may turn on set -x, so are they, with the session's lines kept out
// of the trace (see Limits).
//
// # Timeouts, interrupts, death
//
// A command has Command.Timeout, else Config.Timeout, else 60 s. At its
// timeout (or at Interrupt) the shell is told to stop after this command
// (signal 39), the terminal's foreground process group gets SIGINT as
// from Ctrl-C, and, every 0.5 s after, SIGKILL; bash then aborts the rest
// of the command line and of the batch. When the shell itself is in the
// foreground (a builtin: read, a loop), it gets an end of file as from
// Ctrl-D, which ends a read; a builtin loop that goes on is ended by
// killing the shell, after which the session is dead (the result has
// TimedOut and Exited). So is a command that replaced the INT trap. Output
// seen until the stop is kept.
//
// A command that ends the shell (exit 3, exec true, kill -9 $$, a failure
// under set -e) is reported with Exited and the shell's status (128+N for
// a signal); the output written before is kept.
//
// # Close
//
// Close ends the shell and every process of the session: those in its
// session, those whose controlling terminal is one of
// its terminals or that hold one open, those whose environment has its
// WORDISH_SESSION, and their descendants. It scans /proc and sends SIGKILL
// until none is left, for at most 3 s. Processes of other sessions (other
// Session values in the same wordish) are never touched. A daemon that
// leaves the session, closes the terminals and clears its environment is
// out of reach.
//
// # Memory
//
// Each stream of a command (and its transcript) keeps its first 4 MiB and
// its last 4 MiB; Result.Dropped counts the bytes dropped in between.
//
// # Performance
//
// Measured with
//
//	go test -count=3 -run '^$' -bench . -benchtime 3s ./session/
//
// on the 2-core "Oxide Virtual Turin-like Processor" VM the project is
// developed on (Debian 12, bash 5.2.15, Go 1.26, Linux 6.18), shared with
// other jobs (load average 4 to 9 while measuring, hence the ranges):
//
//	BenchmarkTrue       1000 `true` per batch   0.034-0.058 ms/cmd (wall)
//	                    CPU, shell + wordish    0.032-0.053 ms/cmd
//	  same, plain bash script of 1000 `true`    0.008-0.014 ms/cmd, ratio 3.2-4.3
//	BenchmarkRoundTrip  one Run of `true`       0.5-1.0 ms
//	BenchmarkStart      Start                   3-7 ms
//	BenchmarkNormalize  8 MiB of coloured text  55-65 MB/s
//
// A lone Run is dominated by latencies (the shell reads its script pipe
// byte by byte, the terminal hands data over through a kernel worker);
// in a batch they overlap and the shell's own work dominates: the command,
// one printf writing both markers, one test.
//
// # Limits
//
//   - set -x: after a command that may turn tracing on (set -x, set -o
//     xtrace), the session's own lines run with their trace sent to
//     /dev/null, and traces on standard error lose one "+" (the batch is
//     sourced), so they read as at a prompt; with a PS4 of one's own, or
//     set -x hidden in a sourced file, the session's lines show in the
//     trace. set -v shows them in any case.
//   - $LINENO and $BASH_SOURCE differ from an interactive shell's.
//   - The end markers go where the shell's standard output and error are:
//     a command that redirects them without the word exec in its text
//     (say, in a file it sources) hangs until its timeout, after which the
//     shell is killed.
//   - With a shell other than bash, error messages name the shell's script
//     ("/dev/fd/3: 1: ...").
package session
