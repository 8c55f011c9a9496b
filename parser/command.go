package parser

import (
	"bytes"
	"errors"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"
)

// shell decides whether command text is complete, with a reusable bash
// parser; the parser is only consulted for text that could be incomplete.
type shell struct {
	p   *syntax.Parser
	buf []byte
	rd  bytes.Reader
	// budget is how many more bytes the parser may read for this
	// document. Re-parsing a command as it grows costs quadratic time, so
	// a crafted article (thousands of lines of a function that never
	// ends, each holding a "}") could take minutes; past the budget, a
	// command the quick scan cannot settle is an error. Heredoc bodies,
	// open quotes and lines without the open construct's closer cost no
	// parsing.
	budget int
}

var shellPool = sync.Pool{New: func() any {
	return &shell{p: syntax.NewParser(syntax.Variant(syntax.LangBash))}
}}

func getShell() *shell  { return shellPool.Get().(*shell) }
func putShell(s *shell) { shellPool.Put(s) }

// command gathers the lines of one command as they come.
type command struct {
	sh    *shell
	lines []string
	size  int
	scan  cmdEndScanner
	// heredoc is the terminator of an open heredoc: until a line matches
	// it, the command goes on without asking the parser again, which keeps
	// long heredocs linear.
	heredoc string
	// open says the parser found the command open, not for a heredoc and
	// not after a trailing operator, when it last looked: a line that
	// holds nothing that could close a construct leaves it open.
	open bool
	// closer is what the construct the parser last found open ends with
	// ("}", "fi", a quote): a line without it cannot complete the
	// command, so long bodies cost no parsing until it comes.
	closer string
	// always asks the parser, for tests of the shortcuts; the trailing
	// backslash is the one case the scan knows better than the parser.
	always bool
	// spent says the document's parsing budget ran out while the command
	// was open: where it ends is unknown.
	spent bool
}

func (s *shell) command(first string) *command {
	c := &command{sh: s}
	c.add(first)
	return c
}

func (c *command) add(l string) {
	c.lines = append(c.lines, l)
	c.size += len(l) + 1
	c.scan.add(l)
}

// incomplete reports whether the command needs more lines.
func (c *command) incomplete() bool {
	if c.heredoc != "" && !c.always {
		if strings.TrimLeft(c.lines[len(c.lines)-1], "\t") != c.heredoc {
			return true
		}
		c.heredoc = ""
	}
	switch r := c.scan.result(); {
	case r == scanComplete && !c.always:
		return false
	case r == scanIncomplete && (!c.always || c.scan.joined):
		return true
	}
	n := len(c.lines)
	if !c.always && n > 1 {
		if c.closer != "" && !strings.Contains(c.lines[n-1], c.closer) {
			return true
		}
		if c.open && !mayClose(c.lines[n-1]) {
			return true
		}
	}
	c.open, c.closer = false, ""
	s := c.sh
	s.buf = s.buf[:0]
	for _, l := range c.lines {
		s.buf = append(s.buf, l...)
		s.buf = append(s.buf, '\n')
	}
	if s.budget -= len(s.buf); s.budget < 0 && !c.always {
		c.spent = true
		return false
	}
	s.rd.Reset(s.buf)
	_, err := s.p.Parse(&s.rd, "")
	// mvdan.cc/sh v3.14 flags an open heredoc with a quoted terminator
	// (<<'EOF') as unclosed but not as incomplete.
	var perr syntax.ParseError
	if errors.As(err, &perr) && strings.HasPrefix(perr.Text, "unclosed here-document") {
		if a, b := strings.IndexByte(perr.Text, '`'), strings.LastIndexByte(perr.Text, '`'); a >= 0 && b > a+1 {
			c.heredoc = perr.Text[a+1 : b]
		}
		return true
	}
	if !syntax.IsIncomplete(err) {
		return false
	}
	c.open = !wantsMore(c.lines[n-1])
	if errors.As(err, &perr) {
		c.closer = closerOf(perr.Text)
	}
	return true
}

// closerOf reads what the construct open at the end of the text ends
// with from mvdan.cc/sh's message ("reached EOF without matching `{`
// with `}`", "`if` statement must end with `fi`", "reached EOF without
// closing quote `"`"), "" when it does not say. A closing bracket is cut
// to its last byte: "))" may also come as ") )".
func closerOf(msg string) string {
	var c string
	switch {
	case strings.HasSuffix(msg, "without closing quote \"`\""):
		return "`"
	case strings.Contains(msg, "without matching `"), strings.Contains(msg, "must end with `"),
		strings.Contains(msg, "without closing quote `"):
		msg = strings.TrimSuffix(msg, "`")
		c = msg[strings.LastIndexByte(msg, '`')+1:]
	}
	if c != "" && strings.Trim(c, ")]}") == "" {
		c = c[len(c)-1:]
	}
	return c
}

