package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	lib "github.com/wordish-go/wordish"
	"github.com/wordish-go/wordish/parser"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// listedStep is one step of "wordish list --json".
type listedStep struct {
	File     string         `json:"file"`
	Line     int            `json:"line"`
	Prompt   string         `json:"prompt"`
	Root     bool           `json:"root"`
	Command  string         `json:"command"`
	Expected string         `json:"expected"`
	Options  parser.Options `json:"options"`
	Origin   string         `json:"origin,omitempty"` // e.g. "prompt directive"
}

const listUsage = "usage: wordish list [--format F] [--prompt P]... [--json] FILE...\n\nPrint the shell session steps (commands and expected output) of articles.\nA FILE can be a directory or a pattern, as for wordish run.\n\n"

func runList(args []string, stdout, stderr io.Writer) int {
	var asJSON bool
	cfg, files, status, done := readFlags("list", listUsage, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print a JSON array, one object per step")
	}, stdout, stderr)
	if done {
		return status
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "wordish: no FILE given (see: wordish list --help)")
		return 2
	}

	steps := []listedStep{}
	for _, t := range lib.Files(files) {
		if t.Err != nil {
			fmt.Fprintf(stderr, "wordish: %s\n", oneLine(t.Err.Error()))
			status = 2
			continue
		}
		doc, err := parser.ParseFile(t.Path, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "wordish: %s\n", oneLine(err.Error()))
			status = 2
			continue
		}
		if len(doc.Blocks) == 0 {
			fmt.Fprintf(stderr, "%s: no shell sessions found\n", t.Path)
		}
		for _, s := range doc.Steps() {
			steps = append(steps, listedStep{s.File, s.Line, s.Prompt, s.Root, s.Command, s.Expected, s.Options, s.Origin})
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(steps); err != nil {
			fmt.Fprintf(stderr, "wordish: %v\n", err)
			return 2
		}
		return status
	}
	for _, s := range steps {
		fmt.Fprintf(stdout, "%s:%d:", s.File, s.Line)
		if o := s.Options.String(); o != "" {
			fmt.Fprintf(stdout, " [%s]", o)
		}
		if s.Origin != "" {
			fmt.Fprintf(stdout, " (%s)", s.Origin)
		}
		fmt.Fprintln(stdout)
		for i, l := range strings.Split(s.Command, "\n") {
			if i == 0 {
				fmt.Fprintf(stdout, "    %s%s\n", s.Prompt, l)
			} else {
				fmt.Fprintf(stdout, "    > %s\n", l)
			}
		}
		if s.Expected != "" {
			for _, l := range strings.Split(s.Expected, "\n") {
				fmt.Fprintf(stdout, "    %s\n", l)
			}
		}
		fmt.Fprintln(stdout)
	}
	return status
}

// oneLine keeps an error message on one line, as callers grep for
// "FILE:LINE: message".
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
