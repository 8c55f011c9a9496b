package session

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"mvdan.cc/sh/v3/syntax"
)

const (
	defaultTimeout = 60 * time.Second
	killGrace      = 500 * time.Millisecond // SIGINT → SIGKILL
	killLimit      = 5 * time.Second        // then the shell itself is killed
	deathDrain     = 300 * time.Millisecond // output still read after the shell died
	deathQuiet     = 30 * time.Millisecond
	closeWait      = 3 * time.Second // Close gives up killing after this
)

// Session is one shell on a pseudo-terminal. Its methods may be called
// from one goroutine at a time, except Interrupt, Alive and Close.
type Session struct {
	cfg     Config
	pid     int     // the shell's
	reaper  *reaper // the shell's parent, killer of its descendants (procs.go)
	chanFd  int     // marker channel (a socket), non-blocking; see script
	chanBuf []byte
	chanOOB []byte
	ready   bool // the shell's setup is done
	// Names of the shell variables of the session: per session, so that no
	// document can count on them.
	vStatus, vStop, vNull string
	masters               [2]int // terminal masters, non-blocking: stdin+stdout, stderr
	outTTY                string
	slaves                [2]*os.File
	errTTY                string
	ctl                   *os.File // the shell's script (a pipe): ". batch" lines
	priv                  string   // private directory of the batch file
	batchF                string
	dir                   string
	ownDir                bool
	wake                  int // eventfd: the shell died, or Interrupt was called
	dead                  chan struct{}
	status                int // the shell's exit status, once dead is closed
	intr                  atomic.Bool
	running               atomic.Bool
	closed                atomic.Bool
	// intrMu makes Interrupt's check of running and its setting of intr
	// one step against a batch's start and end, so a late Interrupt
	// cannot hit the next batch (the cleanup after a SIGINT).
	intrMu sync.Mutex

	mu         sync.Mutex // one batch at a time
	seq        int
	batch      int
	lastStatus int  // of the last command run, restored as $?
	slow       bool // markers written to the terminals by name
	traced     bool // the shell may trace (set -x): see tracedCommand
	bash       bool
	shellName  string
	errPrefix  *regexp.Regexp // bash's prefix for errors in a batch

	parser      *syntax.Parser
	directCache map[string]bool

	closeOnce sync.Once
	closeErr  error

	// Reading the terminals, by RunBatch only.
	scan    [2]markerScanner
	carry   [2][]byte // a marker possibly cut short, held back
	scratch [2][]byte
	buf     []byte
}

// Start starts a shell as described by cfg. It does not wait for the
// shell to be ready: the first batch simply queues behind its setup.
func Start(cfg Config) (*Session, error) {
	shell := cfg.Shell
	if shell == "" {
		shell = "bash"
	}
	path, err := exec.LookPath(shell)
	if err != nil {
		return nil, fmt.Errorf("session: shell: %w", err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	inheritOnce.Do(closeInherited)
	s := &Session{
		cfg:    cfg,
		dead:   make(chan struct{}),
		wake:   -1,
		chanFd: -1,
	}
	suffix := randHex(4)
	s.vStatus, s.vStop, s.vNull = "__w_s"+suffix, "__w_x"+suffix, "__w_z"+suffix
	ok := false
	defer func() {
		if !ok {
			s.cleanupFiles()
		}
	}()
	if s.priv, err = os.MkdirTemp("", "w"); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	s.batchF = filepath.Join(s.priv, "b")
	if cfg.Workdir == "" {
		if s.dir, err = os.MkdirTemp("", "wordish-"); err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
		s.ownDir = true
	} else {
		if s.dir, err = filepath.Abs(cfg.Workdir); err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
		if err = os.MkdirAll(s.dir, 0o755); err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
	}

	outM, outS, err := openTerm()
	if err != nil {
		return nil, err
	}
	errM, errS, err := openTerm()
	if err != nil {
		unix.Close(outM)
		outS.Close()
		return nil, err
	}
	s.masters = [2]int{outM, errM}
	if s.wake, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		unix.Close(outM)
		unix.Close(errM)
		outS.Close()
		errS.Close()
		return nil, fmt.Errorf("session: %w", err)
	}
	s.outTTY, s.errTTY = outS.Name(), errS.Name()
	r, w, err := os.Pipe()
	if err != nil {
		unix.Close(outM)
		outS.Close()
		unix.Close(errM)
		errS.Close()
		unix.Close(s.wake)
		return nil, fmt.Errorf("session: %w", err)
	}
	s.ctl = w

	// The marker channel: a socket whose reader learns, from the kernel,
	// which process wrote each message (SO_PASSCRED).
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		if err = unix.SetsockoptInt(sp[0], unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err == nil {
			err = unix.SetNonblock(sp[0], true)
		}
		if err != nil {
			unix.Close(sp[0])
			unix.Close(sp[1])
		}
	}
	if err != nil {
		unix.Close(outM)
		outS.Close()
		unix.Close(errM)
		errS.Close()
		unix.Close(s.wake)
		r.Close()
		w.Close()
		return nil, fmt.Errorf("session: %w", err)
	}
	s.chanFd = sp[0]
	peer := os.NewFile(uintptr(sp[1]), "channel")

	var args []string
	s.shellName = filepath.Base(path)
	if s.shellName == "bash" {
		s.bash = true
		// bash names the sourced batch file and a line in its error
		// messages; an interactive bash, as in a tutorial, says "bash: ".
		s.errPrefix = regexp.MustCompile(regexp.QuoteMeta(s.batchF+": ") + `[^:\n]{1,24} [0-9]+: `)
		args = append(args, "--noprofile", "--norc")
	}
	args = append(args, "-m")
	args = append(args, "/dev/fd/3")
	s.reaper, s.pid, err = startReaper(path, append([]string{filepath.Base(path)}, args...),
		sessionEnv(cfg.Env, s.dir), s.dir, [6]*os.File{outS, outS, outS, r, errS, peer})
	r.Close()
	peer.Close()
	if err != nil {
		unix.Close(outM)
		unix.Close(errM)
		unix.Close(s.wake)
		unix.Close(s.chanFd)
		outS.Close()
		errS.Close()
		w.Close()
		return nil, fmt.Errorf("session: start %s: %w", shell, err)
	}
	// The slaves stay open here too: a terminal that no process holds
	// anymore (say, after exec 2>/dev/null) would end its master's
	// reads, and the shell may open it again by name.
	s.slaves = [2]*os.File{outS, errS}
	ok = true
	go s.waitShell()
	s.buf = make([]byte, 64<<10)
	s.scan[0] = markerScanner{mark: []byte(markPrefix)}
	s.scan[1] = markerScanner{mark: s.scan[0].mark, wrap: []byte(filepath.Join(s.priv, "s") + ": line ")}
	if s.bash {
		s.scan[1].rewrite = s.errPrefix
		s.scan[1].key = []byte(s.batchF + ": ")
		s.scan[1].as = []byte(s.shellName + ": ")
	}

	// The setup is sourced from a file of the private directory: bash
	// reads its script pipe one byte per system call (1200 of them for
	// the setup), a file in one.
	setupF := filepath.Join(s.priv, "s")
	err = os.WriteFile(setupF, []byte(s.setup()), 0o600)
	if err == nil {
		_, err = w.WriteString(". " + quote(setupF) + "\n")
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("session: setup: %w", err)
	}
	return s, nil
}

// openTerm opens a pseudo-terminal of 80x24 whose output is not
// post-processed (no LF → CRLF), so that raw bytes come back as written.
func openTerm() (master int, slave *os.File, err error) {
	m, slave, err := pty.Open()
	if err != nil {
		return -1, nil, fmt.Errorf("session: pty: %w", err)
	}
	// A non-blocking copy of the master, read by RunBatch with poll.
	fd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 3)
	m.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		slave.Close()
		return -1, nil, fmt.Errorf("session: pty: %w", err)
	}
	master = fd
	if err = pty.Setsize(slave, &pty.Winsize{Rows: 24, Cols: 80}); err == nil {
		err = termControl(slave, func(fd int) error {
			t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
			if err != nil {
				return err
			}
			t.Oflag &^= unix.ONLCR
			return unix.IoctlSetTermios(fd, unix.TCSETS, t)
		})
	}
	if err != nil {
		unix.Close(master)
		slave.Close()
		return -1, nil, fmt.Errorf("session: pty: %w", err)
	}
	return master, slave, nil
}

