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
	"sync"
	"sync/atomic"
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
// replay like it).
type runFlags struct {
	format, shell, workdir, sandbox          string
	reports                                  reportFiles // --json FILE etc., by format name
	maxSize                                  int64
	prompts, env                             stringList
	timeout                                  time.Duration
	keep, keepGoing, verbose, sandboxInstall bool
	interactive                              bool // update -i
	shellOnFailure                           bool // run, step
	jobs                                     int
	jobsSet                                  bool // -j given (a guest's default -j is its own)

	quiet       bool
	color       string
	runPattern  string
	runRE       *regexp.Regexp
	shard       shardSpec
	shardTiming string
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.format, "format", "", "article format: markdown, rst or html (default: from each file's extension)")
	fs.Var(&f.prompts, "prompt", "also recognise this prompt, e.g. 'mysql> ' (repeatable; a trailing # marks root)")
	fs.StringVar(&f.shell, "shell", "", "shell to run the commands in (default: bash)")
	fs.DurationVar(&f.timeout, "timeout", runner.DefaultTimeout, "time limit of each command (a step's timeout= option overrides it)")
	fs.Var(&f.env, "env", "set K=V in the shell's environment (repeatable)")
	fs.StringVar(&f.workdir, "workdir", "", "run in this directory (default: a fresh temporary directory per document; implies -j 1 unless -j is given)")
	fs.BoolVar(&f.keep, "keep", false, "keep the temporary working directories")
	fs.BoolVar(&f.keepGoing, "keep-going", false, "go on replaying a document after a step errored")
	fs.BoolVar(&f.verbose, "v", false, "verbose: show passing and skipped steps and durations")
	fs.BoolVar(&f.quiet, "q", false, "quiet: show only what went wrong, and the summary")
	fs.BoolVar(&f.quiet, "quiet", false, "same as -q")
	fs.StringVar(&f.color, "color", "auto", "colour the report: `auto` (on a terminal, unless NO_COLOR is set or TERM=dumb; FORCE_COLOR forces it), always or never")
	fs.StringVar(&f.runPattern, "run", "", "run only the steps whose name (`REGEX` matched against FILE/L42_slug, as in --json) matches; earlier steps still replay")
	fs.Var(&f.shard, "shard", "replay only shard `K/N` of the documents (a deterministic split, balanced by steps or by --shard-timing)")
	fs.StringVar(&f.shardTiming, "shard-timing", "", "balance --shard by the durations in `FILE`, a previous --json or --junit report")
	fs.IntVar(&f.jobs, "j", runtime.NumCPU(), "replay up to `N` documents in parallel")
	fs.Int64Var(&f.maxSize, "max-size", defaultMaxSize, "refuse documents larger than `BYTES`")
	for _, rf := range runner.ReportFormats {
		fs.Var(reportFlag{&f.reports, rf.Name}, rf.Name, rf.Usage)
	}
	fs.StringVar(&f.sandbox, "sandbox", "", "run in a throwaway VM, as root: vm (the fastest backend usable here), uml or qemu; see wordish sandbox check")
	fs.BoolVar(&f.sandboxInstall, "sandbox-install", false, "install what the VM sandbox needs (apt-get) when missing")
	if fs.Name() == "run" || fs.Name() == "step" {
		fs.BoolVar(&f.shellOnFailure, "shell-on-failure", false, "at the first failing or errored step, hand the terminal over inside the article's shell; exit resumes the replay, exit 1 stops it")
	}
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
	switch f.color {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("--color %q: want auto, always or never", f.color)
	}
	if f.quiet && f.verbose {
		return fmt.Errorf("-q and -v contradict each other")
	}
	if f.runPattern != "" {
		re, err := regexp.Compile(f.runPattern)
		if err != nil {
			return fmt.Errorf("--run: %v", err)
		}
		f.runRE = re
	}
	if f.shardTiming != "" && f.shard.n == 0 {
		return fmt.Errorf("--shard-timing needs --shard K/N")
	}
	// The shell runs here unless a sandbox runs it (it checks there).
	if f.shell != "" && (f.sandbox == "" || f.sandbox == "host" || os.Getenv("WORDISH_IN_VM") != "") {
		if _, err := exec.LookPath(f.shell); err != nil {
			return fmt.Errorf("--shell %s: %v", f.shell, errors.Unwrap(err))
		}
	}
	return nil
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
	if err := f.reports.check(files); err != nil {
		fmt.Fprintf(stderr, "wordish: %v\n", err)
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
	targets, sels, ok := selectTargets(files, f, parser.Config{Format: opts.Format, Prompts: opts.Prompts}, stderr)
	if !ok {
		return exitUsage
	}
	p := newReplayPlan(targets, sels, opts)
	status := exitOK
	if p.unreadable {
		status = exitUsage
	}
	if !p.check(h.check, stderr) {
		return exitUsage
	}

	// Reporters.
	reps, textOut, closers, err := f.reports.open(p.files, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "wordish: %v\n", err)
		return exitUsage
	}
	term := isTerminal(textOut)
	text := runner.NewTextReporter(textOut, runner.TextOptions{
		Verbose: f.verbose,
		Quiet:   f.quiet,
		Color:   colorOn(f.color, term),
		// The progress line is redrawn with "\r\x1b[K": only for a
		// terminal that understands it.
		Progress: term && !f.verbose && os.Getenv("TERM") != "dumb",
		Total:    p.total,
	})
	text.Begin(p.files)
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

	// Signals: the first SIGINT, SIGTERM, SIGHUP, SIGQUIT or SIGPIPE (or
	// a closed standard output) cancels the replay (the running command
	// is interrupted, cleanup steps run, the report is printed); a second
	// one exits at once (signals.go).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := watchStop(cancel, stdout, stderr)
	defer stop.stop()

	failed := p.replay(ctx, f.jobs, rep, bad)

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
	if st := stop.status(); st != 0 {
		return st
	}
	if status == exitOK && failed {
		status = exitFailed
	}
	return status
}

