package parser

import (
	"bytes"
	"errors"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"
)

// srcLine is one line of a code block as the reader sees it.
type srcLine struct {
	text   string // the line's content: block indentation removed, no line ending
	num    int    // 1-based line in the file
	start  int    // offset in Document.Source where the line begins
	end    int    // offset just after the line's ending
	prefix string // what precedes text on the line in the source
}

// block is a code block handed to the step splitter.
type block struct {
	lang     string
	line     int // first content line; 0 = that of lines[0]
	lines    []srcLine
	opts     Options
	editable bool
	// unknownIsScript reads a block of another language as a script
	// (HTML: Sphinx labels literal blocks with its default highlight
	// language, python or default, so any <pre> may hold a session).
	unknownIsScript bool
}

type blockKind int

const (
	kindOther   blockKind = iota // another language: never a session (Markdown, reST)
	kindSession                  // console, shell-session...: a session
	kindScript                   // sh, bash...: a session if it has prompt lines; "#" starts comments
	kindText                     // untagged, text: a session if it has prompt lines
)

func classify(lang string) blockKind {
	switch strings.ToLower(lang) {
	case "console", "shell-session", "sh-session", "terminal", "shellsession", "bash-session":
		return kindSession
	case "sh", "bash", "shell", "zsh":
		return kindScript
	case "", "text", "txt", "none", "plain", "plaintext", "default": // "default": Sphinx literal blocks
		return kindText
	}
	return kindOther
}

// split cuts a code block into steps; a block without prompt lines gives
// none.
func (p *parse) split(b *block) ([]*Step, error) {
	kind := classify(b.lang)
	if kind == kindOther {
		if !b.unknownIsScript {
			return nil, nil
		}
		kind = kindScript
	}
	lines := dedent(b.lines)
	n := len(lines)
	if n == 0 {
		return nil, nil
	}

	// The prompt style of the block decides what "# " lines are: see the
	// package documentation.
	bareHash := kind == kindSession || kind == kindText
	anyPrompt := false
	for i := range lines {
		if _, bare, ok := p.prompts.match(lines[i].text, false); ok {
			bareHash = false
			anyPrompt = true
			break
		} else if bare {
			anyPrompt = true
		}
	}
	if !anyPrompt {
		return nil, nil
	}

	var steps []*Step
	// The run of "#" lines in a root block last looked at: its end and
	// its last line that cannot be a command (-1: none).
	runEnd, runLast := 0, -1
	i := 0
	for i < n {
		prompt, _, ok := p.prompts.match(lines[i].text, bareHash)
		if !ok {
			i++ // text before the first prompt: neither command nor output
			continue
		}
		first := i
		c := p.sh.command(lines[i].text[len(prompt):])
		i++
		ps2 := false
		for i < n && c.incomplete() {
			t := lines[i].text
			k := contPrompt(t)
			if i == first+1 {
				ps2 = k > 0
			}
			if ps2 {
				t = t[k:]
			}
			c.add(t)
			i++
		}
		if c.spent {
			return nil, p.errorf(lines[first].num, "command still open after %d lines (%d KiB) when the shell parser's budget for this document ran out; close its quote, heredoc or compound command, or split it", i-first, (c.size+1023)>>10)
		}
		cmd := c.lines
		last := i - 1 // last command line
		for len(cmd) > 1 && cmd[len(cmd)-1] == "" {
			cmd = cmd[:len(cmd)-1] // a command left open at the end of the block
		}
		outStart := i
		for i < n {
			if _, bare, ok := p.prompts.match(lines[i].text, bareHash); ok {
				if !bare {
					break
				}
				// A bare "#" in a root block: output when the rest of its
				// run of "#" lines holds one that cannot be a command.
				// Each run is looked at once, however many steps it has.
				if i >= runEnd {
					runEnd = hashRun(lines, i)
					runLast = i + p.lastNonCommand(lines[i:runEnd])
				}
				if runLast < i {
					break
				}
				i = runEnd
				continue
			}
			i++
		}
		outEnd := trimBlank(lines, outStart, i)
		if !bareHash {
			outEnd = trimBlank(lines, outStart, annotationStart(lines, outStart, outEnd, i < n, kind == kindScript))
		}
		command := strings.Join(cmd, "\n")
		if strings.TrimSpace(command) == "" {
			continue // a bare prompt, as at the end of many sessions
		}
		opts := b.opts
		for _, k := range directiveLines(cmd) {
			o, set, found, err := commandDirective(cmd[k])
			if err != nil {
				return nil, p.errorf(lines[first+k].num, "%v", err)
			}
			if found {
				opts = opts.merge(o, set)
			}
		}
		out := make([]string, 0, outEnd-outStart)
		for _, l := range lines[outStart:outEnd] {
			out = append(out, l.text)
		}
		s := &Step{
			File:     p.doc.Path,
			Line:     lines[first].num,
			Prompt:   prompt,
			Root:     isRoot(prompt),
			Command:  command,
			Expected: strings.Join(out, "\n"),
			Options:  opts,
			Editable: b.editable,
		}
		if b.editable {
			if outEnd > outStart {
				s.OutputStart, s.OutputEnd = lines[outStart].start, lines[outEnd-1].end
				s.LinePrefix = lines[outStart].prefix
			} else {
				s.OutputStart, s.OutputEnd = lines[last].end, lines[last].end
				s.LinePrefix = lines[first].prefix
			}
		}
		steps = append(steps, s)
	}
	return steps, nil
}