func termControl(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// fgPgrp is the terminal's foreground process group, or 0.
func (s *Session) fgPgrp() int {
	pg, err := unix.IoctlGetInt(s.masters[0], unix.TIOCGPGRP)
	if err != nil {
		return 0
	}
	return pg
}

// sessionEnv is the shell's environment: wordish's own, minus what would
// make a run depend on the user's shell setup, plus TERM=dumb, pagers
// that do not wait for a key (cat) and extra.
func sessionEnv(extra []string, dir string) []string {
	drop := map[string]bool{
		"LC_ALL": true, "TERM": true, "COLUMNS": true, "LINES": true,
		"BASH_ENV": true, "ENV": true, "SHELLOPTS": true, "BASHOPTS": true,
		"CDPATH": true, "GLOBIGNORE": true, "PROMPT_COMMAND": true,
		"PS1": true, "PS2": true, "PS3": true, "PS4": true, "HISTFILE": true,
		"TMOUT": true, "OLDPWD": true, "PWD": true, "POSIXLY_CORRECT": true,
		"BASH_XTRACEFD": true, "IFS": true, "WORDISH_SESSION": true,
		"COLORTERM": true, "TERMCAP": true, "INPUTRC": true,
		"PAGER": true, "GIT_PAGER": true, "MANPAGER": true, "SYSTEMD_PAGER": true,
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if drop[k] || strings.HasPrefix(k, "BASH_FUNC_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "TERM=dumb", "PWD="+dir,
		"PAGER=cat", "GIT_PAGER=cat", "MANPAGER=cat", "SYSTEMD_PAGER=")
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		out := env[:0]
		for _, e := range env {
			if ek, _, _ := strings.Cut(e, "="); ek != k {
				out = append(out, e)
			}
		}
		env = append(out, kv)
	}
	return env
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func (s *Session) waitShell() {
	<-s.reaper.exited
	s.status = s.reaper.status
	close(s.dead)
	s.poke()
}

// Alive reports whether the shell is still running.
func (s *Session) Alive() bool {
	select {
	case <-s.dead:
		return false
	default:
		return !s.closed.Load()
	}
}

// Dir is the directory the shell started in (the temporary one unless
// Config.Workdir was given); commands may have cd'd elsewhere since.
func (s *Session) Dir() string { return s.dir }

// Interrupt stops the command running now as a timeout would, and reports
// it with Interrupted set; the batch stops there. It may be called from
// any goroutine; it does nothing when no batch is running.
func (s *Session) Interrupt() {
	s.intrMu.Lock()
	defer s.intrMu.Unlock()
	if !s.running.Load() {
		return
	}
	s.intr.Store(true)
	s.poke()
}

// setRunning marks a batch as started or ended; an interrupt meant for
// another batch is dropped either way.
func (s *Session) setRunning(on bool) {
	s.intrMu.Lock()
	s.intr.Store(false)
	s.running.Store(on)
	s.intrMu.Unlock()
}

// Run runs one command.
func (s *Session) Run(cmd Command) Result {
	var res Result
	got := false
	s.RunBatch([]Command{cmd}, func(_ int, r Result) { res, got = r, true })
	if !got {
		res = Result{Exited: true, Status: s.exitStatus()}
	}
	return res
}

func (s *Session) exitStatus() int {
	select {
	case <-s.dead:
		return s.status
	default:
		return -1
	}
}

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
// After each command the batch calls __w STATUS SEQ EXPECT TOKEN (in slow
// mode __wp, which writes to the terminals by name): it writes the marker
// \036W SEQ:TOKEN \036 on both terminals, then SEQ:STATUS:TOKEN:TIME on
// the channel, and returns whether the status fits EXPECT (z zero, n
// non-zero, a any, or the code) and no stop was asked for. TOKEN is
// $SRANDOM, drawn after the command ended: no command can know it in
// advance. __we STATUS BATCH TOKEN ends a batch the same way. With bash
// the functions are read-only (readonly -f: no document can redefine
// them), were parsed before any alias existed, do not inherit DEBUG or
// RETURN traps, call printf as a builtin (a function named printf is not
// used) and take the status as an argument, never from a variable: the
// status they report is the command's. A printf that fails to write on
// the channel (a disabled builtin, a closed descriptor) ends the shell
// with ${NULL:?}, an expansion error no document can redefine: the
// command is then reported as having ended the shell, never as passed.
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
	// (see RunBatch): its descriptor comes as $5.
	send := "printf '%s:%s:%s:%s\\n' \"$2\" \"$1\" \"$4\" \"$EPOCHREALTIME\" >&\"$5\" || ${" + Z + ":?}; " + S + "=$1; "
	// A batch aborted by SIGINT (the shell itself interrupted) leaves the
	// channel where bash saved it, $4: moved back.
	sendEnd := "printf 'E%s:%s:%s\\n' \"$2\" \"$1\" \"$3\" 2>/dev/null >&" + fd + " || { exec " + fd + ">&\"$4\" && " + S + "=$4 && exec {" + S + "}>&- && printf 'E%s:%s:%s\\n' \"$2\" \"$1\" \"$3\" >&" + fd + "; } || ${" + Z + ":?}; "
	byName := func(m string) string {
		return "printf '" + m + "' \"$2\" \"$4\" >" + s.outTTY + "; printf '" + m + "' \"$2\" \"$4\" >" + s.errTTY + "; "
	}
	byNameEnd := func(m string) string {
		return "printf '" + m + "' \"$2\" \"$3\" >" + s.outTTY + "; printf '" + m + "' \"$2\" \"$3\" >" + s.errTTY + "; "
	}
	// Builtins disabled with enable -n are enabled again when the channel
	// cannot be written, and the markers written again.
	reenable := "\\enable builtin printf return 2>/dev/null; "
	if s.bash {
		check := "[[ -z ${" + X + "-} ]] && case $3 in (z) [[ $1 == 0 ]];; (n) [[ $1 != 0 ]];; (a) ;; (*) [[ $1 == \"$3\" ]];; esac"
		bi := func(t string) string { return strings.ReplaceAll(t, "printf ", "builtin printf ") }
		// The marker on standard error is printf's own error message
		// about an invalid number ("/dev/fd/3: line N: printf: MARKER:
		// invalid number"), a line removed whole: one printf, no
		// redirection, writes both.
		inband := "builtin printf '\\036W%s:%s\\036%.0d' \"$2\" \"$4\" $'\\036W'\"$2:$4\"$'\\036'; "
		sendB := strings.SplitN(bi(send), " || ", 2)
		w := inband + sendB[0] + " || { " + reenable + inband + sendB[0] + "; } || " + sendB[1] + check + "; }\n"
		// __w writes to the channel's usual place, 10, named literally
		// (cheaper than expanding $5); __wx to $5.
		b.WriteString("__wx() { " + w)
		b.WriteString("__w() { " + strings.ReplaceAll(w, `>&"$5"`, ">&10"))
		// __wz is __w for the usual expectation, status 0, without the
		// case: 13 K of the 199 K instructions bash spends per step.
		b.WriteString("__wz() { " + strings.ReplaceAll(strings.Replace(w, check, "[[ -z ${"+X+"-} && $1 == 0 ]]", 1), `>&"$5"`, ">&10"))
		b.WriteString("__wp() { " + bi(byName("\\036W%s:%s\\036")) + bi(send) + check + "; }\n")
		b.WriteString("__we() { builtin printf '\\036WE%s:%s\\036%.0d' \"$2\" \"$3\" $'\\036WE'\"$2:$3\"$'\\036'; " + bi(sendEnd) + "}\n")
		b.WriteString("__wep() { " + bi(byNameEnd("\\036WE%s:%s\\036")) + bi(sendEnd) + "}\n")
		b.WriteString("__wst() { \\return \"$1\"; }\nreadonly -f __w __wz __wx __wp __we __wep __wst\n")
		b.WriteString("builtin printf 'R\\n' >&" + fd + "\n")
		return b.String()
	}
	check := "[ -z \"${" + X + "-}\" ] && case $3 in z) [ \"$1\" = 0 ];; n) [ \"$1\" != 0 ];; a) ;; *) [ \"$1\" = \"$3\" ];; esac"
	b.WriteString("__w() { printf '\\036W%s:%s\\036' \"$2\" \"$4\"; printf '\\036W%s:%s\\036' \"$2\" \"$4\" >&2; " + send + check + "; }\n")
	b.WriteString("__wp() { " + byName("\\036W%s:%s\\036") + send + check + "; }\n")
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
		seq := strconv.Itoa(base + i)
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
		if s.bash && s.direct(c.Text) {
			b = append(b, c.Text...)
		} else {
			b = append(b, "\\eval "...)
			b = appendQuoted(b, c.Text)
		}
		fn, fd := "\\__w", " "+chanFd
		switch {
		case s.slow || s.traced:
			fn = "\\__wp"
		case s.bash && chanFd == "10":
			fd = ""
			if c.Expect == ExpectZero {
				fn = "\\__wz"
			}
		case s.bash:
			fn = "\\__wx"
		}
		b = append(b, "\n"...)
		if s.traced {
			b = append(b, "{ "...)
		}
		b = append(b, fn+" \"$?\" "+seq+" "...)
		switch c.Expect {
		case ExpectZero:
			b = append(b, 'z')
			prev, known = 0, true
		case ExpectCode:
			b = strconv.AppendInt(b, int64(c.Code), 10)
			prev, known = c.Code, true
		case ExpectNonzero:
			b = append(b, 'n')
			known = false
		default:
			b = append(b, 'a')
			known = false
		}
		b = append(b, " \"$SRANDOM\""+fd+stopLine...)
		if s.traced {
			b = append(b, "; } 2>/dev/null"...)
		}
		b = append(b, '\n')
	}
	return b
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

// RunBatch runs cmds in order and calls each with every command's result
// as soon as it is known, in order. It stops after the first command whose
// status does not fit its expectation, that timed out, was interrupted or
// ended the shell, and returns how many commands ran. On a dead or closed
// session it runs nothing and returns 0. each runs on the calling
// goroutine and must not call Run or RunBatch; it may be nil.
//
// A command with Input starts a batch of its own in the shell, so that
// its input is typed when it runs, not before.
func (s *Session) RunBatch(cmds []Command, each func(i int, r Result)) int {
	if len(cmds) == 0 {
		return 0
	}
	if each == nil {
		each = func(int, Result) {}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for len(cmds) > 0 {
		k := 1
		for k < len(cmds) && cmds[k].Input == "" {
			k++
		}
		off := n
		ran, full := s.runBatch(cmds[:k], func(i int, r Result) { each(off+i, r) })
		n += ran
		if !full {
			break
		}
		cmds = cmds[k:]
	}
	return n
}

// runBatch runs one batch in the shell; full reports whether all of cmds
// ran and the batch went on after the last.
func (s *Session) runBatch(cmds []Command, each func(i int, r Result)) (int, bool) {
	if !s.Alive() || !s.waitReady() {
		return 0, false
	}
	base := s.seq + 1
	s.seq += len(cmds)
	s.batch++
	for _, c := range cmds {
		if !s.slow && strings.Contains(c.Text, "exec") {
			// It may redirect the shell's own output: from now on the
			// markers are written to the terminals by name.
			s.slow = true
		}
		if s.bash && !s.traced && strings.Contains(c.Text, "x") && tracing.MatchString(c.Text) {
			s.traced = true
			s.scan[1].trace = regexp.MustCompile(`(?m)^(\+)\+|^\++ \. '?` + regexp.QuoteMeta(s.batchF) + `'?\n`)
		}
	}
	if err := os.WriteFile(s.batchF, s.script(cmds, base), 0o600); err != nil {
		r := Result{Stderr: []byte("wordish: " + err.Error() + "\n"), Status: -1}
		r.Transcript = r.Stderr
		each(0, r)
		return 1, false
	}
	s.setRunning(true)
	defer s.setRunning(false)

	b := batchRun{s: s, cmds: cmds, base: base, each: each, last: len(cmds) - 1}
	// Input: end of file (Ctrl-D, typed in advance), unless the first
	// command has input to type.
	s.flushInput()
	if cmds[0].Input != "" {
		b.input = cmds[0].Input
	} else {
		s.typeEOF()
	}

	// The end of the batch is on a line of its own: an interrupt aborts
	// the whole line being run (the sourcing), as Ctrl-C would. The shell
	// reads these lines byte by byte (from a pipe): keep them short.
	end := "\n\\__we \"$?\" "
	switch {
	case s.traced:
		end = "\n{ \\__wep \"$?\" "
	case s.slow:
		end = "\n\\__wep \"$?\" "
	}
	// The batch is sourced with the channel closed: bash keeps it, while
	// the batch runs, as a copy at the lowest free descriptor from 10 up,
	// close-on-exec, so that no command inherits it (with bash; other
	// shells address only 0 to 9, and leave it in the commands).
	line := ". " + quote(s.batchF)
	saved := s.savedFd()
	if s.bash {
		line += " " + s.chanFdShell() + ">&-"
	}
	line += end + strconv.Itoa(s.batch) + " \"$SRANDOM\" " + strconv.Itoa(saved)
	if s.traced {
		line += "; } 2>/dev/null"
	}
	line += "\n"
	b.start = time.Now()
	s.ctl.WriteString(line) // fails only if the shell is gone: the loop sees it
	n := b.loop()
	s.flushInput() // what is left of the end of file typed ahead
	full := n == len(cmds) && !b.stopped && b.broken == "" && s.Alive() && b.acc[n-1].marks >= 2 &&
		cmds[n-1].Expected(b.acc[n-1].status)
	return n, full
}

// waitReady waits for the end of the shell's setup (its "R" on the
// channel), after which its descriptors are known.
func (s *Session) waitReady() bool {
	if s.ready {
		return true
	}
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	buf := make([]byte, 64)
	deadline := time.Now().Add(killLimit)
	for time.Now().Before(deadline) && s.Alive() {
		fds := []unix.PollFd{{Fd: int32(s.chanFd), Events: unix.POLLIN}}
		ts := unix.NsecToTimespec(int64(50 * time.Millisecond))
		if n, _ := unix.Ppoll(fds, &ts, nil); n <= 0 {
			continue
		}
		n, oobn, _, _, err := unix.Recvmsg(s.chanFd, buf, oob, 0)
		if err != nil || n <= 0 {
			continue
		}
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil && len(msgs) == 1 {
			if c, err := unix.ParseUnixCredentials(&msgs[0]); err == nil && int(c.Pid) == s.pid && string(buf[:n]) == "R\n" {
				s.ready = true
				return true
			}
		}
	}
	return false
}

// dropChan discards what waits on the channel (messages of Interact).
func (s *Session) dropChan() {
	var b [4096]byte
	for {
		if n, _ := unix.Read(s.chanFd, b[:]); n <= 0 {
			return
		}
	}
}

// waitIdle waits, briefly, until the shell reads its script again: the
// end of a batch reaches wordish while the shell still undoes the
// redirection it was written with (the copy of its standard output it
// keeps meanwhile is a descriptor from 10 up).
func (s *Session) waitIdle() {
	path := "/proc/" + strconv.Itoa(s.pid) + "/syscall"
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		// read(2) on the script (254, or 255 without job control).
		b, err := os.ReadFile(path)
		if err != nil || bytes.HasPrefix(b, []byte("0 0xfe ")) || bytes.HasPrefix(b, []byte("0 0xff ")) || !s.Alive() {
			return
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// savedFd is where bash will save the channel when the batch is sourced
// with it closed: the lowest free descriptor from 10 up (bash's
// SHELL_FD_BASE). The shell is idle between batches: its descriptors do
// not change meanwhile.
func (s *Session) savedFd() int {
	s.waitIdle()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(s.pid) + "/fd")
	if err != nil {
		return 10
	}
	used := map[int]bool{}
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			used[n] = true
		}
	}
	fd := 10
	for used[fd] {
		fd++
	}
	return fd
}

// eofRun is how many end of file characters are typed ahead: each ends
// one read of the terminal.
const eofRun = 64

// typeEOF types end of file characters (Ctrl-D) ahead, so that a command
// reading its input gets an end of file rather than waiting.
func (s *Session) typeEOF() {
	var eof [eofRun]byte
	for i := range eof {
		eof[i] = 4
	}
	unix.Write(s.masters[0], eof[:])
}

// inputQueued is how many bytes wait in the terminal's input.
func (s *Session) inputQueued() int {
	n, err := unix.IoctlGetInt(int(s.slaves[0].Fd()), unix.TIOCINQ)
	if err != nil {
		return eofRun
	}
	return n
}

// chanMsg is a message of the channel: the end of a command or a batch.
type chanMsg struct {
	seq, status int
	token       string
	at          time.Time
}

type batchRun struct {
	s     *Session
	cmds  []Command
	base  int
	each  func(int, Result)
	start time.Time

	acc       []*accum
	ch        []chanMsg // channel messages of the commands, in order
	endMsg    *chanMsg  // channel message ending the batch
	cur       [2]int    // per stream: index of the command receiving output
	endSeen   [2]bool
	endTok    [2]string
	last      int // the last command that will run (stop point)
	reported  int
	stopped   bool // the Go side decided to stop (timeout, interrupt, tampering)
	killing   bool
	killT0    time.Time
	shellInt  int // kill ticks with the shell itself in the foreground
	why       int // 1 timeout, 2 interrupt, 3 tampering
	whyIdx    int
	broken    string // what was tampered with
	endWait   bool
	timerAt   time.Time
	endStatus int
	flush     bool // the terminal's input to flush at the end
	nextTick  time.Time

	eofAt   time.Time // when the end of file typed ahead was last checked
	input   string    // left to type, for command 0
	typeAt  time.Time // when to type its next line
	typed   bool      // all typed, end of file too
	lastOut time.Time
	outNL   bool // command 0's last output ended a line
}

type accum struct {
	out, err, tr capBuf
	status       int
	start, done  time.Time
	// began and ended time the command by the shell's clock, which sees
	// each command's end even when several arrive in one read.
	began, ended time.Time
	marks        int       // markers seen (2 = both streams)
	tok          [2]string // the markers' tokens, per stream
	have         [2]bool
	settled      bool // markers and channel message agree: status known
}

func (b *batchRun) get(i int) *accum {
	for len(b.acc) <= i {
		b.acc = append(b.acc, &accum{status: -1})
	}
	return b.acc[i]
}

func (b *batchRun) timeout(i int) time.Duration {
	if t := b.cmds[i].Timeout; t > 0 {
		return t
	}
	return b.s.cfg.Timeout
}

// Typing pace: a line of input is typed once the command has been quiet
// for a while after printing what looks like a prompt (no final newline),
// or for longer after anything else.
const (
	typePrompt = 20 * time.Millisecond
	typeQuiet  = 150 * time.Millisecond
	eofCheck   = 250 * time.Millisecond // end of file typed ahead is topped up
)

func (b *batchRun) loop() int {
	s := b.s
	b.get(0).start = b.start
	b.timerAt = b.start.Add(b.timeout(0))
	if b.input != "" {
		b.typeAt = b.start.Add(typeQuiet)
	}
	for {
		if b.endSeen[0] && b.endSeen[1] && b.endMsg != nil {
			if b.flush {
				s.flushInput()
			}
			b.finish(false)
			return b.reported
		}
		if !s.Alive() && s.exitStatus() != -1 {
			b.drain()
			b.finish(true)
			return b.reported
		}
		now := time.Now()
		at := b.timerAt
		if b.killing && b.nextTick.Before(at) {
			at = b.nextTick
		}
		if b.input != "" || !b.typed && !b.typeAt.IsZero() {
			at = minTime(at, b.typeAt)
		}
		if !now.Before(at) {
			b.onTimer(now)
			continue
		}
		// The channel wakes the loop only while a marker waits for its
		// message: the message is written after the markers and usually
		// reaches wordish first, and one wake-up per step would cost more
		// than the rest of it.
		ready := s.poll(min(at.Sub(now), eofCheck), true, b.chanDue())
		if ready&pollWake != 0 {
			s.unpoke()
			if s.intr.Swap(false) && !b.killing {
				b.stop(min(b.cur[0], b.last), 2)
			}
		}
		if ready&pollChan != 0 {
			b.readChan()
		}
		for st := range 2 {
			if ready&(1<<st) != 0 {
				s.readStream(st, b.handle)
			}
		}
		if b.chanDue() {
			b.readChan()
		}
		if i := b.cur[0]; i <= b.last && !b.killing {
			b.timerAt = b.get(i).start.Add(b.timeout(i))
		}
		// The end of file typed ahead, topped up now and then (an ioctl
		// at every wake-up would cost more than the rest of a step).
		if (b.typed || b.input == "" && b.typeAt.IsZero()) && time.Since(b.eofAt) >= eofCheck {
			b.eofAt = time.Now()
			if s.inputQueued() < eofRun/2 {
				s.typeEOF()
			}
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// onTimer runs when the running command's timeout, the kill phase's next
// step or the typing of input is due.
func (b *batchRun) onTimer(now time.Time) {
	s := b.s
	if !b.typeAt.IsZero() && !b.typed && !now.Before(b.typeAt) {
		b.typeNext(now)
	}
	if b.killing && !now.Before(b.nextTick) {
		b.killTick()
		b.nextTick = now.Add(killGrace)
	}
	if now.Before(b.timerAt) {
		return
	}
	i := b.cur[0]
	switch {
	case i > b.last:
		// Done, only the end of the batch is still to come: that takes
		// microseconds, unless the shell is broken.
		if b.endWait {
			unix.Kill(s.pid, unix.SIGKILL)
		}
		b.endWait = true
		b.timerAt = now.Add(killLimit)
	case b.killing:
		b.timerAt = now.Add(time.Hour)
	default:
		if at := b.get(i).start.Add(b.timeout(i)); now.Before(at) {
			b.timerAt = at
			return
		}
		b.stop(i, 1)
		b.timerAt = now.Add(time.Hour)
	}
}

// typeNext types the next line of command 0's input, as a user would at
// its prompt (the terminal echoes it); after the last, an end of file.
func (b *batchRun) typeNext(now time.Time) {
	s := b.s
	b.flush = true
	if b.cur[0] > 0 || b.killing {
		b.input, b.typed = "", true
		return
	}
	if b.input == "" {
		s.typeEOF()
		b.typed = true
		return
	}
	line := b.input
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i+1]
	}
	b.input = b.input[len(line):]
	unix.Write(s.masters[0], []byte(line))
	b.typeAt = now.Add(typeQuiet)
}

// stop starts the kill phase for command i: the shell is told to stop the
// batch, the foreground job gets SIGINT.
func (b *batchRun) stop(i, why int) {
	s := b.s
	b.stopped, b.killing, b.killT0 = true, true, time.Now()
	b.nextTick = b.killT0.Add(killGrace)
	b.why, b.whyIdx = why, i
	if i < b.last {
		b.last = i
	}
	unix.Kill(s.pid, stopSig)
	pg := s.fgPgrp()
	if pg > 0 {
		unix.Kill(-pg, unix.SIGINT)
	}
	if pg == s.pid {
		// A builtin runs (read, a loop): an end of file, as Ctrl-D,
		// ends a read from the terminal; what it does not read is
		// flushed at the end of the batch.
		unix.Write(s.masters[0], []byte{4})
		b.flush = true
	}
}

// killTick runs every killGrace during the kill phase: it kills the
// foreground job; if the shell itself stays in the foreground, or
// nothing helps for killLimit, it kills the shell.
func (b *batchRun) killTick() {
	s := b.s
	pg := s.fgPgrp()
	switch {
	case time.Since(b.killT0) > killLimit:
		unix.Kill(s.pid, unix.SIGKILL)
	case pg > 0 && pg != s.pid:
		unix.Kill(-pg, unix.SIGKILL)
	default:
		b.shellInt++
		if b.shellInt >= 2 {
			unix.Kill(s.pid, unix.SIGKILL)
		}
	}
}

// readChan reads what the channel has. Only the shell's own messages
// count (the kernel names the writer of each); they must come in order,
// one per command, then the batch's end. Anything else means a command
// wrote to the channel: the batch stops, and the command is reported as
// errored, never passed.
func (b *batchRun) readChan() {
	s := b.s
	if s.chanBuf == nil {
		s.chanBuf = make([]byte, 64<<10)
		s.chanOOB = make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	}
	oob := s.chanOOB
	for {
		n, oobn, _, _, err := unix.Recvmsg(s.chanFd, s.chanBuf, oob, 0)
		if n <= 0 || err != nil {
			return
		}
		pid := 0
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if c, err := unix.ParseUnixCredentials(&m); err == nil {
					pid = int(c.Pid)
				}
			}
		}
		if pid != s.pid {
			b.tampered(-1, "a process other than the shell wrote to wordish's channel")
			continue
		}
		for data := s.chanBuf[:n]; len(data) > 0; {
			var line []byte
			line, data, _ = bytes.Cut(data, []byte{'\n'})
			b.chanLine(string(line))
		}
	}
}

