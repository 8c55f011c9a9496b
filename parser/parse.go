package parser

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"
)

// Error formats the error as "FILE:LINE: message", or "FILE: message"
// when the line is unknown.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Steps returns the steps of all sessions in document order.
func (d *Document) Steps() []*Step {
	var steps []*Step
	for _, s := range d.Blocks {
		steps = append(steps, s.Steps...)
	}
	return steps
}

// RenderOutput gives the bytes that update mode writes in place of
// Source[s.OutputStart:s.OutputEnd] to make text the step's expected
// output: each line behind s.LinePrefix (whose trailing blanks are dropped
// on empty lines, as editors do), ended the way the file ends its lines.
// Empty text gives nothing.
func (d *Document) RenderOutput(s *Step, text string) []byte {
	text = strings.TrimRight(text, "\n")
	if text == "" {
		return nil
	}
	nl := "\n"
	if d.CRLF {
		nl = "\r\n"
	}
	var b bytes.Buffer
	for _, l := range strings.Split(text, "\n") {
		if l == "" {
			b.WriteString(strings.TrimRight(s.LinePrefix, " \t"))
		} else {
			b.WriteString(s.LinePrefix)
			b.WriteString(l)
		}
		b.WriteString(nl)
	}
	return b.Bytes()
}

// ParseFile reads and parses one article.
func ParseFile(path string, cfg Config) (*Document, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		if pe, ok := err.(*os.PathError); ok {
			msg = pe.Err.Error()
		}
		return nil, &Error{File: path, Msg: msg}
	}
	return Parse(path, src, cfg)
}

// Parse parses an article held in memory; path names it in positions and
// errors and, when cfg.Format is empty, gives its format. Errors are
// *Error values; a document with an error in a directive is not returned,
// so that a mistyped "skip" can never let a command run.
func Parse(path string, src []byte, cfg Config) (*Document, error) {
	f := cfg.Format
	if f == "" {
		var err error
		if f, err = FormatOf(path); err != nil {
			return nil, &Error{File: path, Msg: err.Error()}
		}
	}
	if !utf8.Valid(src) {
		return nil, &Error{File: path, Line: invalidUTF8Line(src), Msg: "invalid UTF-8"}
	}
	doc := &Document{Path: path, Format: f, Source: src, CRLF: bytes.Contains(src, []byte("\r\n")), Config: cfg}
	p := &parse{doc: doc, prompts: newPromptSet(cfg.Prompts), sh: getShell()}
	defer putShell(p.sh)
	// Real articles use a small fraction of this; see shell.budget.
	p.sh.budget = 4*len(src) + 2<<20
	r := readerOf(f)
	if r == nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("unknown format %q", f)}
	}
	if err := r.read(p); err != nil {
		return nil, err
	}
	return doc, nil
}

func invalidUTF8Line(src []byte) int {
	line := 1
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		i += n
	}
	return line
}

// parse is the state of one Parse call.
type parse struct {
	doc     *Document
	prompts *promptSet
	sh      *shell
}

func (p *parse) errorf(line int, format string, args ...any) *Error {
	return &Error{File: p.doc.Path, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// addBlock splits a code block into steps and records it as a session
// when it is one.
func (p *parse) addBlock(b *block) error {
	steps, err := p.split(b)
	if err != nil || len(steps) == 0 {
		return err
	}
	line := b.line
	if line == 0 && len(b.lines) > 0 {
		line = b.lines[0].num
	}
	p.doc.Blocks = append(p.doc.Blocks, &Block{Line: line, Lang: b.lang, Options: b.opts, Steps: steps})
	return nil
}

// lineCounter turns offsets into 1-based line numbers. Blocks come in
// document order, so it counts on from the last offset asked about
// instead of indexing every line of a large file.
type lineCounter struct {
	src  []byte
	off  int // offset of the start of line
	line int
}

func newLineCounter(src []byte) *lineCounter { return &lineCounter{src: src, line: 1} }

func (c *lineCounter) lineOf(off int) int {
	off = min(off, len(c.src))
	if off < c.off {
		c.off, c.line = 0, 1
	}
	for {
		i := bytes.IndexByte(c.src[c.off:off], '\n')
		if i < 0 {
			return c.line
		}
		c.off += i + 1
		c.line++
	}
}

// bomLen is the length of a leading UTF-8 byte order mark, which the
// formats ignore but Source keeps.
func bomLen(src []byte) int {
	if bytes.HasPrefix(src, []byte("\xef\xbb\xbf")) {
		return 3
	}
	return 0
}