// trimBlank returns end moved back over the blank lines that end
// lines[start:end].
func trimBlank(lines []srcLine, start, end int) int {
	for end > start && lines[end-1].text == "" {
		end--
	}
	return end
}

// hashRun returns the end of the run of lines starting with "#" that
// begins at i.
func hashRun(lines []srcLine, i int) int {
	for i < len(lines) && strings.HasPrefix(lines[i].text, "#") {
		i++
	}
	return i
}

// lastNonCommand returns the index of the last line of a run of "#"
// lines met after a command in a root block (bare "# " prompts) that
// cannot be a command, -1 if none: the run from a line up to it is
// output, not prompts. Such lines are a "#" not followed by a space
// ("#P:8"), a "#" followed by several blanks (column headers, art), a
// lone "#" that is not the run's last line (an empty prompt ends
// sessions, it does not sit inside them), a first word ending in ":"
// ("# file: dir", "# tracer: nop": no command is named so) and text the
// bash parser rejects.
func (p *parse) lastNonCommand(run []srcLine) int {
	for k := len(run) - 1; k >= 0; k-- {
		if p.cannotBeCommand(run[k].text, k == len(run)-1) {
			return k
		}
	}
	return -1
}

func (p *parse) cannotBeCommand(t string, last bool) bool {
	switch {
	case t == "#":
		return !last
	case t[1] != ' ', strings.HasPrefix(t, "#  "), strings.HasPrefix(t, "# \t"):
		return true
	}
	t = t[2:]
	if f := strings.Fields(t); len(f) > 0 && strings.HasSuffix(f[0], ":") {
		return true
	}
	if strings.ContainsAny(t, "()[]{}<>;&|`'\"") && p.sh.budget > 0 {
		p.sh.budget -= len(t)
		if _, err := p.sh.p.Parse(strings.NewReader(t), ""); err != nil && !syntax.IsIncomplete(err) {
			return true
		}
	}
	return false
}

// annotationStart returns where the output lines[start:end] of a command
// in a block with "$"-style prompts really ends: before a run of "#"
// lines that leads straight into the next prompt (prompted says one
// follows) and comes after a blank line or, in a script block (sh, bash:
// script says so), right after the command, which is the author's
// comment on the next command, or before an exercise marker after a
// blank line ("##### add your solution here", "# expected output"), which
// introduces text that no command printed.
func annotationStart(lines []srcLine, start, end int, prompted, script bool) int {
	if prompted {
		k := end
		for k > start && isCommentLine(lines[k-1].text) {
			k--
		}
		if k < end && (k == start && script || k > start && lines[k-1].text == "") {
			end = k
		}
	}
	for k := start + 1; k < end; k++ {
		if lines[k-1].text == "" && isExerciseMarker(lines[k].text) {
			return k
		}
	}
	return end
}