func (b *batchRun) chanLine(line string) {
	end := strings.HasPrefix(line, "E")
	f := strings.Split(strings.TrimPrefix(line, "E"), ":")
	var m chanMsg
	var err1, err2 error
	if len(f) >= 3 {
		m.seq, err1 = strconv.Atoi(f[0])
		m.status, err2 = strconv.Atoi(f[1])
		m.token = f[2]
		if len(f) >= 4 {
			m.at = epochTime([]byte(f[3]))
		}
	}
	switch {
	case len(f) < 3 || err1 != nil || err2 != nil:
		b.tampered(-1, "unreadable message on wordish's channel")
	case end && m.seq == b.s.batch && b.endMsg == nil:
		b.endMsg = &m
		b.endStatus = m.status
		b.settleEnd()
	case !end && m.seq-b.base == len(b.ch) && len(b.ch) < len(b.cmds) && b.endMsg == nil:
		b.ch = append(b.ch, m)
		b.settle(len(b.ch) - 1)
	default:
		b.tampered(m.seq-b.base, "the command wrote wordish's end-of-command marker itself")
	}
}

// tampered stops the batch at the command that broke the protocol: i if
// not reported yet, else the one running.
func (b *batchRun) tampered(i int, why string) {
	if b.broken != "" {
		return
	}
	if i < b.reported || i >= len(b.cmds) {
		i = max(b.reported, min(len(b.ch), b.last))
	}
	b.broken = why
	if b.killing {
		// Already stopping: the command stopped is the one blamed.
		b.whyIdx, b.why = min(i, b.whyIdx), 3
		b.last = min(b.last, b.whyIdx)
		return
	}
	b.stop(min(i, len(b.cmds)-1), 3)
}

