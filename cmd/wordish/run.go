package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	lib "github.com/wordish-go/wordish"
	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/report"
	"github.com/wordish-go/wordish/runner"
)

// Exit statuses of `wordish run` (exitTable, in the help and README):
//
//	0    every step passed or was skipped
//	1    a step failed or errored
//	2    usage error (nothing ran), or an unreadable or unparsable
//	     document (the other documents still ran); wins over 1
//	130  interrupted by SIGINT (143: SIGTERM, 129: SIGHUP, 131: SIGQUIT,
//	     141: standard output closed); the running command was stopped,
//	     the cleanup steps were run, and the report printed
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 128
)

// runFlags are the flags of `wordish run` (and of the commands that
// replay like it): most set their field of the lib.Config directly;
// config makes the rest of it.
type runFlags struct {
	cfg            lib.Config
	format, color  string
	jobs           int
	jobsSet        bool // -j given (a guest's default -j is its own)
	sandbox        string
	sandboxInstall bool
	interactive    bool // update -i
	shellOnFailure bool // run, step
}

func (f *runFlags) register(fs *flag.FlagSet) {
	c := &f.cfg
	registerParse(fs, &f.format, &c.Parse.Prompts)
	fs.StringVar(&c.Replay.Shell, "shell", "", "shell to run the commands in (default: bash)")
	fs.DurationVar(&c.Replay.Timeout, "timeout", runner.DefaultTimeout, "time limit of each command (a step's timeout= option overrides it)")
	fs.Var((*stringList)(&c.Replay.Env), "env", "set K=V in the shell's environment (repeatable)")
	fs.StringVar(&c.Replay.Workdir, "workdir", "", "run in this directory (default: a fresh temporary directory per document; implies -j 1 unless -j is given)")
	fs.BoolVar(&c.Replay.Keep, "keep", false, "keep the temporary working directories")
	fs.BoolVar(&c.Replay.KeepGoing, "keep-going", false, "go on replaying a document after a step errored")
	fs.BoolVar(&c.Report.Verbose, "v", false, "verbose: show passing and skipped steps and durations")
	fs.BoolVar(&c.Report.Quiet, "q", false, "quiet: show only what went wrong, and the summary")
	fs.BoolVar(&c.Report.Quiet, "quiet", false, "same as -q")
	fs.StringVar(&f.color, "color", "auto", "colour the report: `auto` (on a terminal, unless NO_COLOR is set or TERM=dumb; FORCE_COLOR forces it), always or never")
	fs.StringVar(&c.Run, "run", "", "run only the steps whose name (`REGEX` matched against FILE/L42_slug, as in --json) matches; earlier steps still replay")
	fs.Var(&c.Shard, "shard", "replay only shard `K/N` of the documents (a deterministic split, balanced by steps or by --shard-timing)")
	fs.StringVar(&c.ShardTiming, "shard-timing", "", "balance --shard by the durations in `FILE`, a previous --json or --junit report")
	fs.IntVar(&f.jobs, "j", runtime.NumCPU(), "replay up to `N` documents in parallel")
	fs.Int64Var(&c.MaxSize, "max-size", lib.DefaultMaxSize, "refuse documents larger than `BYTES`")
	for _, rf := range report.Formats {
		fs.Var(reportFlag{&c.Report.Files, rf.Name}, rf.Name, rf.Usage)
	}
	fs.StringVar(&f.sandbox, "sandbox", "", "run in a throwaway VM, as root: vm (the first backend usable here: uml, else qemu), uml or qemu; see wordish sandbox check")
	fs.BoolVar(&f.sandboxInstall, "sandbox-install", false, "install what the VM sandbox needs (apt-get) when missing")
	if fs.Name() == "run" || fs.Name() == "step" {
		fs.BoolVar(&f.shellOnFailure, "shell-on-failure", false, "at the first failing or errored step, hand the terminal over inside the article's shell; exit resumes the replay, exit 1 stops it")
	}
	if fs.Name() == "update" {
		fs.BoolVar(&f.interactive, "i", false, "interactive: show each drifted step's diff and ask, one key, whether to write it (y/n/a/q)")
	}
}

// registerParse registers --format and --prompt, the flags of every
// command that reads articles.
func registerParse(fs *flag.FlagSet, format *string, prompts *[]string) {
	fs.StringVar(format, "format", "", "article format: "+parser.FormatNames()+" (default: from each file's extension)")
	fs.Var((*stringList)(prompts), "prompt", "also recognise this prompt, e.g. 'mysql> ' (repeatable; a trailing # marks root)")
}

// defaults notes whether -j was given: documents that share a --workdir
// run one at a time unless it is (lib.Config.Jobs).
func (f *runFlags) defaults(fs *flag.FlagSet) {
	fs.Visit(func(fl *flag.Flag) { f.jobsSet = f.jobsSet || fl.Name == "j" })
}

