package runner

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/wordish-go/wordish/internal/tabs"
	"github.com/wordish-go/wordish/parser"
)

// Matching rules (issue 4), applied to text the session has already
// normalised (CRLF, ANSI escapes, carriage-return overwrites):
//
//   - trailing whitespace of every line is ignored;
//   - leading and trailing blank lines are ignored;
//   - the indentation common to all non-blank lines is removed, computed
//     separately for the expected and the actual text, so an output pasted
//     without its first columns still matches while relative indentation
//     (a tree, pretty-printed JSON) still counts;
//   - "..." is a wildcard (doctest's ELLIPSIS): it matches any text,
//     possibly empty, possibly spanning lines, any number of times. A line
//     that holds nothing but "..." matches any number of whole lines,
//     including none, so
//
//     first
//     ...
//     last
//
//     matches "first\nlast" as well as "first\nx\ny\nlast".
//
// Options:
//   - norm-ws: every run of whitespace, newlines included, counts as one
//     space, and whitespace at both ends is ignored (doctest's
//     NORMALIZE_WHITESPACE); blanks next to a "..." are optional.
//   - regex: each expected line is a regular expression (RE2 syntax)
//     matched against one whole actual line (implicitly anchored with ^ and
//     $); expected lines and actual lines correspond one to one, in order,
//     after the normalisation above; a line that is exactly "..." matches
//     any number of actual lines; "..." inside a line is plain regexp
//     syntax (three arbitrary characters).
//   - ignore-output: anything matches.
//
// Wildcard matching never backtracks: a pattern is a list of literal
// pieces separated by wildcards, the first piece must be a prefix, the
// last a suffix, and every middle piece is found at its leftmost position
// after the previous one (strings.Index); leftmost placement is always
// optimal for patterns made of literals and "match anything" gaps, so one
// pass suffices and the cost is linear in the output size.

// Matcher is an expected output compiled once for repeated matching.
type Matcher struct {
	expected string
	kind     matchKind
	toks     []token          // glob and norm-ws kinds
	res      []*regexp.Regexp // regex kind: one per expected line, nil = "..." line
	err      error            // an invalid regular expression
}

type matchKind int

const (
	kindExact matchKind = iota // no wildcard: compare line by line, no allocation
	kindGlob
	kindNormWS
	kindRegex
	kindAny
)

// A token is a literal piece or a wildcard.
type token struct {
	lit  string
	wild wildKind
}

type wildKind int

const (
	notWild   wildKind = iota
	wildAny            // "..." inside a line: any text
	wildLines          // a "..." line: any whole lines; the next piece starts a line
)

const ellipsis = "..."

// Compile prepares expected (a step's expected output) for matching with
// the step's options. Compiling never fails; an invalid regular
// expression is reported by Err and makes every match fail.
func Compile(expected string, o parser.Options) *Matcher {
	expected = tabs.Expand(expected) // as a terminal shows them: the session's output has none
	m := &Matcher{expected: expected}
	switch {
	case o.IgnoreOutput:
		m.kind = kindAny
	case o.Regex:
		m.kind = kindRegex
		m.compileRegex()
	case o.NormWS:
		m.kind = kindNormWS
		m.toks = globTokens(collapseWS(expected), true)
	case strings.Contains(expected, ellipsis):
		m.kind = kindGlob
		m.toks = globLines(expected)
	default:
		m.kind = kindExact
	}
	return m
}

// Err is the reason the expected text cannot be used (a bad regexp).
func (m *Matcher) Err() error { return m.err }

// Match reports whether actual fits the expected output.
func (m *Matcher) Match(actual string) bool {
	switch m.kind {
	case kindAny:
		return true
	case kindExact:
		return equalNorm(m.expected, actual)
	case kindGlob:
		return globMatch(m.toks, normText(actual))
	case kindNormWS:
		return globMatch(m.toks, collapseWS(actual))
	case kindRegex:
		if m.err != nil {
			return false
		}
		return m.regexMatch(normLines(actual))
	}
	return false
}

// LineEqual reports whether one expected line (as returned by NormLines)
// matches one actual line; the diff uses it so that lines matched by a
// wildcard or a regexp are shown as context, not as changes.
func (m *Matcher) LineEqual(exp, act string, expIndex int) bool {
	switch m.kind {
	case kindAny:
		return true
	case kindRegex:
		if m.err != nil || expIndex >= len(m.res) || m.res[expIndex] == nil {
			return false
		}
		return m.res[expIndex].MatchString(act)
	case kindNormWS:
		return globMatch(globTokens(collapseWS(exp), true), collapseWS(act))
	case kindGlob:
		if strings.TrimSpace(exp) == ellipsis {
			return false
		}
		if strings.Contains(exp, ellipsis) {
			return globMatch(globTokens(exp, false), act)
		}
	}
	return exp == act
}