func (b *batchRun) handle(ev event) {
	st := ev.stream
	switch ev.kind {
	case evData:
		i := min(b.cur[st], b.last)
		a := b.get(i)
		if st == 0 {
			a.out.write(ev.data)
		} else {
			a.err.write(ev.data)
		}
		a.tr.write(ev.data)
		if i == 0 && b.input != "" {
			b.lastOut = time.Now()
			b.outNL = ev.data[len(ev.data)-1] == '\n'
			if b.outNL {
				b.typeAt = b.lastOut.Add(typeQuiet)
			} else {
				b.typeAt = b.lastOut.Add(typePrompt)
			}
		}
	case evMark:
		i := ev.seq - b.base
		if i < 0 || i >= len(b.cmds) || i != b.cur[st] {
			b.handle(event{stream: st, kind: evData, data: ev.data})
			return
		}
		// Taken as the end of the command's output on this terminal; it
		// counts once the channel, which only the shell can write, gives
		// the same token for the command (settle).
		b.cur[st] = i + 1
		a := b.get(i)
		a.marks++
		a.tok[st], a.have[st] = ev.token, true
		if st == 0 {
			now := time.Now()
			a.done = now
			if i+1 < len(b.cmds) {
				b.get(i + 1).start = now
			}
		}
		b.settle(i)
	case evEnd:
		if ev.seq != b.s.batch || b.endSeen[st] {
			b.handle(event{stream: st, kind: evData, data: ev.data})
			return
		}
		b.endSeen[st] = true
		b.endTok[st] = ev.token
		b.settleEnd()
	}
}

