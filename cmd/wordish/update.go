package main

// For the main runner engineer: runUpdate needs replay (run.go) with one
// extra step, wrapping the reporter in a runner.Updater. Until replay
// takes such a hook, replayUpdate below is a copy of replay with that one
// change; please give replay a `wrap func(runner.Reporter) runner.Reporter`
// parameter (or a field of runFlags) so that this copy can go.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

func init() {
	subcommands["update"] = cmdUpdate
}

func cmdUpdate(args []string) int {
	return runUpdate(args, os.Stdout, os.Stderr)
}

const updateUsage = `usage: wordish update [flags] FILE...

Replay articles as "wordish run" does, print the same report, then rewrite
in each Markdown or reStructuredText file the expected output of every
failed step with the output the step produced, touching no other byte of
the file. A line of the old output holding a "..." wildcard is kept where
it still fits the new output. Errored steps are not rewritten. HTML pages
are refused: update the source the page was built from.

Exit status: 0 when every failed step was rewritten and nothing errored,
1 when a step errored, 2 for usage errors, unreadable documents, HTML
pages and files that could not be written.

Flags:
`

func runUpdate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("update", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f runFlags
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), updateUsage)
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
		return exitUsage
	}
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "wordish update: %v\n", err)
		return exitUsage
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "wordish update: no FILE given; see wordish update --help")
		return exitUsage
	}
	if f.sandbox == "vm" {
		// The VM sees the host's files through a throwaway overlay: a
		// rewrite made there would be lost.
		fmt.Fprintln(stderr, "wordish update: --sandbox vm is not supported; run wordish run --sandbox vm, then update outside the VM")
		return exitUsage
	}
	return replayUpdate(files, f, stdout, stderr)
}

// replayUpdate is replay (run.go) with the reporter wrapped in a
// runner.Updater, and the update's own checks and summary.
func replayUpdate(files []string, f runFlags, stdout, stderr io.Writer) int {
	opts := f.options()
	opts.Update = true
	cfg := parser.Config{Format: opts.Format, Prompts: opts.Prompts}

	docs := make([]*parser.Document, len(files))
	errs := make([]error, len(files))
	status := exitOK
	for i, path := range files {
		docs[i], errs[i] = parser.ParseFile(path, cfg)
		if errs[i] != nil {
			status = exitUsage
		}
	}
	// Refuse before running anything what cannot be rewritten afterwards.
	ok := true
	for _, d := range docs {
		if d == nil {
			continue
		}
		if d.Format == parser.HTML {
			fmt.Fprintf(stderr, "wordish update: %s: cannot rewrite an HTML page; update the source the page was built from (Markdown or reStructuredText) and rebuild the page\n", d.Path)
			ok = false
		}
		if err := runner.CheckRoot(d); err != nil {
			fmt.Fprintf(stderr, "wordish: %v\n", err)
			ok = false
		}
	}
	if !ok {
		return exitUsage
	}

	textOut := stdout
	var closers []func() error
	var reps []runner.Reporter
	if f.jsonOut != "" {
		w := stdout
		if f.jsonOut == "-" {
			textOut = stderr
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
		reps = append(reps, jr)
		closers = append(closers, jr.Close, fh.Close)
	}
	term := isTerminal(textOut)
	text := runner.NewTextReporter(textOut, runner.TextOptions{
		Verbose:  f.verbose,
		Color:    term && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb",
		Progress: term && !f.verbose,
	})
	text.Plan(files)
	var rep runner.Reporter = text
	if len(reps) > 0 {
		rep = multiReporter(append([]runner.Reporter{text}, reps...))
	}
	upd := runner.NewUpdater(rep)

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

	var errored atomic.Bool
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(f.jobs, len(files)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if errs[i] != nil {
					upd.StartDoc(files[i])
					upd.EndDoc(&runner.DocResult{Path: files[i], Err: errs[i]})
					continue
				}
				res := runner.Run(ctx, docs[i], opts, upd)
				if res.Err != nil || res.Counts().Errored > 0 {
					errored.Store(true)
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

	// What was rewritten, in argument order, after the report.
	changed := upd.Changed()
	paths := make([]string, 0, len(changed))
	for p := range changed {
		paths = append(paths, p)
	}
	order := map[string]int{}
	for i, p := range files {
		if _, dup := order[p]; !dup {
			order[p] = i
		}
	}
	sort.Slice(paths, func(i, j int) bool { return order[paths[i]] < order[paths[j]] })
	for _, p := range paths {
		fmt.Fprintf(stderr, "wordish update: %s: rewrote the expected output of %d step(s)\n", p, changed[p])
	}
	for _, err := range upd.Errs() {
		fmt.Fprintf(stderr, "wordish update: %v\n", err)
		status = exitUsage
	}

	if s, ok := got.Load().(os.Signal); ok {
		return exitInterrupted + int(s.(syscall.Signal))
	}
	if status == exitOK && errored.Load() {
		status = exitFailed
	}
	return status
}
