package session

import (
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	"mvdan.cc/sh/v3/syntax"

	"github.com/wordish-go/wordish/expect"
)

// quote makes text a single-quoted shell word.
func quote(text string) string {
	return "'" + strings.ReplaceAll(text, "'", `'\''`) + "'"
}

// stopSig is the signal that tells the shell to stop the batch after the
// command running now (its trap sets the stop variable, checked after each
// command).
const stopSig = unix.Signal(39) // SIGRTMIN+5 in glibc's numbering

// markPrefix starts every marker on the terminals; see stream.go.
const markPrefix = "\x1eW"

// chanFdShell is the shell's descriptor of the marker channel: high, out
// of the way of the descriptors articles use (bash); other shells address
// only 0 to 9.
func (s *Session) chanFdShell() string {
	if s.bash {
		return "250"
	}
	return "9"
}

// setup is the shell text run before the first batch, while the shell
// has no function, alias or trap of a document's yet.
//
// After each command the batch calls __wz STATUS ID (the usual
// expectation, status 0), __w STATUS ID EXPECT or, with the channel
// elsewhere than 10, __wx STATUS ID EXPECT FD (in slow mode __wp STATUS ID
// EXPECT FD, which writes to the terminals by name). ID is SEQ:TOKEN, the
// command's sequence number and $SRANDOM, drawn after the command ended:
// no command can know it in advance. The function writes the marker
// \036W ID \036 on both terminals, then ID:STATUS:TIME on the channel,
// and returns whether the status fits EXPECT (z zero, n non-zero, a any,
// or the code) and no stop was asked for. __we STATUS BATCH TOKEN FD ends
// a batch the same way (EBATCH:TOKEN:STATUS on the channel). With bash
// the functions are read-only (readonly -f: no document can redefine
// them), were parsed before any alias existed, do not inherit DEBUG or
// RETURN traps, call printf as a builtin (a function named printf is not
// used) and take the status as an argument, never from a variable: the
// status they report is the command's. SRANDOM is read-only, so that no
// document can unset it and choose the tokens. A printf that fails to
// write on the channel (a disabled builtin, a closed descriptor) ends the
// shell with ${NULL:?}, an expansion error no document can redefine: the
// command is then reported as having ended the shell, never as passed.
//
// bash spends most of a step in these functions (parsing the call,
// copying the function's body, expanding its words), so they are short:
// one printf writes both markers, one the channel, one test; the rare
// paths (builtins disabled) are functions of their own.
func (s *Session) setup() string {
	S, X, Z := s.vStatus, s.vStop, s.vNull
	fd := s.chanFdShell()
	var b strings.Builder
	// The script's own descriptor was opened anew by the shell (moved
	// high, close-on-exec); the inherited 3 is closed so that commands
	// inherit only 0, 1, 2 and the channel. With -m, bash sets up job
	// control at startup on a copy of its standard error, which is why
	// that is the main terminal at exec; the standard error terminal comes
	// as 4 and takes its place. The INT trap keeps the shell alive when a
	// job is interrupted (bash then aborts the line it runs); signal 39
	// asks it to stop the batch.
	b.WriteString("exec 3<&- 2>&4 4>&- " + fd + ">&5 5>&-\ntrap : INT\ntrap " + X + "=1 39\n" +
		"shopt -s expand_aliases 2>/dev/null\nreadonly " + Z + "=\n")
	// During a batch the channel is only where bash saved it, close-on-exec
	// (see RunBatch): usually 10, else its descriptor comes as $4.
	send := func(to string) string {
		return "printf '%s\\n' \"$2:$1:$EPOCHREALTIME\" >&" + to
	}
	// A batch aborted by SIGINT (the shell itself interrupted) leaves the
	// channel where bash saved it, $4: moved back.
	sendEnd := "printf 'E%s:%s:%s\\n' \"$2\" \"$3\" \"$1\" 2>/dev/null >&" + fd + " || { exec " + fd + ">&\"$4\" && " + S + "=$4 && exec {" + S + "}>&- && printf 'E%s:%s:%s\\n' \"$2\" \"$3\" \"$1\" >&" + fd + "; } || ${" + Z + ":?}; "
	byName := func(m, arg string) string {
		return "printf '" + m + "' \"$" + arg + "\" >" + s.outTTY + "; printf '" + m + "' \"$" + arg + "\" >" + s.errTTY + "; "
	}
	byNameEnd := func(m string) string {
		return "printf '" + m + "' \"$2\" \"$3\" >" + s.outTTY + "; printf '" + m + "' \"$2\" \"$3\" >" + s.errTTY + "; "
	}
	if s.bash {
		check := S + "=$1; [[ -z ${" + X + "-} ]] && case $3 in (z) [[ $1 == 0 ]];; (n) [[ $1 != 0 ]];; (a) ;; (*) [[ $1 == \"$3\" ]];; esac"
		bi := func(t string) string { return strings.ReplaceAll(t, "printf ", "builtin printf ") }
		// The marker on standard error is printf's own error message
		// about an invalid number ("bash: line N: printf: MARKER:
		// invalid number"), a line removed whole: one printf, no
		// redirection, writes both.
		inband := "builtin printf '\\036W%s\\036%.0d' \"$2\" $'\\036W'\"$2\"$'\\036'; "
		// Builtins disabled with enable -n are enabled again when the
		// channel cannot be written, and the markers written again, by
		// __wf STATUS ID FD.
		b.WriteString("__wf() { \\enable builtin printf return 2>/dev/null; " + inband + bi(send(`"$3"`)) + "; }\n")
		w := func(to, fdArg, check string) string {
			return inband + bi(send(to)) + " || __wf \"$1\" \"$2\" " + fdArg + " || ${" + Z + ":?}; " + check + "; }\n"
		}
		// __w and __wz write to the channel's usual place, 10, named
		// literally (cheaper than expanding an argument); __wx to $4.
		// __wz's test needs no expectation, and no saved status: the
		// status after a command expected to succeed is known.
		b.WriteString("__wz() { " + w("10", "10", "[[ $1${"+X+"-} == 0 ]]"))
		b.WriteString("__w() { " + w("10", "10", check))
		b.WriteString("__wx() { " + w(`"$4"`, `"$4"`, check))
		b.WriteString("__wp() { " + bi(byName("\\036W%s\\036", "2")) + bi(send(`"$4"`)) + " || ${" + Z + ":?}; " + check + "; }\n")
		b.WriteString("__we() { builtin printf '\\036WE%s:%s\\036%.0d' \"$2\" \"$3\" $'\\036WE'\"$2:$3\"$'\\036'; " + bi(sendEnd) + "}\n")
		b.WriteString("__wep() { " + bi(byNameEnd("\\036WE%s:%s\\036")) + bi(sendEnd) + "}\n")
		b.WriteString("__wst() { \\return \"$1\"; }\nreadonly -f __w __wz __wx __wf __wp __we __wep __wst\n")
		b.WriteString("readonly SRANDOM EPOCHREALTIME\n")
		b.WriteString("builtin printf 'R\\n' >&" + fd + "\n")
		return b.String()
	}
	check := S + "=$1; [ -z \"${" + X + "-}\" ] && case $3 in z) [ \"$1\" = 0 ];; n) [ \"$1\" != 0 ];; a) ;; *) [ \"$1\" = \"$3\" ];; esac"
	sendP := send(`"$4"`) + " || ${" + Z + ":?}; "
	b.WriteString("__w() { printf '\\036W%s\\036' \"$2\"; printf '\\036W%s\\036' \"$2\" >&2; " + sendP + check + "; }\n")
	b.WriteString("__wp() { " + byName("\\036W%s\\036", "2") + sendP + check + "; }\n")
	b.WriteString("__we() { printf '\\036WE%s:%s\\036' \"$2\" \"$3\"; printf '\\036WE%s:%s\\036' \"$2\" \"$3\" >&2; " + sendEnd + "}\n")
	b.WriteString("__wep() { " + byNameEnd("\\036WE%s:%s\\036") + sendEnd + "}\n")
	b.WriteString("__wst() { return \"$1\"; }\n")
	b.WriteString("printf 'R\\n' >&" + fd + "\n")
	return b.String()
}