// chanDue reports whether a marker waits for its channel message.
func (b *batchRun) chanDue() bool {
	n := len(b.ch)
	return b.cur[0] > n || b.cur[1] > n || (b.endSeen[0] || b.endSeen[1]) && b.endMsg == nil
}

// settle checks command i's markers against its channel message, once
// both are in, and takes its status from the channel.
func (b *batchRun) settle(i int) {
	if i >= len(b.ch) || i >= len(b.acc) {
		return
	}
	a, m := b.acc[i], b.ch[i]
	for st := range 2 {
		if a.have[st] && a.tok[st] != m.token {
			b.tampered(i, "the command wrote wordish's end-of-command marker itself")
			return
		}
	}
	if a.settled || a.marks < 2 {
		return
	}
	a.settled = true
	a.status, a.ended = m.status, m.at
	if i+1 < len(b.cmds) {
		b.get(i + 1).began = m.at
	}
	if !b.cmds[i].Expected(m.status) && i < b.last {
		b.last = i
	}
	b.report()
}

func (b *batchRun) settleEnd() {
	if b.endMsg == nil {
		return
	}
	for st := range 2 {
		if b.endSeen[st] && b.endTok[st] != b.endMsg.token {
			b.tampered(-1, "a command wrote wordish's end-of-batch marker itself")
		}
	}
}

