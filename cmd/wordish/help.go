package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"sort"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise it comes from the module or VCS information Go embeds.
var version = ""

func help(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		name := args[0]
		cmd, ok := subcommands[name]
		if !ok {
			msg := fmt.Sprintf("help: unknown command %q", name)
			if s := suggest(name, commandNames()); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			fmt.Fprintf(stderr, "wordish: %s\n", msg)
			return exitUsage
		}
		if name == "help" || name == "version" {
			fmt.Fprintf(stdout, "usage: wordish %s\n\n%s.\n", name, cmd.summary)
			return exitOK
		}
		// Help that was asked for belongs on stdout (so it can be piped
		// to a pager), the flag package's usage included.
		return cmd.run([]string{"--help"}, stdout, stdout)
	}
	fmt.Fprint(stdout, `wordish replays the shell sessions of articles (Markdown, reStructuredText,
HTML) and reports, step by step, what matched and what drifted.

usage: wordish [COMMAND] [flags] FILE...

Commands:
`)
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(stdout, "  %-8s %s\n", n, subcommands[n].summary)
	}
	fmt.Fprint(stdout, `
Without a command, wordish runs "run": "wordish FILE..." replays. A first
word that is neither a command nor a file (an existing path, a name with
an article's extension, a pattern) is a usage error, so that a mistyped
command does not silently replay the files after it.
`+selectionHelp+exitTable+`
"wordish COMMAND --help" or "wordish help COMMAND" describes a command and
its flags.
`)
	return exitOK
}

// selectionHelp says what the FILE arguments of run and update can be.
const selectionHelp = `
Selection: each FILE is
  FILE             an article: .md, .rst (or .txt), .html, by its extension
                   or --format
  FILE:LINE[,...]  the steps at those lines: the steps before them replay
                   too, to rebuild the state, but only those are reported
                   (and an earlier step that errored, which stops the rest)
  DIR              every .md .markdown .rst .html .htm file below DIR, in
                   sorted order, skipping hidden directories, vendor and
                   node_modules
  PATTERN          a glob, when the shell left it alone: "docs/**/*.md"
                   ("**" is any number of directories)
--run REGEX keeps the steps whose name matches: FILE/L<line>_<command>,
the names of --json, --junit and "go test -run" (README.md/L42_pvcreate).
--shard K/N keeps shard K of N of the documents (see docs/ci.md).
`

// exitTable is the documented exit status table.
const exitTable = `
Exit status:
  0        every step passed or was skipped
  1        a step failed or errored
  2        a usage error (nothing ran), or a document could not be read or
           parsed (the others still ran; 2 wins over 1)
  128+N    interrupted by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP,
           131 SIGQUIT, 141 standard output closed): the running command
           was stopped, the cleanup steps ran and the report was printed
`

func versionMain(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "wordish: version takes no argument, got %q\n", args[0])
		return exitUsage
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionString(bi))
	return exitOK
}

// versionString is "wordish VERSION (commit REV[, modified], GOVERSION)":
// the module version the binary was built as (a tag or pseudo-version
// under go install, "(devel)" from a work tree), then the commit when
// the build recorded it (vcs.revision: a build in a clone, unless
// -buildvcs=false), and the Go release. -ldflags -X main.version=...
// overrides the version.
func versionString(bi *debug.BuildInfo) string {
	if bi == nil {
		v := version
		if v == "" {
			v = "(unknown)"
		}
		return "wordish " + v
	}
	v := bi.Main.Version
	if version != "" {
		v = version
	}
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	extra := bi.GoVersion
	if rev != "" {
		extra = "commit " + rev + modified + ", " + extra
	}
	return fmt.Sprintf("wordish %s (%s)", v, extra)
}
