package main

import (
	"fmt"
	"io"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

const scriptUsage = "usage: wordish script [--format F] [--prompt P]... FILE\n\n" +
	"Print the shell sessions of an article as a standalone bash script: the\n" +
	"commands in order, each preceded by a FILE:LINE comment and followed by\n" +
	"its expected output as comments; steps marked skip are commented out.\n\n"

// runScript is `wordish script`: it prints the sessions of one article as
// a standalone bash script (see runner.Script).
func runScript(args []string, stdout, stderr io.Writer) int {
	cfg, files, status, done := readFlags("script", scriptUsage, args, nil, stdout, stderr)
	if done {
		return status
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "wordish: script takes one FILE, got %d (see: wordish script --help)\n", len(files))
		return 2
	}
	doc, err := parser.ParseFile(files[0], cfg)
	if err != nil {
		fmt.Fprintf(stderr, "wordish: %v\n", err)
		return 2
	}
	if err := runner.Script(stdout, doc); err != nil {
		fmt.Fprintf(stderr, "wordish: %v\n", err)
		return 1
	}
	return 0
}