// report delivers the results known so far; the last command waits for
// the end of the batch, so that all its output is in. A second channel
// message for a command already reported (written by the command itself,
// before the shell's own) makes the command then running errored: the
// document cannot pass.
func (b *batchRun) report() {
	for b.reported < b.last && b.reported < len(b.acc) && b.acc[b.reported].settled {
		b.deliver(b.reported, false)
	}
}

func (b *batchRun) deliver(i int, exited bool) {
	a := b.get(i)
	r := Result{
		Stdout:     a.out.bytes(),
		Stderr:     a.err.bytes(),
		Transcript: a.tr.bytes(),
		Dropped:    a.out.dropped() + a.err.dropped(),
		Status:     a.status,
	}
	done := a.done
	if done.IsZero() {
		done = time.Now()
	}
	r.Duration = done.Sub(a.start)
	if began := cmp.Or(a.began, a.start); !a.ended.IsZero() && !a.ended.Before(began) {
		r.Duration = a.ended.Sub(began)
	}
	if b.stopped && i == b.whyIdx {
		r.TimedOut = b.why == 1
		r.Interrupted = b.why == 2
		if b.why == 3 {
			r.Tampered = b.broken
		}
	}
	if exited {
		r.Exited = true
		r.Status = b.s.status
	}
	b.reported = i + 1
	b.s.lastStatus = r.Status
	b.each(i, r)
}

