package parser

import (
	"sort"
	"strings"
)

// promptSet recognises prompt lines: the built-in styles plus the
// prompts given in Config.Prompts, which are literal prefixes.
type promptSet struct {
	extra []string // longest first, so "mysql> " wins over "> "
}

func newPromptSet(extra []string) *promptSet {
	ps := &promptSet{}
	for _, e := range extra {
		if e != "" {
			ps.extra = append(ps.extra, e)
		}
	}
	sort.SliceStable(ps.extra, func(i, j int) bool { return len(ps.extra[i]) > len(ps.extra[j]) })
	return ps
}

// match reports whether line is a prompt line and returns the prompt as
// written (including its trailing space, when there is one). A bare "# "
// prompt counts only when bareHash is set; bare reports that it was one.
func (ps *promptSet) match(line string, bareHash bool) (prompt string, bare, ok bool) {
	for _, e := range ps.extra {
		if strings.HasPrefix(line, e) {
			return e, false, true
		}
		if t := strings.TrimRight(e, " "); t != e && line == t {
			return t, false, true
		}
	}
	n := builtinPrompt(line)
	if n == 0 {
		return "", false, false
	}
	prompt = line[:n]
	if strings.TrimRight(prompt, " ") == "#" {
		if !bareHash {
			return "", true, false
		}
		return prompt, true, true
	}
	return prompt, false, true
}

// isRoot says whether a prompt is a root ("#") prompt.
func isRoot(prompt string) bool {
	return strings.HasSuffix(strings.TrimRight(prompt, " "), "#")
}

// builtinPrompt returns the length of the built-in prompt line starts
// with, 0 if none. The styles: "$ ", "# ", "% ", "~$ ", "~/dir# ",
// "user@host:path$ ", "[user@host dir]$ ", each optionally behind a
// "(venv) " marker. A line that is just the prompt, without the space,
// counts too: it is a prompt with an empty command.
func builtinPrompt(line string) int {
	i := 0
	// "(venv) " marker.
	if strings.HasPrefix(line, "(") {
		j := strings.IndexByte(line, ')')
		if j > 1 && j+1 < len(line) && line[j+1] == ' ' && !strings.ContainsAny(line[1:j], " \t") {
			i = j + 2
		}
	}
	rest := line[i:]
	n := 0
	switch {
	case rest == "":
		return 0
	case rest[0] == '$' || rest[0] == '#' || rest[0] == '%':
		n = 0
	case rest[0] == '~':
		n = 1 + pathLen(rest[1:])
	case rest[0] == '[':
		j := strings.IndexByte(rest, ']')
		if j < 0 || !strings.Contains(rest[:j], "@") || strings.ContainsAny(rest[:j], "$#\t") {
			return 0
		}
		n = j + 1
	default:
		u := wordLen(rest)
		if u == 0 || u >= len(rest) || rest[u] != '@' {
			return 0
		}
		h := wordLen(rest[u+1:])
		if h == 0 {
			return 0
		}
		n = u + 1 + h
		if n < len(rest) && rest[n] == ':' {
			n += 1 + pathLen(rest[n+1:])
		}
	}
	if n >= len(rest) {
		return 0
	}
	c := rest[n]
	if c != '$' && c != '#' && c != '%' {
		return 0
	}
	if c == '%' && n > 0 {
		return 0 // "%" only bare: "user@host%" is rare and "100%" is output
	}
	n++
	if n == len(rest) {
		return i + n
	}
	if rest[n] != ' ' {
		return 0
	}
	return i + n + 1
}

func wordLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return i
		}
	}
	return len(s)
}

func pathLen(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '$', '#':
			return i
		}
	}
	return len(s)
}
