// Command wordish replays the shell sessions of an article and reports
// what drifted. See README.md.
package main

import (
	"fmt"
	"os"
)

// subcommands maps a subcommand name to its implementation; each returns
// the process exit status (0 ok, 1 failures, 2 usage or input errors).
var subcommands = map[string]func(args []string) int{}

func main() {
	args := os.Args[1:]
	name := "run"
	if len(args) > 0 {
		if _, ok := subcommands[args[0]]; ok {
			name, args = args[0], args[1:]
		}
	}
	cmd, ok := subcommands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "wordish: unknown command %q\n", name)
		os.Exit(2)
	}
	os.Exit(cmd(args))
}