// ---- line normalisation -------------------------------------------------

// trimBlock returns s without its leading and trailing blank lines, and
// the width in bytes of the indentation common to its non-blank lines.
func trimBlock(s string) (block string, indent int) {
	indent = -1
	var prefix string // leading blanks of the first non-blank line
	start, end := -1, 0
	for off := 0; off < len(s); {
		line := s[off:]
		next := len(s)
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
			next = off + i + 1
		}
		if n := leadingBlanks(line); n < len(strings.TrimRight(line, " \t\r\v\f")) {
			if start < 0 {
				start = off
				prefix = line[:n]
				indent = n
			} else {
				k := 0
				for k < indent && k < n && line[k] == prefix[k] {
					k++
				}
				indent = k
			}
			end = off + len(line)
		}
		off = next
	}
	if start < 0 {
		return "", 0
	}
	return s[start:end], indent
}

func leadingBlanks(s string) int {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// nextLine cuts the first line off *s, removing indent bytes of
// indentation and trailing whitespace.
func nextLine(s *string, indent int) string {
	line := *s
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line, *s = line[:i], line[i+1:]
	} else {
		*s = ""
	}
	line = strings.TrimRight(line, " \t\r\v\f")
	if len(line) <= indent {
		return "" // a blank line inside the block
	}
	return line[indent:]
}

// equalNorm compares two texts under the line rules without allocating:
// the common path for thousands of steps.
func equalNorm(a, b string) bool {
	// The usual case: the parser's expected text has no final newline,
	// the output has one.
	if a == b || (len(b) == len(a)+1 && b[len(a)] == '\n' && b[:len(a)] == a) {
		return true
	}
	ba, ia := trimBlock(a)
	bb, ib := trimBlock(b)
	for ba != "" && bb != "" {
		if nextLine(&ba, ia) != nextLine(&bb, ib) {
			return false
		}
	}
	return ba == "" && bb == ""
}

// NormLines returns the lines of s after the line rules: blank edge lines
// dropped, common indentation removed, trailing whitespace removed.
func NormLines(s string) []string { return normLines(tabs.Expand(s)) }

func normLines(s string) []string {
	b, ind := trimBlock(s)
	if b == "" {
		return nil
	}
	out := make([]string, 0, strings.Count(b, "\n")+1)
	for b != "" {
		out = append(out, nextLine(&b, ind))
	}
	return out
}

// normText is normLines joined, each line ending in "\n" ("" when empty):
// the subject of wildcard matching.
func normText(s string) string {
	b, ind := trimBlock(s)
	if b == "" {
		return ""
	}
	var sb strings.Builder
	sb.Grow(len(b) + 1)
	for b != "" {
		sb.WriteString(nextLine(&b, ind))
		sb.WriteByte('\n')
	}
	return sb.String()
}

