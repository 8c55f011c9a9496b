// Command wordish replays the shell sessions of an article and reports
// what drifted. See README.md.
package main

import (
	"fmt"
	"os"

	"github.com/wordish-go/wordish/parser"
)

// subcommands maps a subcommand name to its implementation; each returns
// the process exit status (0 ok, 1 failures, 2 usage or input errors).
// Each subcommand registers itself from its own file's init.
var subcommands = map[string]func(args []string) int{}

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

// dispatch picks the subcommand: the first argument when it names one,
// otherwise "run" (so `wordish FILE...` replays).
func dispatch(args []string) int {
	name := "run"
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help":
			return cmdHelp(nil)
		case "-version", "--version":
			return cmdVersion(nil)
		}
		if _, ok := subcommands[args[0]]; ok {
			name, args = args[0], args[1:]
		}
	}
	cmd, ok := subcommands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "wordish: unknown command %q\n", name)
		return 2
	}
	return cmd(args)
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
