package runner

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/wordish-go/wordish/expect"
	"github.com/wordish-go/wordish/parser"
)

// Script writes doc as a standalone bash script: the commands of its
// sessions in document order, each preceded by a "# FILE:LINE" comment
// and followed by the output the article expects as "# " comments. Steps
// marked skip are written commented out. Like a reader typing along (and
// like wordish), the script does not stop at a failing command: there is
// no `set -e`. It starts in a fresh temporary directory, as wordish runs
// each document.
func Script(w io.Writer, doc *parser.Document) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "#!/usr/bin/env bash\n")
	fmt.Fprintf(bw, "# The shell sessions of %s, as a script written by `wordish script`.\n", doc.Path)
	fmt.Fprintf(bw, "# Expected output is shown as comments; steps marked skip are commented out.\n")
	fmt.Fprintf(bw, "# Like wordish, it runs in a fresh temporary directory and goes on after errors.\n")
	fmt.Fprintf(bw, "cd \"$(mktemp -d)\" || exit\n")
	for _, s := range doc.Steps() {
		var notes []string
		if s.Root {
			notes = append(notes, "as root")
		}
		if s.Options.Skip {
			notes = append(notes, "skip")
		}
		if s.Options.Cleanup {
			notes = append(notes, "cleanup")
		}
		switch s.Options.Status {
		case expect.Code:
			notes = append(notes, fmt.Sprintf("exit status %d expected", s.Options.StatusCode))
		case expect.Nonzero:
			notes = append(notes, "non-zero exit status expected")
		case expect.Any:
			notes = append(notes, "any exit status")
		}
		fmt.Fprintf(bw, "\n# %s:%d", doc.Path, s.Line)
		if len(notes) > 0 {
			fmt.Fprintf(bw, " (%s)", strings.Join(notes, ", "))
		}
		bw.WriteString("\n")
		for _, l := range strings.Split(s.Command, "\n") {
			if s.Options.Skip {
				l = scriptComment(l)
			}
			bw.WriteString(l + "\n")
		}
		if s.Expected != "" {
			for _, l := range strings.Split(s.Expected, "\n") {
				bw.WriteString(scriptComment(l) + "\n")
			}
		}
	}
	return bw.Flush()
}

// scriptComment turns a line into a shell comment, with no trailing blank on an
// empty line.
func scriptComment(l string) string {
	if l == "" {
		return "#"
	}
	return "# " + l
}
