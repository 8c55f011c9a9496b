package parser

import (
	"time"

	"github.com/wordish-go/wordish/expect"
)

// Format names an article syntax.
type Format string

const (
	Markdown Format = "markdown"
	RST      Format = "rst"
	HTML     Format = "html"
)

// Config tunes parsing. Its zero value picks the format from the file
// extension and recognises the default prompts.
type Config struct {
	Format  Format   // "" = from the file extension
	Prompts []string // extra prompts, e.g. "mysql> "; a trailing "#" marks root
}

// Document is one parsed article.
type Document struct {
	Path   string
	Format Format
	Source []byte   // the file as read (BOM included), so update mode can rewrite it
	CRLF   bool     // the file uses CRLF line endings
	Blocks []*Block // code blocks that are shell sessions, in document order
	// Config is the configuration it was parsed with (its Format as
	// given: "" for from the path), so that a rewrite reads it back alike.
	Config Config
}

// Block is one code block that holds a shell session.
type Block struct {
	Line    int    // 1-based line of the block's first content line
	Lang    string // info string / directive language, "" if none
	Options Options
	Steps   []*Step
}

// Step is one command and the output the article shows for it.
type Step struct {
	File     string
	Line     int    // 1-based line of the prompt line in the original file
	Prompt   string // the prompt as written, e.g. "~# "
	Root     bool   // written with a root ("#") prompt
	Command  string // prompt removed, continuation lines joined with "\n"
	Expected string // expected output; trailing blank lines removed, no trailing newline
	Options  Options
	// Origin says where a step comes from when that is not a code block
	// of prompts and output: OriginPromptDirective, or "".
	Origin string

	// Where the expected output lives in Document.Source, for update mode.
	// OutputStart..OutputEnd covers the whole lines of the expected output,
	// newline of the last line included; when there is no output both are
	// the offset just after the command's last line. LinePrefix is what
	// precedes each output line's text in the source (block indentation,
	// blockquote markers). Editable is false for HTML.
	OutputStart, OutputEnd int
	LinePrefix             string
	Editable               bool
}

// Options are the directives that apply to a step.
type Options struct {
	Skip         bool          `json:"skip,omitempty"`
	Cleanup      bool          `json:"cleanup,omitempty"`
	Status       expect.Kind   `json:"-"`
	StatusCode   int           `json:"-"`
	Timeout      time.Duration `json:"-"`
	IgnoreOutput bool          `json:"ignore-output,omitempty"`
	Stderr       bool          `json:"stderr,omitempty"`
	NormWS       bool          `json:"norm-ws,omitempty"`
	Regex        bool          `json:"regex,omitempty"`
	Merged       bool          `json:"merged,omitempty"` // stdout and stderr on one terminal
	Input        string        `json:"input,omitempty"`  // typed to the command (input="TEXT")
}

// Error is a parse error that names where it happened; it prints as
// "FILE:LINE: message" (or "FILE: message" when Line is 0).
type Error struct {
	File string
	Line int
	Msg  string
}
