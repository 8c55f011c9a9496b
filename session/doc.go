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
// no colours by default), PWD set, PAGER=cat, GIT_PAGER=cat, MANPAGER=cat
// and SYSTEMD_PAGER= (git log, man or systemctl status must not wait for
// a key; Config.Env may set them), and without LC_ALL, COLUMNS,
// LINES, BASH_ENV, ENV, SHELLOPTS, BASHOPTS, CDPATH, GLOBIGNORE,
// PROMPT_COMMAND, PS1-PS4, HISTFILE, TMOUT, OLDPWD, IFS, POSIXLY_CORRECT,
// BASH_XTRACEFD, COLORTERM, TERMCAP, INPUTRC and exported functions. HOME,
// PATH, LANG and the rest are kept; Config.Env is added last (and wins).
//
// It starts in a fresh temporary directory (Dir), removed at Close unless
// Config.Keep, or in Config.Workdir (created if missing, never removed).
// Commands get file descriptors 0, 1, 2 only (lvm, for one, complains of
// any other): descriptors that wordish itself inherited without
// close-on-exec are marked close-on-exec at the first Start, and the
// session's channel is close-on-exec while a batch runs (see below).
//
// # Terminals
//
// Standard input and output are a pseudo-terminal of 80x24, the shell's
// controlling terminal. Input: end of file, as if the user pressed Ctrl-D
// before each read: end of file characters are typed ahead (64, topped up
// every 250 ms) when a batch starts, so read, cat, a passwd-style prompt
// or a REPL get an end of file at once rather than wait for their
// timeout (and never read anything of the session's). A command with
// Command.Input starts a batch of its own; its input is typed a line at
// a time once the command has printed a prompt (output without a final
// newline, quiet for 20 ms) or been quiet for 150 ms, then an end of file;
// the terminal echoes it, so the output shows it as a reader sees it
// ("Name: bob"). A program that puts the terminal in raw mode (less, an
// editor) reads those characters as keys, and may still wait for its
// timeout. Output post-processing is off on the terminals (stty
// -onlcr): the bytes a program writes come back as written, "\n" not
// turned into "\r\n". The terminals are read while a batch runs
// (RunBatch polls both, no goroutine); what background jobs write
// between batches waits in the terminal (up to its buffer, then they
// block, as with a paused terminal) and goes to the next batch's first
// command.
//
// # Standard error, and the order of the two streams
//
// Which is exact, and which is not, depends on where standard error goes:
//
//   - Apart (the default): standard error is a second pseudo-terminal, so
//     programs see a terminal on all three descriptors, and Stdout and
//     Stderr are each exact, bytes and order. Their order in Transcript is
//     the order their bytes reached wordish, which is not the order
//     written: each terminal hands its data to the reader through a
//     kernel worker, and when both have data at one wake-up the order in
//     between is lost. Reliable between writes some milliseconds apart;
//     within a burst written to both at once it came out wrong in 24-28
//     of 30 runs (TestApartOrder). wordish run compares an article with
//     standard output alone, with Transcript, then with the two streams'
//     lines in the order the article shows them, each stream in its own
//     order (runner's interleave): the order between the streams cannot
//     be checked, the rest is.
//   - Command.Merged: standard error is the main terminal too, as on a
//     real terminal. Stdout (and Transcript) hold both streams in the
//     exact order written, within a burst too, whoever writes them (the
//     kernel orders the writes to one terminal), isatty is true for both;
//     Stderr is empty: the streams cannot be told apart. bash runs the
//     command in a group, { TEXT\n} 2>&1 (several lines: eval of the text,
//     2>&1), in the shell itself, so its state persists; a command whose
//     text contains exec, and every command once set -x may be on, runs
//     apart instead (Result.Merged says which). wordish run uses it only
//     for a step with the merged option: by default articles show
//     standard output alone where a terminal showed standard error too
//     (dd's counts, mke2fs's banner in the LVM article of 2010), which
//     only the streams apart can match; with merged the article's order
//     between the streams is checked, not taken (no interleave).
//
// No wiring gives both exactly with a terminal on both descriptors: a
// write reaches one file only, and no two terminals share an order.
// Sockets with kernel timestamps (SO_TIMESTAMPNS) would order two
// streams, but only with a socket for both, and a socket is no terminal:
// isatty false, standard output fully buffered, programs print otherwise.
//
// # How commands run
//
// Commands never go through the terminal: no line-length limit, TAB is
// not completion, control characters are safe. The shell's script is a
// pipe; for each batch the session writes the batch as a file and sends
// the shell two short lines: one sources the file, the next ends the
// batch. In the file, each command comes as it is (when it parses alone as
// bash, checked with mvdan.cc/sh; otherwise through eval of a quoted
// string), at top level, so declare, local, aliases, traps and set
// options persist exactly as typed at a prompt. After each command the
// shell calls one of the session's functions (__wz for a command expected
// to succeed, __w otherwise) with the command's status ("$?"), its
// sequence number and a fresh random token as one word, SEQ:TOKEN (the
// token is $SRANDOM, drawn after the command ended), and its expectation;
// the function writes an end marker (\036W SEQ:TOKEN \036) on both
// terminals and SEQ:TOKEN:STATUS:TIME on the channel, and the batch
// returns from the sourced file when the status does not fit the
// expectation: the Go side never waits for the shell between commands, it
// only reads the terminals and the channel and watches the clock. It
// reads them when woken by their data; after a wake-up that read little
// it waits up to 1 ms (an eighth of the batch's time so far, not while
// the batch's last command runs) before it looks again, so that one
// wake-up takes several of the shell's writes: a wake-up costs more than
// bash's whole step. $? is restored before each command, so "false" then
// "echo $?" prints 1. With bash, one printf writes both markers: the one
// on standard error is its error message about an invalid number, a line
// removed whole. Other bash error messages about commands of a batch
// ("FILE: line N: ...") are rewritten as an interactive bash prints them
// ("bash: ..."). After a command whose text contains "exec" (which may
// redirect the shell's own output), the markers are written to the
// terminals by name, a slower way; after one that may turn on set -x, so
// are they, with the session's lines kept out of the trace (see Limits).
//
// # The channel, and what a document can and cannot do
//
// The channel is a Unix socket pair. The kernel tells wordish which
// process wrote each message (SO_PASSCRED): only the shell's own count.
// While a batch runs the shell holds its end only where bash saved it for
// the sourcing ("250>&-": the lowest free descriptor from 10, close-on-
// exec), so no command inherits it, and a socket cannot be opened again
// through /proc/PID/fd. A marker on a terminal only delimits a command's
// output; its status comes from the channel, and its token must be the
// channel's, else the command is reported as tampering (Result.Tampered),
// never as passed. Channel messages must come in order, one per command
// and one per batch: any other (a command calling __w itself, a forged
// one) stops the batch and makes the command errored. No secret exists
// before a command ends, in any file, variable, argument or descriptor a
// command can reach: the batch file and the shell's functions can be read
// freely.
//
// The status check does not depend on anything a document can redefine:
// __w and the session's other functions are read-only (readonly -f),
// parsed before any alias existed, do not inherit DEBUG or RETURN traps
// (unless the document sets functrace, set -T), take the status as an
// argument rather than from a variable (a DEBUG trap runs before the call,
// but "$?" is expanded after it with the command's status), call printf as
// a builtin (a function named printf or echo, [ or test does not matter;
// builtins disabled with enable -n are enabled again) and test with [[ ]]
// and case. The call and return are written \__w and \return, so no
// alias applies; should return not return (a function named return, or
// enable -n return), an expansion error (${NULL:?} of a read-only empty
// variable) ends the shell rather than run the next command. The
// session's variables (the previous status, the stop flag) have random
// names per session. SRANDOM is read-only: unset, it would become a plain
// variable, and a document choosing the tokens could write the end of the
// next command, with the output it wants, ahead of time. set -e, set -u,
// IFS, noclobber, pipefail, nullglob change nothing.
//
// The per-command call keeps its guard, "|| { \return 0; ${NULL:?}; }",
// though it costs bash about 12 K instructions per command (of 140 K):
// with the shorter "|| \return 0" a DEBUG trap, a RETURN trap under
// set -T or a signal's trap could define a function named return between
// the check and the return, and the commands after a failing one would run
// while reported not run.
//
// What a document can still do, all of which ends in an error, never a
// pass: override builtin or command themselves (the markers then fail to
// come: the command times out); exit, exec or kill the shell (Exited);
// close or redirect the channel's descriptor (the shell ends); replace
// the INT trap or signal 39's (a timeout then kills the shell); set
// shopt -s extdebug with a DEBUG trap that skips commands (the markers do
// not come: timeout); print markers (the channel disagrees: Tampered).
// A DEBUG trap's own output also lands once more per command, before the
// marker. A command running as root, or ptrace-ing the shell, can do
// anything wordish can; so can one that kills its reaper (kill -9 $PPID),
// after which its processes escape.
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
// # Close, and isolation between sessions
//
// Each session's shell is the child of a reaper of its own: the wordish
// binary run again (/proc/self/exe), entered from the init of
// internal/reaper (standard library only) before the heavy packages
// initialise, with one processor (GOMAXPROCS=1); in a process group of
// its own (Ctrl-C and `timeout` signal wordish, not it), catching SIGINT,
// SIGTERM, SIGHUP and SIGQUIT, and a child subreaper
// (PR_SET_CHILD_SUBREAPER): every process the document starts descends
// from it whatever it does (setsid, a double fork, nohup, disown, env -i,
// closed terminals), since an orphan goes to the nearest subreaper, not
// to init. Close, or wordish's death in any way (kill -9 included: the
// reaper's control pipe closes), makes the reaper SIGKILL its descendants
// (found through /proc/PID/task/TID/children from itself down) and reap
// its children until it has none left (at most 3 s; having no child is
// the proof that no descendant is left, orphans being its children), and
// exit. It works as root and as any other user. A session's cleanup
// reaches its own processes only: another session's, and wordish's own
// children being started, are not its descendants. Close returns once
// the reaper has reported, without waiting for its own exit.
//
// # Start-up
//
// Start starts the reaper first and makes the session's directories
// while the reaper's runtime starts; the shell starts when the reaper is
// sent its directory and environment. The private directory (setup and
// batch files) is on /dev/shm when that is a memory file system: on the
// development machine's ext4, creating and removing a file cost 0.3-1.2
// ms each. A replay of several documents starts the next document's
// session while the previous one runs (Prestart; Start takes it for an
// equal Config, DropSpare closes it): BenchmarkStart measures a cold
// start, BenchmarkStartWarm taking such a spare.
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
// Those figures predate the reaper and the channel, which first made
// the replay about twice as slow. Then, per command, bash spent 184 K
// instructions on the session's functions (valgrind --tool=callgrind of
// 1000 "echo N" sourced as a batch, output to /dev/null: 200 M against
// 16 M for the plain script), now 141 K; the whole process (wordish run
// of 1000 such steps, perf stat, tracepoints) made 24.1 system calls and
// 10.1 context switches per step, now 14.9 and 0.67 (before the channel:
// 4.9 and 2.6). Of the 14.9, bash makes 14: four writes (the output,
// two markers, the channel), one getrandom ($SRANDOM) and nine to save,
// redirect and restore standard output around the channel write;
// wordish about one. go test ./runner -bench Replay1000 -benchtime 10x,
// the three alternated, 8 rounds at load average 12 to 30: median 0.167
// wordish-ms per step, against 0.130 before the channel and 0.233 with it
// as it first landed (per round, 1.06 times the cost before the channel,
// in the median; the load hides 5 %). See bench/NOTES.md.
//
// A lone Run is dominated by latencies (the shell reads its script pipe
// byte by byte, the terminal hands data over through a kernel worker);
// in a batch they overlap and the shell's own work dominates: the command,
// one printf writing both markers, one writing the channel, one test.
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
//   - With another shell than bash the protocol functions are not
//     read-only, there is no token ($SRANDOM), and the channel (descriptor
//     9) is inherited by the commands.
//   - Output order: exact for a merged command; for a command run apart,
//     Transcript merges the two terminals as their bytes reach wordish,
//     and within a burst written to both at once (microseconds apart) the
//     order comes out wrong, more so on a loaded machine (see Standard
//     error).
//   - With a shell other than bash, error messages name the shell's script
//     ("/dev/fd/3: 1: ...").
package session
