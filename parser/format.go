package parser

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// A reader finds the code blocks of one article syntax in p.doc.Source
// and hands each to p.addBlock (or p.addFenced, p.addPromptBlock), with
// its source lines and positions: prompts, steps and options are the
// same in every format, so a reader knows only its syntax.
type reader interface {
	read(p *parse) error
}

// formats is every article syntax wordish reads, one line each. Adding
// one is a file with its Format constant and reader, and a line here.
var formats = []struct {
	name    Format
	aliases []string // other --format names
	exts    []string // file extensions, lower case
	reader  reader
}{
	{Markdown, []string{"md"}, []string{".md", ".markdown", ".mdown", ".mkd"}, markdownReader{}},
	{RST, []string{"rest", "restructuredtext"}, []string{".rst", ".rest", ".txt"}, rstReader{}},
	{HTML, []string{"htm"}, []string{".html", ".htm", ".xhtml"}, htmlReader{}},
}

// FormatNames lists the formats for messages: "markdown, rst or html".
func FormatNames() string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f.name)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// FormatOf picks the format from a file name's extension.
func FormatOf(path string) (Format, error) {
	ext := strings.ToLower(filepath.Ext(path))
	for _, f := range formats {
		if slices.Contains(f.exts, ext) {
			return f.name, nil
		}
	}
	return "", fmt.Errorf("unknown file type %q; use --format %s", filepath.Ext(path), FormatNames())
}

// ParseFormat reads a --format value; it accepts the format names, their
// aliases and the usual extensions.
func ParseFormat(name string) (Format, error) {
	n := strings.ToLower(strings.TrimPrefix(name, "."))
	for _, f := range formats {
		if n == string(f.name) || slices.Contains(f.aliases, n) {
			return f.name, nil
		}
	}
	return "", fmt.Errorf("unknown format %q: want %s", name, FormatNames())
}

// readerOf returns the reader of a format, nil for an unknown one.
func readerOf(name Format) reader {
	for _, f := range formats {
		if f.name == name {
			return f.reader
		}
	}
	return nil
}
