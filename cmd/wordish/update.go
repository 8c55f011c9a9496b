package main

import (
	"fmt"
	"io"
	"os"
	"sort"

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
are refused: update the source the page was built from. With --sandbox
vm the articles are replayed in the VM, and their directories are shared
with it read-write so that the rewrite reaches them.

With -i, each drifted step's diff is shown after its document has
replayed, with a question answered by one key: y writes the new output,
n leaves the step as it is, a writes it and every remaining one of the
file, q (or Ctrl-C) writes what was accepted so far and asks nothing
more (the articles after it still replay, and are left as they
are). Only the accepted outputs are written, by the same rules. -i
needs a terminal and replays one document at a time.

Exit status: 0 when every failed step was rewritten and nothing errored
(with -i: 1 when a drifted step was left as it was),
1 when a step errored, 2 for usage errors, unreadable documents, HTML
pages and files that could not be written.

Flags:
`

func runUpdate(args []string, stdout, stderr io.Writer) int {
	f, files, status, done := parseReplayFlags("update", updateUsage, args, stdout, stderr)
	if done {
		return status
	}
	if inSandbox(f) {
		// The VM sees the host's files through a throwaway overlay; the
		// documents' directories are shared with it so the rewrite lands.
		return sandboxUpdate(f, files)
	}
	var choose func(*runner.DocResult) []*runner.StepResult
	if f.interactive {
		if err := needTerminal("update -i"); err != nil {
			fmt.Fprintf(stderr, "wordish: %v; run it in a terminal, or run wordish update without -i to accept every change\n", err)
			return exitUsage
		}
		f.jobs = 1 // questions in the order of the documents
		term := isTerminal(stdout)
		rv := &review{fd: int(os.Stdin.Fd()), out: stdout, term: term, color: term && os.Getenv("NO_COLOR") == ""}
		status := replayUpdate(files, f, rv.choose, stdout, stderr)
		if rv.declined > 0 {
			// Those steps still drift: the articles are not right yet.
			fmt.Fprintf(stderr, "wordish: update: %d drifted step(s) left as they were\n", rv.declined)
			if status == exitOK {
				status = exitFailed
			}
		}
		return status
	}
	return replayUpdate(files, f, choose, stdout, stderr)
}

// replayUpdate is replay (run.go) with the reporter wrapped in a
// runner.Updater, which rewrites each document when it ends, HTML pages
// refused before anything runs, and a list of the rewritten files after
// the report.
// choose, when not nil, picks the results to write (update -i).
func replayUpdate(files []string, f runFlags, choose func(*runner.DocResult) []*runner.StepResult, stdout, stderr io.Writer) int {
	var upd *runner.Updater
	return replayWith(files, f, replayHooks{
		options: func(o *runner.Options) { o.Update = true },
		check: func(d *parser.Document) error {
			if d.Format == parser.HTML {
				return fmt.Errorf("update: %s: cannot rewrite an HTML page; update the source the page was built from (Markdown or reStructuredText) and rebuild the page", d.Path)
			}
			return nil
		},
		wrap: func(r runner.Reporter) runner.Reporter {
			upd = runner.NewUpdater(r)
			upd.Choose = choose
			return upd
		},
		// A failed step is fixed by the rewrite; an errored one is not.
		bad: func(r *runner.DocResult) bool { return r.Err != nil || r.Counts().Errored > 0 },
		after: func(stderr io.Writer) int {
			return reportUpdates(upd, files, stderr)
		},
	}, stdout, stderr)
}

// reportUpdates lists the rewritten files, in argument order, and the
// errors met writing them (status 2).
func reportUpdates(upd *runner.Updater, files []string, stderr io.Writer) int {
	if upd == nil {
		return exitOK
	}
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
	sort.Slice(paths, func(i, j int) bool { // a directory's files: by path
		if order[paths[i]] != order[paths[j]] {
			return order[paths[i]] < order[paths[j]]
		}
		return paths[i] < paths[j]
	})
	for _, p := range paths {
		fmt.Fprintf(stderr, "wordish: update: %s: rewrote the expected output of %d step(s)\n", p, changed[p])
	}
	status := exitOK
	for _, err := range upd.Errs() {
		fmt.Fprintf(stderr, "wordish: update: %v\n", err)
		status = exitUsage
	}
	return status
}