// finish reports what is left at the end of the batch or at the shell's
// death.
func (b *batchRun) finish(dead bool) {
	if dead {
		b.readChan()
	}
	b.report()
	for b.reported <= b.last {
		i := b.reported
		a := b.get(i)
		if a.settled || !dead && a.marks >= 1 && i < len(b.ch) {
			if !a.settled {
				// One terminal's marker lost (its output redirected away):
				// the channel's status stands.
				a.status, a.ended = b.ch[i].status, b.ch[i].at
			}
			b.deliver(i, false)
			continue
		}
		if dead {
			b.deliver(i, true)
			return
		}
		// No end marker: aborted by the interrupt with the rest of the
		// batch, stopped before it started (as by Ctrl-C at the prompt),
		// or it ended the batch itself (a syntax error bash alone
		// detects, a return): the status is that of the sourcing.
		a.status = b.endStatus
		if b.stopped && a.status == 0 {
			a.status = 130
		}
		if b.stopped || i == b.cur[0] {
			b.deliver(i, false)
		}
		return
	}
}

// drain collects the output still in flight after the shell died: until
// none came for deathQuiet, or deathDrain passed.
func (b *batchRun) drain() {
	s := b.s
	end := time.Now().Add(deathDrain)
	for {
		d := min(deathQuiet, time.Until(end))
		if d <= 0 {
			return
		}
		ready := s.poll(d, false, true)
		if ready == 0 {
			return
		}
		if ready&pollChan != 0 {
			b.readChan()
		}
		for st := range 2 {
			if ready&(1<<st) != 0 {
				s.readStream(st, b.handle)
			}
		}
	}
}