// selectTargets parses the documents named by files and keeps those the
// selection (--run, --shard) picks, with each one's step selector. It
// parses everything first: a root step without root stops the whole run
// before any command runs. An unreadable document (or a typo in a
// directive) is kept, to be reported in its place in the report, and the
// others still run. A document named twice is replayed once: the
// reporters know a document by its path, so two replays of it in
// parallel would mix. ok is false on a usage error (said on stderr).
func selectTargets(files []string, f runFlags, cfg parser.Config, stderr io.Writer) (targets []*target, sels map[*target]func(*parser.Step) bool, ok bool) {
	targets = expandArgs(files)
	sels = map[*target]func(*parser.Step) bool{}
	for _, t := range targets {
		if t.err != nil {
			continue
		}
		t.doc, t.err = parseArticle(t.path, cfg, f.maxSize)
		if t.err != nil {
			continue
		}
		if len(t.doc.Blocks) == 0 {
			fmt.Fprintf(stderr, "%s: no shell sessions found\n", t.path)
		}
		sel, err := t.selector(f.runRE)
		if err != nil {
			fmt.Fprintf(stderr, "wordish: %v\n", err)
			return nil, nil, false
		}
		sels[t] = sel
	}
	if f.runRE != nil {
		kept, any := targets[:0:0], false
		for _, t := range targets {
			if t.doc == nil || countSelected(t.doc, sels[t]) > 0 {
				kept = append(kept, t)
				any = any || t.doc != nil
			}
		}
		if !any {
			fmt.Fprintf(stderr, "wordish: --run %q selects no step (names are FILE/L<line>_<command>, as wordish list shows the lines)\n", f.runPattern)
			return nil, nil, false
		}
		targets = kept
	}
	if f.shard.n > 0 {
		var timing map[string]float64
		if f.shardTiming != "" {
			var err error
			if timing, err = readTiming(f.shardTiming); err != nil {
				fmt.Fprintf(stderr, "wordish: --shard-timing: %v\n", err)
				return nil, nil, false
			}
		}
		shard := shardOf(targets, f.shard.n, timing)
		kept := targets[:0:0]
		for i, t := range targets {
			if shard[i] == f.shard.k-1 {
				kept = append(kept, t)
			}
		}
		targets = kept
	}
	return targets, sels, true
}

