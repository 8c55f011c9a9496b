package parser

import (
	"strings"

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
	sp := &splitter{p: p, b: b, lines: dedent(b.lines), script: kind == kindScript, runLast: -1}
	var anyPrompt bool
	if sp.bareHash, anyPrompt = p.promptStyle(sp.lines, kind); !anyPrompt {
		return nil, nil
	}
	var steps []*Step
	for i := 0; i < len(sp.lines); {
		prompt, _, ok := p.prompts.match(sp.lines[i].text, sp.bareHash)
		if !ok {
			i++ // text before the first prompt: neither command nor output
			continue
		}
		s, next, err := sp.step(i, prompt)
		if err != nil {
			return nil, err
		}
		if s != nil {
			steps = append(steps, s)
		}
		i = next
	}
	return steps, nil
}

// promptStyle says whether the bare "# " lines of a block are root
// prompts (see the package documentation), and whether it has any prompt.
func (p *parse) promptStyle(lines []srcLine, kind blockKind) (bareHash, anyPrompt bool) {
	for i := range lines {
		if _, bare, ok := p.prompts.match(lines[i].text, false); ok {
			return false, true
		} else if bare {
			anyPrompt = true
		}
	}
	return kind == kindSession || kind == kindText, anyPrompt
}

// splitter is the state of one split: a block's lines, dedented, and
// what has been learnt of them.
type splitter struct {
	p        *parse
	b        *block
	lines    []srcLine
	bareHash bool // bare "# " lines are root prompts
	script   bool // sh, bash...: "#" starts comments
	// The run of "#" lines in a root block last looked at: its end and
	// its last line that cannot be a command (-1: none).
	runEnd, runLast int
}

// step reads the step whose prompt line is lines[first]: its command
// and output. It returns the index of the line after it, and a nil step
// for a bare prompt.
func (sp *splitter) step(first int, prompt string) (*Step, int, error) {
	lines := sp.lines
	cmd, i, err := sp.command(first, prompt)
	if err != nil {
		return nil, 0, err
	}
	last := i - 1 // last command line
	for len(cmd) > 1 && cmd[len(cmd)-1] == "" {
		cmd = cmd[:len(cmd)-1] // a command left open at the end of the block
	}
	outStart := i
	i = sp.outputEnd(i)
	outEnd := trimBlank(lines, outStart, i)
	if !sp.bareHash {
		outEnd = trimBlank(lines, outStart, annotationStart(lines, outStart, outEnd, i < len(lines), sp.script))
	}
	command := strings.Join(cmd, "\n")
	if strings.TrimSpace(command) == "" {
		return nil, i, nil // a bare prompt, as at the end of many sessions
	}
	opts := sp.b.opts
	for _, k := range directiveLines(cmd) {
		o, set, found, err := commandDirective(cmd[k])
		if err != nil {
			return nil, 0, sp.p.errorf(lines[first+k].num, "%v", err)
		}
		if found {
			// A command's merged with its block's stderr conflicts too.
			if opts = opts.merge(o, set); opts.check() != nil {
				return nil, 0, sp.p.errorf(lines[first+k].num, "%v", opts.check())
			}
		}
	}
	out := make([]string, 0, outEnd-outStart)
	for _, l := range lines[outStart:outEnd] {
		out = append(out, l.text)
	}
	s := &Step{
		File:     sp.p.doc.Path,
		Line:     lines[first].num,
		Prompt:   prompt,
		Root:     isRoot(prompt),
		Command:  command,
		Expected: strings.Join(out, "\n"),
		Options:  opts,
		Editable: sp.b.editable,
	}
	if sp.b.editable {
		if outEnd > outStart {
			s.OutputStart, s.OutputEnd = lines[outStart].start, lines[outEnd-1].end
			s.LinePrefix = lines[outStart].prefix
		} else {
			s.OutputStart, s.OutputEnd = lines[last].end, lines[last].end
			s.LinePrefix = lines[first].prefix
		}
	}
	return s, i, nil
}

// command gathers the lines of the command that starts behind prompt on
// lines[first]: continuation lines, their continuation prompts removed,
// up to where the shell would run it. It returns them and the index of
// the line after them.
func (sp *splitter) command(first int, prompt string) ([]string, int, error) {
	lines := sp.lines
	c := sp.p.sh.command(lines[first].text[len(prompt):])
	i := first + 1
	ps2 := false
	for i < len(lines) && c.incomplete() {
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
		return nil, 0, sp.p.errorf(lines[first].num, "command still open after %d lines (%d KiB) when the shell parser's budget for this document ran out; close its quote, heredoc or compound command, or split it", i-first, (c.size+1023)>>10)
	}
	return c.lines, i, nil
}

// outputEnd returns the end of the output that starts at lines[i]: the
// next prompt line. A bare "#" in a root block is output when the rest of
// its run of "#" lines holds one that cannot be a command; each run is
// looked at once, however many steps it has.
func (sp *splitter) outputEnd(i int) int {
	lines := sp.lines
	for i < len(lines) {
		_, bare, ok := sp.p.prompts.match(lines[i].text, sp.bareHash)
		switch {
		case !ok:
			i++
			continue
		case !bare:
			return i
		}
		if i >= sp.runEnd {
			sp.runEnd = hashRun(lines, i)
			sp.runLast = i + sp.p.lastNonCommand(lines[i:sp.runEnd])
		}
		if sp.runLast < i {
			return i
		}
		i = sp.runEnd
	}
	return i
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
