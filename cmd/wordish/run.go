package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

func init() {
	subcommands["run"] = cmdRun
}

func cmdRun(args []string) int {
	return runMain(args, os.Stdout, os.Stderr)
}

// Exit statuses of `wordish run`:
//
//	0    every step passed or was skipped
//	1    a step failed or errored
//	2    usage error, unreadable or unparsable document (the other
//	     documents still run), or root steps without root
//	130  interrupted by SIGINT (143: SIGTERM); the running command was
//	     stopped, the cleanup steps were run, and the report printed
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 128
)

// runFlags are the flags of `wordish run` (and of the commands that
// replay like it).
type runFlags struct {
	format, shell, workdir, jsonOut, junitOut, sandbox string
	htmlOut                                            string
	prompts, env                                       stringList
	timeout                                            time.Duration
	keep, keepGoing, verbose, sandboxInstall           bool
	interactive                                        bool // update -i
	jobs                                               int
	jobsSet                                            bool // -j given (a guest's default -j is its own)
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.format, "format", "", "article format: markdown, rst or html (default: from each file's extension)")
	fs.Var(&f.prompts, "prompt", "also recognise this prompt, e.g. 'mysql> ' (repeatable; a trailing # marks root)")
	fs.StringVar(&f.shell, "shell", "", "shell to run the commands in (default: bash)")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "time limit of each command (a step's timeout= option overrides it)")
	fs.Var(&f.env, "env", "set K=V in the shell's environment (repeatable)")
	fs.StringVar(&f.workdir, "workdir", "", "run in this directory (default: a fresh temporary directory per document; implies -j 1 unless -j is given)")
	fs.BoolVar(&f.keep, "keep", false, "keep the temporary working directories")
	fs.BoolVar(&f.keepGoing, "keep-going", false, "go on replaying a document after a step errored")
	fs.BoolVar(&f.verbose, "v", false, "verbose: show passing and skipped steps and durations")
	fs.IntVar(&f.jobs, "j", runtime.NumCPU(), "replay up to `N` documents in parallel")
	fs.StringVar(&f.jsonOut, "json", "", "also write a go test -json event stream to `FILE` (- = standard output)")
	fs.StringVar(&f.junitOut, "junit", "", "also write JUnit XML to `FILE`")
	fs.StringVar(&f.htmlOut, "html", "", "also write an HTML report (one self-contained page) to `FILE`")
	fs.StringVar(&f.sandbox, "sandbox", "", "run in a throwaway VM, as root: vm (the fastest backend usable here), uml or qemu; see wordish sandbox check")
	fs.BoolVar(&f.sandboxInstall, "sandbox-install", false, "install what the VM sandbox needs (apt-get) when missing")
	if fs.Name() == "update" {
		fs.BoolVar(&f.interactive, "i", false, "interactive: show each drifted step's diff and ask, one key, whether to write it (y/n/a/q)")
	}
}

// defaults adjusts defaults that depend on other flags: documents that
// share a --workdir run one at a time unless -j is given, since they
// would otherwise trip over each other's files.
func (f *runFlags) defaults(fs *flag.FlagSet) {
	jobsSet := false
	fs.Visit(func(fl *flag.Flag) { jobsSet = jobsSet || fl.Name == "j" })
	if f.workdir != "" && !jobsSet {
		f.jobs = 1
	}
	f.jobsSet = jobsSet || f.workdir != ""
}

func (f *runFlags) check() error {
	for _, kv := range f.env {
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
	if f.timeout <= 0 {
		return fmt.Errorf("--timeout %s: want a positive duration", f.timeout)
	}
	if f.format != "" {
		if _, err := parser.ParseFormat(f.format); err != nil {
			return err
		}
	}
	return nil
}

func (f *runFlags) options() runner.Options {
	fm, _ := parser.ParseFormat(f.format)
	if f.format == "" {
		fm = ""
	}
	return runner.Options{
		Format:    fm,
		Prompts:   f.prompts,
		Shell:     f.shell,
		Timeout:   f.timeout,
		Env:       f.env,
		Workdir:   f.workdir,
		Keep:      f.keep,
		KeepGoing: f.keepGoing,
		Sandbox:   f.sandbox,
		Verbose:   f.verbose,
	}
}

// parseInterspersed parses flags that may come after file names too
// (`wordish a.md -v`), as most command-line tools allow; "--" ends flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(files, rest...), nil
		}
		if len(rest) == 0 {
			return files, nil
		}
		files = append(files, rest[0])
		args = rest[1:]
	}
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
N passed, N failed, N errored, N skipped, N not run.