func (f *runFlags) check() error {
	c := &f.cfg
	for _, kv := range c.Replay.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("--env %q: want K=V", kv)
		}
	}
	if err := checkSandbox(f.sandbox); err != nil {
		return err
	}
	if f.jobs < 1 {
		return fmt.Errorf("-j %d: want at least 1", f.jobs)
	}
	if c.Replay.Timeout <= 0 {
		return fmt.Errorf("--timeout %s: want a positive duration", c.Replay.Timeout)
	}
	if _, err := parserConfig(f.format, nil); err != nil {
		return err
	}
	switch f.color {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("--color %q: want auto, always or never", f.color)
	}
	if c.Report.Quiet && c.Report.Verbose {
		return fmt.Errorf("-q and -v contradict each other")
	}
	if c.Run != "" {
		if _, err := regexp.Compile(c.Run); err != nil {
			return fmt.Errorf("--run: %v", err)
		}
	}
	if c.ShardTiming != "" && c.Shard.N == 0 {
		return fmt.Errorf("--shard-timing needs --shard K/N")
	}
	// The shell runs here unless a sandbox runs it (it checks there).
	if c.Replay.Shell != "" && !inSandbox(*f) {
		if _, err := exec.LookPath(c.Replay.Shell); err != nil {
			return fmt.Errorf("--shell %s: %v", c.Replay.Shell, errors.Unwrap(err))
		}
	}
	return nil
}

// config is the run the flags ask for, its reports on stdout and its
// messages on stderr.
func (f *runFlags) config(stdout, stderr io.Writer) lib.Config {
	c := f.cfg
	c.Parse, _ = parserConfig(f.format, c.Parse.Prompts)
	switch {
	case f.jobsSet:
		c.Jobs = f.jobs
	case c.Replay.Workdir != "":
		c.Jobs = 1 // documents sharing a directory would trip over each other's files
	}
	term := isTerminal(stdout)
	c.Report.Color = colorOn(f.color, term)
	// The progress line is redrawn with "\r\x1b[K": only for a
	// terminal that understands it.
	c.Report.Progress = term && !c.Report.Verbose && os.Getenv("TERM") != "dumb"
	c.Stdout, c.Stderr = stdout, stderr
	return c
}

// colorOn decides whether the report is coloured: --color always or
// never decide; auto colours a terminal, unless NO_COLOR is set (to
// anything) or TERM is dumb, and colours anything when FORCE_COLOR is
// set to anything but "" or "0" (CI logs that render colour).
func colorOn(flag string, terminal bool) bool {
	switch flag {
	case "always":
		return true
	case "never":
		return false
	}
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	if fc := os.Getenv("FORCE_COLOR"); fc != "" && fc != "0" {
		return true
	}
	return terminal && os.Getenv("TERM") != "dumb"
}

// wantsHelp reports whether args ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

const runUsage = `usage: wordish [run] [flags] FILE...

Replay the shell sessions of articles (Markdown, reStructuredText, HTML):
every command runs, in order, in one persistent shell per document, and
its output is compared with the output the article shows. Each step is
passed, failed (the output differs; the replay goes on), errored (an
unexpected exit status, a timeout or the shell died; the document stops
there and the steps left are not run, except cleanup steps) or skipped.
The last line of the report is the summary:
N passed, N failed, N errored, N skipped, N not run[; N documents unreadable].
When more than one document ran, the failures are recapped before it.
` + selectionHelp + exitTable + `
Flags:
`

func runMain(args []string, stdout, stderr io.Writer) int {
	f, files, status, done := parseReplayFlags("run", runUsage, args, stdout, stderr)
	if done {
		return status
	}
	if f.shellOnFailure {
		return replayStepping(files, f, false, stdout, stderr) // step.go
	}
	return replay(f, files, f.config(stdout, stderr))
}

// parseReplayFlags parses the flags of the subcommands that replay (run,
// update). done is true when the command ends here, with status: help
// asked for (printed on stdout), or a usage error.
func parseReplayFlags(name, usage string, args []string, stdout, stderr io.Writer) (f runFlags, files []string, status int, done bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	if wantsHelp(args) { // help asked for goes to stdout, not stderr
		fs.SetOutput(stdout)
		fmt.Fprint(stdout, usage)
		fs.PrintDefaults()
		return f, nil, exitOK, true
	}
	files, err := parseFlags(fs, args, stderr)
	if err != nil {
		return f, nil, exitUsage, true
	}
	f.defaults(fs)
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "wordish: %v (see: wordish %s --help)\n", err, name)
		return f, nil, exitUsage, true
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "wordish: no FILE given (see: wordish %s --help)\n", name)
		return f, nil, exitUsage, true
	}
	return f, files, exitOK, false
}

// replay is lib.Run of cfg on files, in a throwaway guest if f asks
// for one (sandbox.go), with signals handled: the first SIGINT, SIGTERM,
// SIGHUP, SIGQUIT or SIGPIPE (or a closed standard output) cancels the
// replay (the running command is interrupted, cleanup steps run, the
// report is printed); a second one exits at once (signals.go).
func replay(f runFlags, files []string, cfg lib.Config) int {
	if inSandbox(f) {
		return sandboxMain(f, files, cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := watchStop(cancel, cfg.Stdout, cfg.Stderr, "")
	defer stop.stop()
	sum, err := lib.Run(ctx, cfg, files)
	if err != nil {
		printErrors(cfg.Stderr, err)
		return exitUsage
	}
	if st := stop.status(); st != 0 {
		return st
	}
	return sum.Status
}

// printErrors says each of the errors err joins on a line of its own.
func printErrors(w io.Writer, err error) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			printErrors(w, e)
		}
		return
	}
	fmt.Fprintf(w, "wordish: %v\n", err)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