// mayClose reports whether a line could complete an open compound
// command, substitution or quote: it needs a closing bracket, a quote, an
// operator or a keyword such as fi, done, esac, then, do or in.
func mayClose(l string) bool {
	if strings.ContainsAny(l, ")}]'\"`;&|\\") {
		return true
	}
	for _, w := range strings.Fields(l) {
		switch w {
		case "fi", "done", "esac", "then", "do", "else", "elif", "in", "!":
			return true
		}
	}
	return false
}

// wantsMore reports a line after which any next line may complete the
// command: one ending in an operator or a backslash, or a function header
// still waiting for its body. Comments hide line ends, so a line with a
// "#" counts too.
func wantsMore(l string) bool {
	l = strings.TrimSpace(l)
	return l == "" || strings.HasSuffix(l, "|") || strings.HasSuffix(l, "&") || strings.HasSuffix(l, "\\") || strings.HasSuffix(l, "!") ||
		strings.Contains(l, "()") || strings.HasPrefix(l, "function") || strings.Contains(l, "#")
}

type scanResult int

const (
	scanComplete scanResult = iota
	scanIncomplete
	scanUnsure // ask the shell parser
)

// cmdEndScanner settles the common cases without the shell parser, which
// costs far more than the rest of parsing: it follows quotes, escapes and
// comments, line by line, and leaves to the parser any command with
// brackets, braces, command substitutions, heredocs or compound-command
// keywords.
type cmdEndScanner struct {
	state  int  // scanPlain, scanSingle or scanDouble
	last   byte // last byte outside quotes and comments, blanks excluded
	prev   byte // the byte before last, for "&&" and "||"
	joined bool // the last line ends in a backslash
	unsure bool
}

const (
	scanPlain = iota
	scanSingle
	scanDouble
)

func quickScan(lines []string) scanResult {
	var sc cmdEndScanner
	for _, l := range lines {
		sc.add(l)
	}
	return sc.result()
}

func (sc *cmdEndScanner) result() scanResult {
	switch {
	case sc.unsure:
		return scanUnsure
	case sc.joined || sc.state != scanPlain || continues(sc.last, sc.prev):
		return scanIncomplete
	}
	return scanComplete
}

func (sc *cmdEndScanner) add(l string) {
	if sc.unsure {
		return
	}
	if strings.ContainsAny(l, "\x00\r") {
		sc.unsure = true // the parser has its own ideas about these
		return
	}
	wordStart := true
	sc.joined = false
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch sc.state {
		case scanSingle:
			if c == '\'' {
				sc.state = scanPlain
			}
			continue
		case scanDouble:
			switch c {
			case '\\':
				i++
			case '"':
				sc.state = scanPlain
			case '`':
				sc.unsure = true
				return
			case '$':
				if i+1 < len(l) && (l[i+1] == '(' || l[i+1] == '{') {
					sc.unsure = true
					return
				}
			}
			continue
		}
		switch c {
		case ' ', '\t':
			wordStart = true
			continue
		case '\\':
			if i+1 == len(l) {
				sc.joined = true
			}
			i++
		case '\'':
			if sc.last == '$' && !wordStart {
				sc.unsure = true // $'...' has its own escapes
				return
			}
			sc.state = scanSingle
		case '"':
			sc.state = scanDouble
		case '#':
			if wordStart {
				i = len(l) // a comment
				continue
			}
		case '(', ')', '{', '}', '`', '[':
			sc.unsure = true // [[, a[i]=, globs: leave them to the parser
			return
		case '<':
			if i+1 < len(l) && l[i+1] == '<' {
				sc.unsure = true
				return
			}
		default:
			if wordStart && isKeywordAt(l[i:]) {
				sc.unsure = true
				return
			}
		}
		wordStart = c == ';' || c == '&' || c == '|'
		sc.prev, sc.last = sc.last, c
	}
	// A line break ends a command unless an operator wants more.
	if sc.state == scanPlain && !sc.joined && !continues(sc.last, sc.prev) {
		sc.prev, sc.last = 0, ';'
	}
}

// continues reports a line that ends in "|", "||", "&&" or "|&", which
// wants another line.
func continues(last, prev byte) bool {
	return last == '|' || last == '&' && (prev == '&' || prev == '|')
}

// isKeywordAt reports whether s starts with a word that opens or goes on
// with a compound command; the word ends at a blank or an operator ("if>x"
// is "if" and a redirection).
func isKeywordAt(s string) bool {
	n := 0
	for n < len(s) && s[n] >= 'a' && s[n] <= 'z' {
		n++
	}
	if n < 2 || n < len(s) && !strings.ContainsRune(" \t;&|<>()", rune(s[n])) {
		return false
	}
	switch s[:n] {
	case "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac", "select", "function", "coproc":
		return true
	}
	return false
}