// script writes the shell text of a batch. For each command: the previous
// status restored as $? (statically when the expectation of the previous
// command fixes it), the command evaluated at top level, then the call of
// __w (see setup) and a return from the sourced file when it says stop.
// Names are called quoted (\__w, \return) so that no alias applies; should
// return not return (a function of the document's named return), the
// expansion error after it ends the shell rather than let the next
// command run.
func (s *Session) script(cmds []Command, base int) []byte {
	b := make([]byte, 0, 32+len(cmds)*96)
	b = append(b, s.vStop+"=\n"...)
	prev, known := s.lastStatus, true
	stopLine := " || { \\return 0; ${" + s.vNull + ":?}; }"
	chanFd := s.chanFdShell()
	if s.bash {
		chanFd = strconv.Itoa(s.savedFd())
	}
	for i, c := range cmds {
		restore := ""
		switch {
		case !known:
			restore = "\\__wst \"$" + s.vStatus + "\""
		case prev != 0:
			restore = "\\__wst " + strconv.Itoa(prev)
		}
		if restore != "" {
			// && keeps a non-zero status from tripping set -e.
			and := " && ((1))\n"
			if !s.bash {
				and = " && :\n"
			}
			if s.traced {
				b = append(b, "{ "+restore+"; } 2>/dev/null && { ((1)); } 2>/dev/null\n"...)
			} else {
				b = append(b, restore+and...)
			}
		}
		merged := s.merged(c)
		switch {
		case merged && !strings.Contains(c.Text, "\n") && s.direct(c.Text):
			// A group, not eval: the text is parsed once.
			b = append(b, "{ "...)
			b = append(b, c.Text...)
			b = append(b, "\n} 2>&1"...)
		case !merged && s.bash && s.direct(c.Text):
			b = append(b, c.Text...)
		default:
			b = append(b, "\\eval "...)
			b = appendQuoted(b, c.Text)
			if merged {
				b = append(b, " 2>&1"...)
			}
		}
		// The call: FN "$?" SEQ:"$SRANDOM" [EXPECT [FD]] (see setup).
		fn, fd := "\\__w", " "+chanFd
		switch {
		case s.slow || s.traced:
			fn = "\\__wp"
		case s.bash && chanFd == "10":
			fd = ""
			if c.Expect == expect.Zero {
				fn = "\\__wz"
			}
		case s.bash:
			fn = "\\__wx"
		}
		b = append(b, "\n"...)
		if s.traced {
			b = append(b, "{ "...)
		}
		b = append(b, fn...)
		b = append(b, ` "$?" `...)
		b = strconv.AppendInt(b, int64(base+i), 10)
		b = append(b, `:"$SRANDOM"`...)
		if fn != "\\__wz" {
			b = append(b, ' ')
			switch c.Expect {
			case expect.Zero:
				b = append(b, 'z')
			case expect.Code:
				b = strconv.AppendInt(b, int64(c.Code), 10)
			case expect.Nonzero:
				b = append(b, 'n')
			default:
				b = append(b, 'a')
			}
		}
		switch c.Expect {
		case expect.Zero:
			prev, known = 0, true
		case expect.Code:
			prev, known = c.Code, true
		default:
			known = false
		}
		b = append(b, fd+stopLine...)
		if s.traced {
			b = append(b, "; } 2>/dev/null"...)
		}
		b = append(b, '\n')
	}
	return b
}

