package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
)

func init() {
	subcommands["help"] = cmdHelp
	subcommands["version"] = cmdVersion
}

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise it comes from the module or VCS information Go embeds.
var version = ""

// summaries are the one-line descriptions `wordish help` lists; a
// subcommand without one is still listed.
var summaries = map[string]string{
	"run":     "replay articles and report what matched and what drifted (the default)",
	"list":    "print the steps (command and expected output) of articles",
	"update":  "replay articles and rewrite the expected output of failed steps",
	"script":  "print an article's sessions as a standalone bash script",
	"version": "print the version",
	"help":    "print this help, or a command's: wordish help COMMAND",
}

func cmdHelp(args []string) int { return help(args, os.Stdout, os.Stderr) }

func help(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		name := args[0]
		cmd, ok := subcommands[name]
		if !ok {
			fmt.Fprintf(stderr, "wordish help: unknown command %q\n", name)
			return exitUsage
		}
		if name == "help" || name == "version" {
			fmt.Fprintf(stdout, "usage: wordish %s\n\n%s.\n", name, summaries[name])
			return exitOK
		}
		// Help that was asked for belongs on stdout (so it can be piped
		// to a pager); subcommands built on the flag package print their
		// usage to stderr, so point stderr at stdout for this call (the
		// process ends right after).
		saved := os.Stderr
		os.Stderr = os.Stdout
		defer func() { os.Stderr = saved }()
		return cmd([]string{"--help"})
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
		fmt.Fprintf(stdout, "  %-8s %s\n", n, summaries[n])
	}
	fmt.Fprint(stdout, `
Without a command, wordish runs "run". "wordish COMMAND --help" or
"wordish help COMMAND" describes a command and its flags.
`)
	return exitOK
}

func cmdVersion(args []string) int {
	fmt.Fprintln(os.Stdout, "wordish", versionString())
	return exitOK
}

func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			v += " " + rev + dirty
		}
	}
	return v + " " + bi.GoVersion
}
