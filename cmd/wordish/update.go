package main

import (
	"fmt"
	"io"
	"os"
)

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
file, q (or Ctrl-C) writes what was accepted so far and stops (the
articles after it are not replayed, and are left as they are). Only the
accepted outputs are written, by the same rules. -i needs a terminal
and replays one document at a time.

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
	cfg := f.config(stdout, stderr)
	cfg.Update = true
	if !f.interactive || inSandbox(f) { // the sandbox refuses -i (sandbox.go)
		return replay(f, files, cfg)
	}
	if err := needTerminal("update -i"); err != nil {
		fmt.Fprintf(stderr, "wordish: %v; run it in a terminal, or run wordish update without -i to accept every change\n", err)
		return exitUsage
	}
	cfg.Jobs = 1 // questions in the order of the documents
	term := isTerminal(stdout)
	rv := &review{fd: int(os.Stdin.Fd()), out: stdout, term: term, color: term && os.Getenv("NO_COLOR") == ""}
	cfg.Choose = rv.choose
	status = replay(f, files, cfg)
	if rv.declined > 0 {
		// Those steps still drift: the articles are not right yet.
		fmt.Fprintf(stderr, "wordish: update: %d drifted step(s) left as they were\n", rv.declined)
		if status == exitOK {
			status = exitFailed
		}
	}
	return status
}