// isCommentLine reports a line an author writes as a comment: "#" alone,
// or "#" and a blank, or more "#"; not "#!/bin/sh" or "#define".
func isCommentLine(t string) bool {
	if !strings.HasPrefix(t, "#") {
		return false
	}
	r := strings.TrimLeft(t, "#")
	return r == "" || r[0] == ' ' || r[0] == '\t'
}

// isExerciseMarker reports the comment with which exercise books begin
// what the reader has to write: three or more "#" and text, or a comment
// announcing the expected output.
func isExerciseMarker(t string) bool {
	if strings.HasPrefix(t, "### ") || strings.HasPrefix(t, "####") {
		return true
	}
	return strings.HasPrefix(t, "#") && strings.Contains(strings.ToLower(t), "expected output")
}

// dedent trims trailing blanks from every line and removes the indentation
// all non-blank lines share (moving it into the prefix), so that prompts
// are found at the start of lines even in blocks indented as a whole.
func dedent(in []srcLine) []srcLine {
	lines := make([]srcLine, len(in))
	min := -1
	for i, l := range in {
		l.text = strings.TrimRight(l.text, " \t\r")
		lines[i] = l
		if l.text == "" {
			continue
		}
		ind := len(l.text) - len(strings.TrimLeft(l.text, " "))
		if min < 0 || ind < min {
			min = ind
		}
	}
	if min > 0 {
		for i := range lines {
			if lines[i].text != "" {
				lines[i].prefix += lines[i].text[:min]
				lines[i].text = lines[i].text[min:]
			} else {
				lines[i].prefix += strings.Repeat(" ", min)
			}
		}
	}
	// Drop trailing blank lines, which belong to no step.
	for len(lines) > 0 && lines[len(lines)-1].text == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

const directiveMark = "# wordish:"

// directiveLines gives the indexes of the command lines that end with a
// real "# wordish:" shell comment: the mark inside quotes or a heredoc
// body (an article showing how to write a directive) is text, not a
// directive. The bash parser tells comments apart; it only runs on the
// rare commands that hold the mark at all.
func directiveLines(cmd []string) []int {
	var candidates []int
	for k, line := range cmd {
		if strings.Contains(line, directiveMark) {
			candidates = append(candidates, k)
		}
	}
	if len(candidates) == 0 || len(cmd) == 1 && !strings.ContainsAny(cmd[0], "'\"\\") {
		return candidates
	}
	f, err := syntax.NewParser(syntax.KeepComments(true), syntax.Variant(syntax.LangBash)).
		Parse(strings.NewReader(strings.Join(cmd, "\n")), "")
	if err != nil {
		return candidates // not shell the parser understands: trust the lines
	}
	var real []int
	syntax.Walk(f, func(n syntax.Node) bool {
		if c, ok := n.(*syntax.Comment); ok && strings.HasPrefix("#"+c.Text, directiveMark) {
			if k := int(c.Hash.Line()) - 1; k >= 0 && k < len(cmd) {
				real = append(real, k)
			}
		}
		return true
	})
	return real
}

// commandDirective finds a trailing "# wordish: OPTIONS" comment on one
// command line.
func commandDirective(line string) (Options, optSet, bool, error) {
	i := strings.Index(line, directiveMark)
	if i < 0 || (i > 0 && line[i-1] != ' ' && line[i-1] != '\t') {
		return Options{}, optSet{}, false, nil
	}
	o, set, err := parseOptions(line[i+len(directiveMark):])
	return o, set, true, err
}

// shell decides whether command text is complete, with a reusable bash
// parser; the parser is only consulted for text that could be incomplete.
type shell struct {
	p   *syntax.Parser
	buf []byte
	rd  bytes.Reader
	// budget is how many more bytes the parser may read for this
	// document. Re-parsing a command as it grows costs quadratic time, so
	// a crafted article (thousands of lines of a compound command that
	// never ends) could take minutes; past the budget, a command the quick
	// scan cannot settle is an error. Heredoc bodies and open quotes cost
	// nothing: they are followed without the parser.
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
	if c.open && !c.always && n > 1 && !mayClose(c.lines[n-1]) {
		return true
	}
	c.open = false
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
	return true
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