// Close ends the session: the shell and every process it started,
// including daemons that left its session, are killed; the temporary
// working directory is removed unless Config.Keep. Close returns an error
// if some process could not be killed in bounded time.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.ctl.Close() // an idle shell ends on its own
		select {
		case <-s.dead:
		case <-time.After(20 * time.Millisecond):
		}
		// The reaper kills every process of the session, then ends.
		left := s.reaper.close()
		select {
		case <-s.dead:
		case <-time.After(closeWait):
		}
		// RunBatch, if one runs, sees the death and returns (unless Close
		// was called from its callback: then go on without it).
		for t := time.Now(); !s.mu.TryLock(); time.Sleep(5 * time.Millisecond) {
			if time.Since(t) > closeWait {
				break
			}
		}
		unix.Close(s.masters[0])
		unix.Close(s.masters[1])
		unix.Close(s.wake)
		s.slaves[0].Close()
		s.slaves[1].Close()
		unix.Close(s.chanFd)
		if left != 0 {
			s.closeErr = fmt.Errorf("session: %d processes left after Close", left)
		}
		s.cleanupFiles()
	})
	return s.closeErr
}

func (s *Session) cleanupFiles() {
	if s.priv != "" {
		os.RemoveAll(s.priv)
	}
	if s.ownDir && !s.cfg.Keep && s.dir != "" {
		if err := os.RemoveAll(s.dir); err != nil {
			// Read-only directories left by a command: make them writable.
			filepath.Walk(s.dir, func(p string, fi os.FileInfo, err error) error {
				if err == nil && fi.IsDir() {
					os.Chmod(p, 0o700)
				}
				return nil
			})
			os.RemoveAll(s.dir)
		}
	}
}

var inheritOnce sync.Once

// closeInherited marks close-on-exec every descriptor above 2 of this
// process: Go opens its own that way, so the others were inherited from
// wordish's parent and would leak into the commands.
func closeInherited() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && fl&unix.FD_CLOEXEC == 0 {
			unix.FcntlInt(uintptr(fd), unix.F_SETFD, fl|unix.FD_CLOEXEC)
		}
	}
}

// flushInput discards the terminal's pending input.
func (s *Session) flushInput() {
	unix.IoctlSetInt(int(s.slaves[0].Fd()), unix.TCFLSH, unix.TCIFLUSH)
}

// Ready bits of poll.
const (
	pollOut  = 1 << 0
	pollErr  = 1 << 1
	pollChan = 1 << 2
	pollWake = 1 << 3
)

// poll waits up to d for output on the terminals or the channel or, with
// wake, for poke.
func (s *Session) poll(d time.Duration, wake, ch bool) int {
	fds := []unix.PollFd{
		{Fd: int32(s.masters[0]), Events: unix.POLLIN},
		{Fd: int32(s.masters[1]), Events: unix.POLLIN},
		{Fd: -1, Events: unix.POLLIN}, // poll skips a negative descriptor
		{Fd: int32(s.wake), Events: unix.POLLIN},
	}
	if ch {
		fds[2].Fd = int32(s.chanFd)
	}
	if !wake {
		fds = fds[:3]
	}
	ts := unix.NsecToTimespec(int64(max(d, 0)))
	n, err := unix.Ppoll(fds, &ts, nil)
	if n <= 0 || err != nil {
		return 0
	}
	ready := 0
	for i, f := range fds {
		if f.Revents != 0 {
			ready |= 1 << i
		}
	}
	return ready
}

// poke wakes a poll with wake.
func (s *Session) poke() {
	var one = [8]byte{1}
	unix.Write(s.wake, one[:])
}

func (s *Session) unpoke() {
	var b [8]byte
	unix.Read(s.wake, b[:])
}

// readStream reads what terminal st has (up to 1 MiB, so that timers are
// looked at during a flood) and passes it on as events to handle.
func (s *Session) readStream(st int, handle func(event)) {
	emit := func(ev event) bool {
		ev.stream = st
		handle(ev)
		return true
	}
	for range 16 {
		n, err := unix.Read(s.masters[st], s.buf)
		if n > 0 {
			data := append(s.scratch[st][:0], s.carry[st]...)
			data = append(data, s.buf[:n]...)
			s.scratch[st] = data
			s.carry[st] = s.scan[st].scan(data, emit)
		}
		// A short read drained the terminal, or nearly: the next poll
		// says when there is more, and a read that would only fail
		// with EAGAIN is saved (a third of the reads of an
		// output-heavy replay).
		if n < drained || err != nil {
			return
		}
	}
}

// drained is a read size below which readStream takes the terminal for
// drained: a pseudo-terminal hands over at most about 4 KiB per read.
const drained = 1024