// replayPlan is what a replay will do, by document in argument order:
// a parsed document and its options, or the error that makes it
// unreadable.
type replayPlan struct {
	files      []string
	docs       []*parser.Document // nil for an unreadable one
	errs       []error
	opts       []runner.Options
	total      int  // steps that will start, for the progress line
	unreadable bool // some document could not be read or parsed
}

func newReplayPlan(targets []*target, sels map[*target]func(*parser.Step) bool, opts runner.Options) *replayPlan {
	n := len(targets)
	p := &replayPlan{files: make([]string, n), docs: make([]*parser.Document, n), errs: make([]error, n), opts: make([]runner.Options, n)}
	for i, t := range targets {
		p.files[i], p.errs[i] = t.path, t.err
		if t.err != nil {
			p.unreadable = true
			continue
		}
		p.docs[i] = t.doc
		p.opts[i] = opts
		p.opts[i].Select = sels[t]
		p.total += startedSteps(t.doc, sels[t])
	}
	return p
}

// check refuses, before anything runs, a root step without root and
// whatever the hook's check refuses; each refusal is said on stderr.
func (p *replayPlan) check(hook func(*parser.Document) error, stderr io.Writer) bool {
	ok := true
	for _, d := range p.docs {
		if d == nil {
			continue
		}
		if err := runner.CheckRoot(d); err != nil {
			fmt.Fprintf(stderr, "wordish: %v\n", err)
			ok = false
		}
		if hook != nil {
			if err := hook(d); err != nil {
				fmt.Fprintf(stderr, "wordish: %v\n", err)
				ok = false
			}
		}
	}
	return ok
}

// replay runs the documents, up to jobs in parallel, started in argument
// order (the text reporter keeps each document's output together, in
// that order), and reports whether bad held for one of them.
func (p *replayPlan) replay(ctx context.Context, jobs int, rep runner.Reporter, bad func(*runner.DocResult) bool) bool {
	var failed atomic.Bool
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(jobs, len(p.files)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if p.errs[i] != nil {
					rep.StartDoc(p.files[i])
					rep.EndDoc(&runner.DocResult{Path: p.files[i], Err: p.errs[i]})
					continue
				}
				if bad(runner.Run(ctx, p.docs[i], p.opts[i], rep)) {
					failed.Store(true)
				}
			}
		}()
	}
	for i := range p.files {
		next <- i
	}
	close(next)
	wg.Wait()
	return failed.Load()
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

// StartStep passes the news on to the reporters that want it (the text
// report's progress line); no lock: it only reaches StepStarters.
func (m multiReporter) StartStep(path string, s *parser.Step) {
	for _, r := range m {
		if st, ok := r.(runner.StepStarter); ok {
			st.StartStep(path, s)
		}
	}
}

func (m multiReporter) EndDoc(d *runner.DocResult) {
	multiMu.Lock()
	defer multiMu.Unlock()
	for _, r := range m {
		r.EndDoc(d)
	}
}

// startedSteps counts the steps of doc whose command will start under
// the selection sel (runner.Options.Select): not the skipped ones, nor
// those after the last selected step but cleanup steps.
func startedSteps(doc *parser.Document, sel func(*parser.Step) bool) int {
	steps := doc.Steps()
	last := len(steps) - 1
	if sel != nil {
		for last >= 0 && !sel(steps[last]) {
			last--
		}
	}
	n := 0
	for i, s := range steps {
		if !s.Options.Skip && (i <= last || s.Options.Cleanup) {
			n++
		}
	}
	return n
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