Exit status: 0 all passed, 1 a step failed or errored, 2 usage error or
unreadable document, 130/143 interrupted by SIGINT/SIGTERM (after the
cleanup steps ran).

Flags:
`

func runMain(args []string, stdout, stderr io.Writer) int {
	f, files, status, done := parseReplayFlags("run", runUsage, args, stdout, stderr)
	if done {
		return status
	}
	if inSandbox(f) {
		// The same run, by this binary, inside a throwaway VM (sandbox.go).
		return sandboxRun(f, files)
	}
	return replay(files, f, stdout, stderr)
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
	// A mistyped flag gets the flag package's one-line error and a hint,
	// not the whole usage.
	fs.Usage = func() { fmt.Fprintf(stderr, "see: wordish %s --help\n", name) }
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return f, nil, exitUsage, true
	}
	f.defaults(fs)
	prefix := "wordish"
	if name != "run" {
		prefix += " " + name
	}
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
		return f, nil, exitUsage, true
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "%s: no FILE given; see wordish %s --help\n", prefix, name)
		return f, nil, exitUsage, true
	}
	if err := checkHTMLOut(f.htmlOut, files); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
		return f, nil, exitUsage, true
	}
	return f, files, exitOK, false
}

// replay parses and replays the documents and reports; it is `wordish
// run` once the flags are checked.
func replay(files []string, f runFlags, stdout, stderr io.Writer) int {
	return replayWith(files, f, replayHooks{}, stdout, stderr)
}

// replayHooks let another subcommand that replays (update) reuse replay;
// every field is optional.
type replayHooks struct {
	// options adjusts the runner options (e.g. Update = true).
	options func(*runner.Options)
	// check refuses a parsed document before anything runs; the error is
	// printed and the run ends with status 2.
	check func(*parser.Document) error
	// wrap wraps the reporter that all documents report to.
	wrap func(runner.Reporter) runner.Reporter
	// bad says whether a document's result makes the exit status 1;
	// default: something failed or errored.
	bad func(*runner.DocResult) bool
	// after runs once the report is complete (not on usage errors) and
	// returns a status to combine (the highest wins, a signal's first).
	after func(stderr io.Writer) int
}