// collapseWS turns every whitespace run into one space and trims both ends.
func collapseWS(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			space = sb.Len() > 0
		default:
			if space {
				sb.WriteByte(' ')
				space = false
			}
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// ---- wildcard matching --------------------------------------------------

// globLines compiles an expected output with "..." wildcards.
func globLines(expected string) []token {
	var toks []token
	b, ind := trimBlock(expected)
	for b != "" {
		line := nextLine(&b, ind)
		if strings.TrimSpace(line) == ellipsis {
			toks = addWild(toks, wildLines)
			continue
		}
		toks = append(toks, globTokens(line+"\n", false)...)
	}
	return mergeLits(toks)
}

// globTokens splits s on "..." into literals and wildAny tokens; with
// trimBlanks the blanks next to a wildcard are dropped (norm-ws).
func globTokens(s string, trimBlanks bool) []token {
	var toks []token
	for {
		i := strings.Index(s, ellipsis)
		if i < 0 {
			break
		}
		lit := s[:i]
		if trimBlanks {
			lit = strings.TrimRight(lit, " ")
		}
		if lit != "" {
			toks = append(toks, token{lit: lit})
		}
		toks = addWild(toks, wildAny)
		s = s[i+len(ellipsis):]
		if trimBlanks {
			s = strings.TrimLeft(s, " ")
		}
	}
	if s != "" {
		toks = append(toks, token{lit: s})
	}
	return toks
}

// addWild appends a wildcard, merging it with a wildcard just before: two
// "..." lines are one, and anything next to an in-line "..." is "...".
func addWild(toks []token, w wildKind) []token {
	if n := len(toks); n > 0 && toks[n-1].wild != notWild {
		if w == wildAny {
			toks[n-1].wild = wildAny
		}
		return toks
	}
	return append(toks, token{wild: w})
}

// mergeLits joins adjacent literals (lines without wildcards).
func mergeLits(toks []token) []token {
	out := toks[:0]
	for _, t := range toks {
		if n := len(out); n > 0 && t.wild == notWild && out[n-1].wild == notWild {
			out[n-1].lit += t.lit
			continue
		}
		out = append(out, t)
	}
	return out
}

// globMatch matches text against tokens in one left-to-right pass; see
// the comment at the top of this file for why leftmost placement is
// enough. A wildLines gap constrains the following literal to begin a
// line (offset 0 or just after "\n"); the constraint depends only on the
// literal's own offset, so leftmost placement stays optimal.
func globMatch(toks []token, text string) bool {
	if len(toks) == 0 {
		return text == ""
	}
	pos, end := 0, len(text)
	first, last := 0, len(toks)
	if t := toks[0]; t.wild == notWild {
		if !strings.HasPrefix(text, t.lit) {
			return false
		}
		if len(toks) == 1 {
			return len(text) == len(t.lit)
		}
		pos = len(t.lit)
		first = 1
	}
	if t := toks[len(toks)-1]; t.wild == notWild {
		if !strings.HasSuffix(text, t.lit) {
			return false
		}
		end = len(text) - len(t.lit)
		if end < pos {
			return false
		}
		if toks[len(toks)-2].wild == wildLines && !lineStart(text, end) {
			return false
		}
		last = len(toks) - 1
	}
	for i := first; i < last; i++ {
		t := toks[i]
		if t.wild != notWild {
			continue
		}
		needLine := i > 0 && toks[i-1].wild == wildLines
		q := find(text[:end], t.lit, pos, needLine)
		if q < 0 {
			return false
		}
		pos = q + len(t.lit)
	}
	return true
}

// find returns the leftmost offset >= from of lit in text (at a line start
// when needLine), or -1.
func find(text, lit string, from int, needLine bool) int {
	for from <= len(text) {
		i := strings.Index(text[from:], lit)
		if i < 0 {
			return -1
		}
		q := from + i
		if !needLine || lineStart(text, q) {
			return q
		}
		// Jump to the next line start: a match there is the next candidate.
		nl := strings.IndexByte(text[q:], '\n')
		if nl < 0 {
			return -1
		}
		from = q + nl + 1
	}
	return -1
}

func lineStart(text string, q int) bool { return q == 0 || text[q-1] == '\n' }

// ---- regex matching -----------------------------------------------------

func (m *Matcher) compileRegex() {
	for i, line := range normLines(m.expected) {
		if strings.TrimSpace(line) == ellipsis {
			m.res = append(m.res, nil)
			continue
		}
		re, err := regexp.Compile(`^(?:` + line + `)$`)
		if err != nil {
			m.err = fmt.Errorf("expected line %d is not a valid regular expression: %v", i+1, err)
			return
		}
		m.res = append(m.res, re)
	}
}

// regexMatch is globMatch over lines: runs of regexp lines are the
// literals, "..." lines the gaps; each run is placed leftmost.
func (m *Matcher) regexMatch(act []string) bool {
	// Split into segments of consecutive regexps.
	type seg struct{ from, to int } // m.res[from:to]
	var segs []seg
	lead, trail := false, false
	for i := 0; i < len(m.res); {
		if m.res[i] == nil {
			if i == 0 {
				lead = true
			}
			if i == len(m.res)-1 {
				trail = true
			}
			i++
			continue
		}
		j := i
		for j < len(m.res) && m.res[j] != nil {
			j++
		}
		segs = append(segs, seg{i, j})
		i = j
	}
	if len(m.res) == 0 {
		return len(act) == 0
	}
	fits := func(s seg, at int) bool {
		if at < 0 || at+(s.to-s.from) > len(act) {
			return false
		}
		for k := s.from; k < s.to; k++ {
			if !m.res[k].MatchString(act[at+k-s.from]) {
				return false
			}
		}
		return true
	}
	if len(segs) == 0 {
		return true // only "..." lines
	}
	pos, end := 0, len(act)
	first, last := 0, len(segs)
	if !lead {
		if !fits(segs[0], 0) {
			return false
		}
		pos = segs[0].to - segs[0].from
		first = 1
		if len(segs) == 1 && !trail {
			return pos == len(act)
		}
	}
	if !trail && last > first {
		s := segs[last-1]
		at := len(act) - (s.to - s.from)
		if at < pos || !fits(s, at) {
			return false
		}
		end = at
		last--
	}
	for i := first; i < last; i++ {
		s := segs[i]
		n := s.to - s.from
		at := pos
		for ; at+n <= end; at++ {
			if fits(s, at) {
				break
			}
		}
		if at+n > end {
			return false
		}
		pos = at + n
	}
	return true
}
