package parser

import (
	"sort"
	"strings"
)

// promptSet recognises prompt lines: the built-in styles plus the
// prompts given in Config.Prompts, which are literal prefixes.
type promptSet struct {
	extra []string // longest first, so "mysql> " wins over "> "
	only  bool     // the extra prompts only, not the built-in styles
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
	if ps.only {
		return "", false, false
	}
	n := builtinPrompt(line)
	if n == 0 {
		return "", false, false
	}
	prompt = line[:n]
	if strings.TrimRight(prompt, " ") == "#" {
		if isProseComment(line[n:]) {
			return "", false, false
		}
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
// with, 0 if none. The grammar is closed (see the package documentation):
//
//	prompt  = [ "(" env ") " ] body sigil ( " " | end of line )
//	sigil   = "$" | "#" | "%"
//	body    = ""                                 bare: "$ "
//	        | "~" path                           "~$ ", "~/src# "
//	        | user "@" host [ ":" path [ " " ] ]  "me@box:~/src$ ", "pi@pi:~ $ "
//	        | user "@" host " " path " "         zsh, Gentoo: "me@box ~ % "
//	        | host ":" ("~" | "/") path          Debian without the user: "box:~$ "
//	        | "[" user "@" host [ " " dir ] "]" { " " }
//	                                             Fedora: "[root@box ~]# ", "[me@box ~ ] # "
//	        | shell "-" version                  "bash-5.2$ ", "sh-4.4# "
//
// where user, host and env are words of letters, digits, "_", "-" and
// "." (env may hold any character but blanks), path has no blanks, "$" or
// "#", and shell is sh, bash, zsh, ksh, mksh, dash or ash. A space before
// the sigil is allowed only where a default PS1 puts one, "#" after a
// "user@host:path " only without it. A line that is just the prompt,
// without the final space, counts too: it is a prompt with an empty
// command.
func builtinPrompt(line string) int {
	i := 0
	if strings.HasPrefix(line, "(") {
		j := strings.IndexByte(line, ')')
		if j > 1 && j+1 < len(line) && line[j+1] == ' ' && !strings.ContainsAny(line[1:j], " \t") {
			i = j + 2
		}
	}
	rest := line[i:]
	n := promptBody(rest)
	if n < 0 || n >= len(rest) {
		return 0
	}
	switch rest[n] {
	case '$', '#', '%':
	default:
		return 0
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

// promptBody returns the offset of the sigil that ends the prompt body
// rest starts with, -1 if it starts with none.
func promptBody(rest string) int {
	if rest == "" {
		return -1
	}
	switch rest[0] {
	case '$', '#', '%':
		return 0
	case '~':
		return 1 + pathLen(rest[1:])
	case '[':
		j := strings.IndexByte(rest, ']')
		if j < 2 || wordLen(rest[1:]) == 0 || !strings.Contains(rest[:j], "@") || strings.ContainsAny(rest[:j], "$#%\t") {
			return -1
		}
		n := j + 1
		for n < len(rest) && rest[n] == ' ' {
			n++
		}
		return n
	}
	u := wordLen(rest)
	if u == 0 || u >= len(rest) {
		return -1
	}
	switch rest[u] {
	case '@':
		h := wordLen(rest[u+1:])
		if h == 0 {
			return -1
		}
		n := u + 1 + h
		if n >= len(rest) {
			return -1
		}
		switch rest[n] {
		case ':':
			n += 1 + pathLen(rest[n+1:])
			// "pi@raspberrypi:~ $ ": a space before "$" or "%" only.
			if n+1 < len(rest) && rest[n] == ' ' && (rest[n+1] == '$' || rest[n+1] == '%') {
				n++
			}
			return n
		case ' ':
			// "me@box ~ % ": a path word between spaces.
			p := pathLen(rest[n+1:])
			if p == 0 || n+1+p+1 >= len(rest) || rest[n+1+p] != ' ' {
				return -1
			}
			return n + 1 + p + 1
		}
		return n
	case ':':
		// "box:~$ ", "web-1:/etc# "; not "Total: 5 $ ", not "http://x$ ".
		p := rest[u+1:]
		if p == "" || p[0] != '~' && p[0] != '/' || strings.HasPrefix(p, "//") {
			return -1
		}
		return u + 1 + pathLen(p)
	}
	// "bash-5.2$ ": wordLen took the "-" and the version in.
	if name, ver, ok := strings.Cut(rest[:u], "-"); ok && isShellName(name) && isVersion(ver) {
		return u
	}
	return -1
}

func isShellName(s string) bool {
	switch s {
	case "sh", "bash", "zsh", "ksh", "mksh", "dash", "ash":
		return true
	}
	return false
}

// isVersion reports a version such as "5.2" or "4.4.20".
func isVersion(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			return false
		}
	}
	return true
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

// contPrompt returns the length of the continuation prompt line starts
// with, 0 if none: bash's PS2 "> ", or zsh's, which names what is still
// open: "heredoc> ", "dquote> ", "for pipe> "... A lone ">" or "for>"
// (an empty continuation line, its blank trimmed) counts too.
func contPrompt(line string) int {
	i := 0
	for {
		if strings.HasPrefix(line[i:], ">") {
			if i+1 == len(line) {
				return i + 1
			}
			if line[i+1] == ' ' {
				return i + 2
			}
			return 0
		}
		w := 0
		for i+w < len(line) && (line[i+w] >= 'a' && line[i+w] <= 'z' || line[i+w] == '-') {
			w++
		}
		if w == 0 || !zshContWords[line[i:i+w]] || i+w == len(line) {
			return 0
		}
		i += w
		if line[i] == ' ' {
			i++ // "for pipe> ": words separated by one space
		}
	}
}

// zshContWords are the names zsh's %_ gives the constructs still open in
// PS2 (zshmisc, "Prompt Expansion").
var zshContWords = map[string]bool{
	"for": true, "while": true, "repeat": true, "select": true, "until": true,
	"if": true, "then": true, "else": true, "elif": true, "math": true,
	"cond": true, "cmdor": true, "cmdand": true, "pipe": true, "errpipe": true,
	"foreach": true, "case": true, "function": true, "subsh": true,
	"cursh": true, "array": true, "quote": true, "dquote": true, "bquote": true,
	"cmdsubst": true, "mathsubst": true, "elif-then": true, "heredoc": true,
	"heredocd": true, "brace": true, "braceparam": true, "always": true,
}

// isProseComment reports the text after a bare "# " that starts like a
// sentence, not a command: a capital letter ("# Now install it"), in a
// first word that is no variable assignment ("# LANG=C sort" is a
// command). Commands are written in lower case.
func isProseComment(t string) bool {
	if t == "" || t[0] < 'A' || t[0] > 'Z' {
		return false
	}
	w, _, _ := strings.Cut(t, " ")
	return !strings.Contains(w, "=")
}