// replayWith is replay with hooks.
func replayWith(files []string, f runFlags, h replayHooks, stdout, stderr io.Writer) int {
	opts := f.options()
	if h.options != nil {
		h.options(&opts)
	}
	cfg := parser.Config{Format: opts.Format, Prompts: opts.Prompts}

	// A document named twice is replayed once: the reporters know a
	// document by its path, so two replays of it in parallel would mix.
	seen := map[string]bool{}
	uniq := files[:0:0]
	for _, p := range files {
		if !seen[p] {
			seen[p] = true
			uniq = append(uniq, p)
		}
	}
	files = uniq

	// Parse everything first: a root step without root stops the whole
	// run before any command runs. An unreadable document (or a typo in a
	// directive) is reported in its place in the report, and the others
	// still run.
	docs := make([]*parser.Document, len(files))
	errs := make([]error, len(files))
	status := exitOK
	for i, path := range files {
		docs[i], errs[i] = parser.ParseFile(path, cfg)
		if errs[i] != nil {
			status = exitUsage
		}
	}
	ok := true // no root step without root, and the hook's check passed
	for _, d := range docs {
		if d == nil {
			continue
		}
		if err := runner.CheckRoot(d); err != nil {
			fmt.Fprintf(stderr, "wordish: %v\n", err)
			ok = false
		}
		if h.check != nil {
			if err := h.check(d); err != nil {
				fmt.Fprintf(stderr, "wordish: %v\n", err)
				ok = false
			}
		}
	}
	if !ok {
		return exitUsage
	}

	// Reporters.
	textOut := stdout
	var closers []func() error
	var reps []runner.Reporter
	if f.jsonOut != "" {
		w := stdout
		if f.jsonOut == "-" {
			textOut = stderr // keep the event stream clean
		} else {
			fh, err := os.Create(f.jsonOut)
			if err != nil {
				fmt.Fprintf(stderr, "wordish: %v\n", err)
				return exitUsage
			}
			w = fh
			closers = append(closers, fh.Close)
		}
		jr := runner.NewJSONReporter(w)
		reps = append(reps, jr)
		closers = append([]func() error{jr.Close}, closers...)
	}
	if f.junitOut != "" {
		fh, err := os.Create(f.junitOut)
		if err != nil {
			fmt.Fprintf(stderr, "wordish: %v\n", err)
			return exitUsage
		}
		jr := runner.NewJUnitReporter(fh)
		jr.Plan(files)
		reps = append(reps, jr)
		closers = append(closers, jr.Close, fh.Close)
	}
	if f.htmlOut != "" {
		hr, cl, err := openHTMLReport(f.htmlOut, files)
		if err != nil {
			fmt.Fprintf(stderr, "wordish: %v\n", err)
			return exitUsage
		}
		reps = append(reps, hr)
		closers = append(closers, cl...)
	}
	term := isTerminal(textOut)
	text := runner.NewTextReporter(textOut, runner.TextOptions{
		Verbose:  f.verbose,
		Color:    term && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb",
		Progress: term && !f.verbose,
	})
	text.Plan(files)
	rep := runner.Reporter(text)
	if len(reps) > 0 {
		rep = multiReporter(append([]runner.Reporter{text}, reps...))
	}
	if h.wrap != nil {
		rep = h.wrap(rep)
	}
	bad := h.bad
	if bad == nil {
		bad = func(r *runner.DocResult) bool { return r.Err != nil || !r.Counts().OK() }
	}

	// Signals: the first SIGINT/SIGTERM cancels the replay (the running
	// command is interrupted, cleanup steps run, the report is printed);
	// a second one exits at once.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got atomic.Value
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		n := 0
		for s := range sigs {
			n++
			if n == 1 {
				got.Store(s)
				cancel()
				continue
			}
			fmt.Fprintf(stderr, "\nwordish: %v again, exiting without cleanup\n", s)
			os.Exit(exitInterrupted + int(s.(syscall.Signal)))
		}
	}()

	// Documents in parallel, started in argument order; the text
	// reporter keeps each document's output together, in that order.
	var failed atomic.Bool
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(f.jobs, len(files)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if errs[i] != nil {
					rep.StartDoc(files[i])
					rep.EndDoc(&runner.DocResult{Path: files[i], Err: errs[i]})
					continue
				}
				if bad(runner.Run(ctx, docs[i], opts, rep)) {
					failed.Store(true)
				}
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()

	text.Finish()
	for _, c := range closers {
		if err := c(); err != nil {
			fmt.Fprintf(stderr, "wordish: %v\n", err)
			status = exitUsage
		}
	}
	if h.after != nil {
		status = max(status, h.after(stderr))
	}
	if s, ok := got.Load().(os.Signal); ok {
		return exitInterrupted + int(s.(syscall.Signal))
	}
	if status == exitOK && failed.Load() {
		status = exitFailed
	}
	return status
}

// multiReporter sends every call to several reporters, one call at a
// time (the JSON and JUnit reporters then see documents interleave only
// between calls).
type multiReporter []runner.Reporter

var multiMu sync.Mutex

func (m multiReporter) StartDoc(path string) {
	multiMu.Lock()
	defer multiMu.Unlock()
	for _, r := range m {
		r.StartDoc(path)
	}
}

func (m multiReporter) Step(path string, s *runner.StepResult) {
	multiMu.Lock()
	defer multiMu.Unlock()
	for _, r := range m {
		r.Step(path, s)
	}
}

func (m multiReporter) EndDoc(d *runner.DocResult) {
	multiMu.Lock()
	defer multiMu.Unlock()
	for _, r := range m {
		r.EndDoc(d)
	}
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
