package session

import (
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
	"syscall"
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
	id      string // WORDISH_SESSION tag
	nonce   string
	pid     int
	shell   *exec.Cmd
	masters [2]int // terminal masters, non-blocking: stdin+stdout, stderr
	outTTY  string
	slaves  [2]*os.File
	errTTY  string
	ctl     *os.File // the shell's script (a pipe): ". batch" lines
	priv    string   // private directory of the batch file
	batchF  string
	dir     string
	ownDir  bool
	wake    int // eventfd: the shell died, or Interrupt was called
	dead    chan struct{}
	status  int // the shell's exit status, once dead is closed
	intr    atomic.Bool
	running atomic.Bool
	closed  atomic.Bool
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
	scan    [2]scanner
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
		cfg:   cfg,
		id:    randHex(8),
		nonce: randHex(8),
		dead:  make(chan struct{}),
		wake:  -1,
	}
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
	c := exec.Command(path, args...)
	c.Args[0] = filepath.Base(path)
	c.Dir = s.dir
	c.Env = sessionEnv(cfg.Env, s.id, s.dir)
	c.Stdin, c.Stdout, c.Stderr = outS, outS, outS
	c.ExtraFiles = []*os.File{r, errS}
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = c.Start()
	r.Close()
	if err != nil {
		unix.Close(outM)
		unix.Close(errM)
		unix.Close(s.wake)
		outS.Close()
		errS.Close()
		w.Close()
		return nil, fmt.Errorf("session: start %s: %w", shell, err)
	}
	// The slaves stay open here too: a terminal that no process holds
	// anymore (say, after exec 2>/dev/null) would end its master's
	// reads, and the shell may open it again by name.
	s.slaves = [2]*os.File{outS, errS}
	s.shell, s.pid = c, c.Process.Pid
	ok = true
	go s.waitShell()
	s.buf = make([]byte, 64<<10)
	s.scan[0] = scanner{mark: []byte("\x1e" + s.nonce + ":")}
	s.scan[1] = scanner{mark: s.scan[0].mark, wrap: []byte(s.batchF + ": ")}
	if s.bash {
		s.scan[1].rewrite = s.errPrefix
		s.scan[1].as = []byte(s.shellName + ": ")
	}

	// Setup, read by the shell from its script. The script's own
	// descriptor was opened anew by the shell (moved high, close-on-exec);
	// the inherited 3 is closed so that commands inherit only 0, 1, 2.
	// With -m, bash sets up job control at startup on a copy of its
	// standard error, which is why that is the main terminal at exec;
	// the standard error terminal comes as 4 and takes its place. The INT
	// trap keeps the shell alive when a job is interrupted (bash then
	// aborts the line it runs); signal 39 asks it to stop the batch.
	setup := "exec 3<&- 2>&4 4>&-\ntrap : INT\ntrap __w_x=1 39\nshopt -s expand_aliases 2>/dev/null\n" +
		"__w_st() { return \"$1\"; }\n__w_s=0\n" +
		"__w_end() { printf '\\036%s:E%s:%s\\036' \"$2\" \"$3\" \"$1\"; printf '\\036%s:E%s:%s\\036' \"$2\" \"$3\" \"$1\" >&2; }\n" +
		"__w_endp() { __w_end \"$@\" >" + s.outTTY + " 2>" + s.errTTY + "; }\n" +
		"__w_endt() { printf '\\036%s:E%s:%s\\036' \"$2\" \"$3\" \"$1\" >" + s.outTTY + "; printf '\\036%s:E%s:%s\\036' \"$2\" \"$3\" \"$1\" >" + s.errTTY + "; }\n"
	if _, err := w.WriteString(setup); err != nil {
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
// make a run depend on the user's shell setup, plus TERM=dumb, the
// session tag and extra.
func sessionEnv(extra []string, id, dir string) []string {
	drop := map[string]bool{
		"LC_ALL": true, "TERM": true, "COLUMNS": true, "LINES": true,
		"BASH_ENV": true, "ENV": true, "SHELLOPTS": true, "BASHOPTS": true,
		"CDPATH": true, "GLOBIGNORE": true, "PROMPT_COMMAND": true,
		"PS1": true, "PS2": true, "PS3": true, "PS4": true, "HISTFILE": true,
		"TMOUT": true, "OLDPWD": true, "PWD": true, "POSIXLY_CORRECT": true,
		"BASH_XTRACEFD": true, "IFS": true, "WORDISH_SESSION": true,
		"COLORTERM": true, "TERMCAP": true, "INPUTRC": true,
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if drop[k] || strings.HasPrefix(k, "BASH_FUNC_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "TERM=dumb", "PWD="+dir, "WORDISH_SESSION="+id)
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
	err := s.shell.Wait()
	st := 0
	if s.shell.ProcessState != nil {
		if ws, ok := s.shell.ProcessState.Sys().(syscall.WaitStatus); ok {
			switch {
			case ws.Signaled():
				st = 128 + int(ws.Signal())
			case ws.Exited():
				st = ws.ExitStatus()
			}
		}
	} else if err != nil {
		st = -1
	}
	s.status = st
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
// command running now (its trap sets $__w_x, checked after each command).
const stopSig = unix.Signal(39) // SIGRTMIN+5 in glibc's numbering

// script writes the shell text of a batch. For each command: the previous
// status restored as $? (statically when the expectation of the previous
// command fixes it), the command evaluated at top level, its end markers on
// both terminals, and a return from the sourced file when its status does
// not fit or the stop signal came.
//
// The markers: with bash, one printf writes the standard output marker
// and, through its own error message about an invalid number, the
// standard error one ("BATCHFILE: line N: printf: MARKER: invalid
// number"): a redirection costs more than the rest of a command's
// overhead. In slow mode (a command may have redirected the shell's own
// output with exec) and with other shells, two printf write plain markers
// to the terminals, by name in slow mode.
func (s *Session) script(cmds []Command, base int) []byte {
	b := make([]byte, 0, 32+len(cmds)*(160+len(s.nonce)))
	b = append(b, "__w_x=\n"...)
	prev, known := s.lastStatus, true
	for i, c := range cmds {
		seq := strconv.Itoa(base + i)
		if s.traced {
			b = s.tracedCommand(b, c, seq, prev, known)
			prev, known = c.Code, c.Expect == ExpectCode
			if c.Expect == ExpectZero {
				prev, known = 0, true
			}
			continue
		}
		switch {
		case !known:
			b = append(b, "__w_st \"$__w_s\" && :\n"...)
		case prev != 0:
			b = append(b, "__w_st "...)
			b = strconv.AppendInt(b, int64(prev), 10)
			b = append(b, " && :\n"...)
		}
		if s.bash && s.direct(c.Text) {
			b = append(b, c.Text...)
		} else {
			b = append(b, "eval "...)
			b = appendQuoted(b, c.Text)
		}
		b = append(b, "\n__w_s=$?; printf '\\036"...)
		b = append(b, s.nonce...)
		b = append(b, ':')
		b = append(b, seq...)
		sep := "; "
		switch {
		case s.slow:
			b = append(b, ":%s:%s\\036' \"$__w_s\" \"$EPOCHREALTIME\" >"...)
			b = append(b, s.outTTY...)
			b = append(b, "; printf '\\036"...)
			b = append(b, s.nonce...)
			b = append(b, ':')
			b = append(b, seq...)
			b = append(b, ":%s\\036' \"$__w_s\" >"...)
			b = append(b, s.errTTY...)
		case s.bash:
			sep = " "
			b = append(b, ":%s:%s\\036%.0d' \"$__w_s\" \"$EPOCHREALTIME\" $'\\036'"...)
			b = append(b, s.nonce...)
			b = append(b, ':')
			b = append(b, seq...)
			// printf fails (invalid number): the test comes after ||.
			b = append(b, ":\"$__w_s\"$'\\036' ||"...)
		default:
			b = append(b, ":%s:%s\\036' \"$__w_s\" \"$EPOCHREALTIME\"; printf '\\036"...)
			b = append(b, s.nonce...)
			b = append(b, ':')
			b = append(b, seq...)
			b = append(b, ":%s\\036' \"$__w_s\" >&2"...)
		}
		switch c.Expect {
		case ExpectZero:
			b = append(b, sep+"[ \"$__w_s$__w_x\" = 0 ] || return 0\n"...)
			prev, known = 0, true
		case ExpectCode:
			b = append(b, sep+"[ \"$__w_s$__w_x\" = "...)
			b = strconv.AppendInt(b, int64(c.Code), 10)
			b = append(b, " ] || return 0\n"...)
			prev, known = c.Code, true
		case ExpectNonzero:
			b = append(b, sep+"[ \"$__w_s\" != 0 ] && [ -z \"$__w_x\" ] || return 0\n"...)
			known = false
		default:
			b = append(b, sep+"[ -z \"$__w_x\" ] || return 0\n"...)
			known = false
		}
	}
	return b
}

// tracedCommand writes a command of the batch for a shell that may trace
// (set -x): each line of the session's own is in a group whose standard
// error, where the trace goes, is /dev/null; the markers are written to
// the terminals by name.
func (s *Session) tracedCommand(b []byte, c Command, seq string, prev int, known bool) []byte {
	switch {
	case !known:
		b = append(b, "{ __w_st \"$__w_s\"; } 2>/dev/null && { :; } 2>/dev/null\n"...)
	case prev != 0:
		b = append(b, "{ __w_st "...)
		b = strconv.AppendInt(b, int64(prev), 10)
		b = append(b, "; } 2>/dev/null && { :; } 2>/dev/null\n"...)
	}
	if s.direct(c.Text) {
		b = append(b, c.Text...)
	} else {
		b = append(b, "eval "...)
		b = appendQuoted(b, c.Text)
	}
	m := "'\\036" + s.nonce + ":" + seq + ":%s\\036' \"$__w_s\""
	b = append(b, "\n{ __w_s=$?; printf "+m+" >"+s.outTTY+"; printf "+m+" >"+s.errTTY+"; } 2>/dev/null; { "...)
	switch c.Expect {
	case ExpectZero:
		b = append(b, "[ \"$__w_s$__w_x\" = 0 ]"...)
	case ExpectCode:
		b = append(b, "[ \"$__w_s$__w_x\" = "...)
		b = strconv.AppendInt(b, int64(c.Code), 10)
		b = append(b, " ]"...)
	case ExpectNonzero:
		b = append(b, "[ \"$__w_s\" != 0 ] && [ -z \"$__w_x\" ]"...)
	default:
		b = append(b, "[ -z \"$__w_x\" ]"...)
	}
	return append(b, " || return 0; } 2>/dev/null\n"...)
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
func (s *Session) RunBatch(cmds []Command, each func(i int, r Result)) int {
	if len(cmds) == 0 {
		return 0
	}
	if each == nil {
		each = func(int, Result) {}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.Alive() {
		return 0
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
		return 1
	}
	s.setRunning(true)
	defer s.setRunning(false)

	// The end of the batch is on a line of its own: an interrupt aborts
	// the whole line being run (the sourcing), as Ctrl-C would. The shell
	// reads these lines byte by byte (from a pipe): keep them short.
	end := "\n__w_end \"$?\" "
	switch {
	case s.traced:
		end = "\n{ __w_endt \"$?\" "
	case s.slow:
		end = "\n__w_endp \"$?\" "
	}
	line := ". " + quote(s.batchF) + end + s.nonce + " " + strconv.Itoa(s.batch)
	if s.traced {
		line += "; } 2>/dev/null"
	}
	line += "\n"
	start := time.Now()
	s.ctl.WriteString(line) // fails only if the shell is gone: the loop sees it
	b := batchRun{s: s, cmds: cmds, base: base, each: each, start: start, last: len(cmds) - 1}
	return b.loop()
}

type batchRun struct {
	s     *Session
	cmds  []Command
	base  int
	each  func(int, Result)
	start time.Time

	acc       []*accum
	cur       [2]int // per stream: index of the command receiving output
	endSeen   [2]bool
	last      int // the last command that will run (stop point)
	reported  int
	stopped   bool // the Go side decided to stop (timeout, interrupt)
	killing   bool
	killT0    time.Time
	shellInt  int // kill ticks with the shell itself in the foreground
	why       int // 1 timeout, 2 interrupt
	whyIdx    int
	endWait   bool
	timerAt   time.Time
	endStatus int
	flush     bool // the terminal's input to flush at the end
	nextTick  time.Time
}

type accum struct {
	out, err, tr capBuf
	status       int
	start, done  time.Time
	// began and ended time the command by the shell's clock, which sees
	// each command's end even when several arrive in one read.
	began, ended time.Time
	marks        int // markers seen (2 = both streams)
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

func (b *batchRun) loop() int {
	s := b.s
	b.get(0).start = b.start
	b.timerAt = b.start.Add(b.timeout(0))
	for {
		if b.endSeen[0] && b.endSeen[1] {
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
		if !now.Before(at) {
			b.onTimer(now)
			continue
		}
		ready := s.poll(at.Sub(now), true)
		if ready&pollWake != 0 {
			s.unpoke()
			if s.intr.Swap(false) && !b.killing {
				b.stop(min(b.cur[0], b.last), 2)
			}
		}
		for st := range 2 {
			if ready&(1<<st) != 0 {
				s.readStream(st, b.handle)
			}
		}
		if i := b.cur[0]; i <= b.last && !b.killing {
			b.timerAt = b.get(i).start.Add(b.timeout(i))
		}
	}
}

// onTimer runs when the running command's timeout or the kill phase's
// next step is due.
func (b *batchRun) onTimer(now time.Time) {
	s := b.s
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
	case evMark:
		i := ev.seq - b.base
		if i < 0 || i >= len(b.cmds) || i != b.cur[st] {
			return // stale or foreign: cannot happen with a fresh nonce
		}
		b.cur[st] = i + 1
		a := b.get(i)
		a.marks++
		if st == 0 {
			now := time.Now()
			a.status, a.done, a.ended = ev.status, now, ev.at
			if i+1 < len(b.cmds) {
				b.get(i + 1).start = now
				b.get(i + 1).began = ev.at
			}
			if !b.cmds[i].Expected(ev.status) && i < b.last {
				b.last = i
			}
		}
		b.report()
	case evEnd:
		if ev.seq == b.s.batch {
			b.endSeen[st] = true
			if st == 0 {
				b.endStatus = ev.status
			}
		}
	}
}

// report delivers the results known so far; the last command waits for
// the end of the batch, so that all its output is in.
func (b *batchRun) report() {
	for b.reported < b.last && b.reported < len(b.acc) && b.acc[b.reported].marks >= 2 {
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
	b.report()
	for b.reported <= b.last {
		i := b.reported
		a := b.get(i)
		if a.marks >= 2 || (!dead && a.marks >= 1) {
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
		ready := s.poll(d, false)
		if ready == 0 {
			return
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
		left := s.killAll(closeWait)
		select {
		case <-s.dead:
		case <-time.After(closeWait):
			left = append(left, s.pid)
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
		if len(left) > 0 {
			s.closeErr = fmt.Errorf("session: processes left after Close: %v", left)
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
	fd, err := unix.Open(s.outTTY, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIFLUSH)
	unix.Close(fd)
}

// Ready bits of poll.
const (
	pollOut  = 1 << 0
	pollErr  = 1 << 1
	pollWake = 1 << 2
)

// poll waits up to d for output on the terminals or, with wake, for poke.
func (s *Session) poll(d time.Duration, wake bool) int {
	fds := []unix.PollFd{
		{Fd: int32(s.masters[0]), Events: unix.POLLIN},
		{Fd: int32(s.masters[1]), Events: unix.POLLIN},
		{Fd: int32(s.wake), Events: unix.POLLIN},
	}
	if !wake {
		fds = fds[:2]
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