// merged reports whether c runs with its standard error on the main
// terminal (Command.Merged): with bash, unless the text may redirect the
// shell's own descriptors (exec: a group's redirection would undo them)
// or tracing may be on (the trace would land among the output).
func (s *Session) merged(c Command) bool {
	return c.Merged && s.bash && !s.traced && !strings.Contains(c.Text, "exec")
}

// tracing matches commands that may turn on set -x.
var tracing = regexp.MustCompile(`xtrace|(^|[\s;&|({])set\s+([-+][a-zA-Z]+\s+)*-[a-zA-Z]*x`)

// direct reports whether text can go in the batch as it is rather than
// through eval (which costs bash a second parse): when it parses alone as
// bash, so that a syntax error cannot spill over the rest of the batch,
// and has neither a heredoc nor a final backslash that could take in the
// next line. The shell runs it the same way: at top level, one command
// after the other, aliases expanded.
func (s *Session) direct(text string) bool {
	if plainWords(text) {
		return true
	}
	if d, ok := s.directCache[text]; ok {
		return d
	}
	d := len(text) <= 1<<14 && !strings.Contains(text, "<<") &&
		!strings.HasSuffix(strings.TrimRight(text, "\n"), "\\")
	if d {
		if s.parser == nil {
			s.parser = syntax.NewParser(syntax.Variant(syntax.LangBash))
		}
		_, err := s.parser.Parse(strings.NewReader(text), "")
		d = err == nil
	}
	if len(s.directCache) >= 4096 || s.directCache == nil {
		s.directCache = map[string]bool{}
	}
	s.directCache[text] = d
	return d
}

// plainByte marks the bytes a plain command is made of: no quoting,
// expansion, globbing, redirection, operator, comment or line break.
var plainByte = func() (t [256]bool) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _./:,+=@%-") {
		t[c] = true
	}
	return t
}()

// plainWords reports whether text is a simple command of plain words
// none of which is a reserved word: it always parses alone, so direct
// need not run the parser (the common case, thousands of times a run).
func plainWords(text string) bool {
	if len(text) > 1<<10 {
		return false
	}
	for i := 0; i < len(text); i++ {
		if !plainByte[text[i]] {
			return false
		}
	}
	for w := range strings.FieldsSeq(text) {
		switch w {
		case "if", "then", "else", "elif", "fi", "case", "esac", "for", "select",
			"while", "until", "do", "done", "in", "function", "time", "coproc":
			return false
		}
	}
	return true
}

func appendQuoted(b []byte, text string) []byte {
	b = append(b, '\'')
	for {
		i := strings.IndexByte(text, '\'')
		if i < 0 {
			break
		}
		b = append(b, text[:i]...)
		b = append(b, `'\''`...)
		text = text[i+1:]
	}
	b = append(b, text...)
	return append(b, '\'')
}
