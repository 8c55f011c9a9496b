// Command wordish replays the shell sessions of an article and reports
// what drifted. See README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	lib "github.com/wordish-go/wordish"
	"github.com/wordish-go/wordish/parser"
)

// command is a subcommand: run gets the arguments after its name and
// returns the process exit status (0 ok, 1 failures, 2 usage or input
// errors); summary is its line in `wordish help`.
type command struct {
	run     func(args []string, stdout, stderr io.Writer) int
	summary string
}

// subcommands are the commands by name; set in init, as help reads it.
var subcommands map[string]command

func init() {
	subcommands = map[string]command{
		"run":     {runMain, "replay articles and report what matched and what drifted (the default)"},
		"list":    {runList, "print the steps (command and expected output) of articles"},
		"update":  {runUpdate, "replay articles and rewrite the expected output of failed steps"},
		"script":  {runScript, "print an article's sessions as a standalone bash script"},
		"step":    {stepMain, "replay an article one step at a time, one key per step"},
		"watch":   {watchMain, "replay articles again each time one is saved, until Ctrl-C"},
		"sandbox": {sandboxCmd, "check or install the VM sandbox (--sandbox vm): wordish sandbox check|install"},
		"version": {versionMain, "print the version"},
		"help":    {help, "print this help, or a command's: wordish help COMMAND"},
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// dispatch picks the subcommand: the first argument when it names one,
// "run" when it is a flag or looks like an article (so `wordish FILE...`
// replays), and otherwise a usage error: a mistyped command must not
// silently become a run of the files after it.
func dispatch(args []string, stdout, stderr io.Writer) int {
	name := "run"
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help":
			return help(nil, stdout, stderr)
		case "-version", "--version":
			return versionMain(nil, stdout, stderr)
		}
		if _, ok := subcommands[args[0]]; ok {
			name, args = args[0], args[1:]
		} else if !looksLikeFile(args[0]) {
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := suggest(args[0], commandNames()); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			fmt.Fprintf(stderr, "wordish: %s (see: wordish help)\n", msg)
			return exitUsage
		}
	}
	return subcommands[name].run(args, stdout, stderr)
}

// articleExt matches the extensions of the formats wordish reads (see
// parser.FormatOf); a word ending so is a document even when missing.
var articleExt = regexp.MustCompile(`(?i)\.(md|markdown|rst|rest|html?)(:[0-9,]+)?$`)

// looksLikeFile reports whether the first word of a command line is meant
// as a FILE of `wordish run`: a flag, an existing path, a name with an
// article's extension (also as FILE:LINE), a glob pattern, or a path.
func looksLikeFile(arg string) bool {
	if strings.HasPrefix(arg, "-") || articleExt.MatchString(arg) ||
		strings.ContainsAny(arg, "*?[/"+string(filepath.Separator)) {
		return true
	}
	_, err := os.Stat(lib.FileOf(arg))
	return err == nil
}

func commandNames() []string {
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// suggest returns the candidate closest to word when it is close enough
// to be a typo of it (an edit distance of at most a third of its length,
// and at least 1), or "".
func suggest(word string, candidates []string) string {
	best, bestD := "", 0
	for _, c := range candidates {
		d := editDistance(strings.ToLower(word), strings.ToLower(c))
		if d <= max(1, len(c)/3) && (best == "" || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Damerau–Levenshtein distance (optimal string
// alignment: a swap of two neighbours counts as one edit), by bytes.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// parseFlags parses the flags of a subcommand, which may come after its
// FILE arguments too (`wordish a.md -v`), as most command-line tools
// allow; "--" ends the flags. A mistake is printed as one line that
// starts with "wordish: ", with a suggestion for a mistyped flag name,
// and a pointer to the help; the error is then flag.ErrHelp for -h
// (nothing printed: the caller prints the help) or errUsage.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			fmt.Fprintf(stderr, "wordish: %s (see: wordish %s --help)\n", flagError(fs, err), fs.Name())
			return nil, errUsage
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

// errUsage is a usage error already reported to the user.
var errUsage = errors.New("usage error")

// flagError rewords the flag package's errors, which name flags with one
// dash whatever the user typed.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		msg = fmt.Sprintf("unknown flag %s", dashes(name))
		if s := suggest(name, names); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", dashes(s))
		}
		return msg
	}
	if m := invalidValueRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s %s: %s", dashes(m[2]), m[1], m[3])
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Sprintf("flag %s needs a value", dashes(name))
	}
	return msg
}

// invalidValueRE reads the flag package's `invalid value "V" for flag
// -NAME: ERR`.
var invalidValueRE = regexp.MustCompile(`^invalid (?:boolean )?value (".*") for flag -([^:]+): (.*)$`)

// dashes writes a flag as the help does: -v, --timeout.
func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// readFlags parses the flags of a command that reads articles without
// replaying them (list, script): --format, --prompt and those extra
// registers. done is true when the command ends here, with status: help
// asked for (printed on stdout), or a usage error (said on stderr).
func readFlags(name, usage string, args []string, extra func(*flag.FlagSet), stdout, stderr io.Writer) (cfg parser.Config, files []string, status int, done bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var format string
	var prompts []string
	registerParse(fs, &format, &prompts)
	if extra != nil {
		extra(fs)
	}
	files, err := parseFlags(fs, args, stderr)
	if err == flag.ErrHelp {
		fmt.Fprint(stdout, usage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return cfg, nil, exitOK, true
	}
	if err != nil {
		return cfg, nil, exitUsage, true
	}
	if cfg, err = parserConfig(format, prompts); err != nil {
		fmt.Fprintf(stderr, "wordish: %v\n", err)
		return cfg, nil, exitUsage, true
	}
	return cfg, files, exitOK, false
}

// parserConfig is the parser.Config that the --format and --prompt flags
// ask for.
func parserConfig(format string, prompts []string) (parser.Config, error) {
	cfg := parser.Config{Prompts: prompts}
	if format != "" {
		f, err := parser.ParseFormat(format)
		if err != nil {
			return cfg, err
		}
		cfg.Format = f
	}
	return cfg, nil
}
