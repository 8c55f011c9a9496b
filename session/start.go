package session

import (
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

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// Start starts a shell as described by cfg. It does not wait for the
// shell to be ready: the first batch simply queues behind its setup. A
// session started ahead for an equal cfg (Prestart) is taken instead.
func Start(cfg Config) (*Session, error) {
	if s := takeSpare(cfg); s != nil {
		return s, nil
	}
	return startCold(cfg)
}

func startCold(cfg Config) (*Session, error) {
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
	ends, err := s.openIO()
	if err != nil {
		return nil, err
	}
	var args []string
	s.shellName = filepath.Base(path)
	if s.shellName == "bash" {
		s.bash = true
		args = append(args, "--noprofile", "--norc")
	}
	args = append(args, "-m")
	args = append(args, "/dev/fd/3")
	outS, errS := ends.outS, ends.errS
	// The reaper first, so that its start overlaps with the rest of
	// Start: the shell starts once its directory exists.
	s.reaper, err = startReaper(path, append([]string{filepath.Base(path)}, args...),
		[6]*os.File{outS, outS, outS, ends.script, errS, ends.peer})
	ends.script.Close()
	ends.peer.Close()
	if err == nil {
		if err = s.makeDirs(); err != nil {
			s.reaper.abort()
			s.closeIO(outS, errS)
			return nil, err
		}
	}
	if err == nil {
		if s.bash {
			// bash names the sourced batch file and a line in its error
			// messages; an interactive bash, as in a tutorial, says "bash: ".
			s.errPrefix = regexp.MustCompile(regexp.QuoteMeta(s.batchF+": ") + `[^:\n]{1,24} [0-9]+: `)
		}
		// The setup is sourced from a file of the private directory: bash
		// reads its script pipe one byte per system call (1200 of them
		// for the setup), a file in one. The line waits in the pipe.
		setupF := filepath.Join(s.priv, "s")
		err = os.WriteFile(setupF, []byte(s.setup()), 0o600)
		if err == nil {
			_, err = s.ctl.WriteString(". " + quote(setupF) + "\n")
		}
		if err != nil {
			s.reaper.abort()
			err = fmt.Errorf("setup: %w", err)
		}
	}
	if err == nil {
		s.pid, err = s.reaper.startShell(s.dir, sessionEnv(cfg.Env, s.dir))
	}
	if err != nil {
		s.closeIO(outS, errS)
		return nil, fmt.Errorf("session: start %s: %w", shell, err)
	}
	// The slaves stay open here too: a terminal that no process holds
	// anymore (say, after exec 2>/dev/null) would end its master's
	// reads, and the shell may open it again by name.
	s.slaves = [2]*os.File{outS, errS}
	ok = true
	go s.waitShell()
	s.initScanners()
	return s, nil
}

// makeDirs makes the session's private directory (batch and setup files)
// and its working directory.
func (s *Session) makeDirs() error {
	var err error
	if s.priv, err = os.MkdirTemp(privBase(), "w"); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	s.batchF = filepath.Join(s.priv, "b")
	if s.cfg.Workdir == "" {
		if s.dir, err = os.MkdirTemp("", "wordish-"); err != nil {
			return fmt.Errorf("session: %w", err)
		}
		s.ownDir = true
		return nil
	}
	if s.dir, err = filepath.Abs(s.cfg.Workdir); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	if err = os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return nil
}

// privBase is where the private directory goes: /dev/shm when it is a
// memory file system, else the temporary directory. Creating, writing
// and removing a file on the disk's ext4 cost 0.3-1.2 ms each here (the
// inode allocator scans recently deleted inodes), against 0.05 ms in
// memory, and a session writes its setup and every batch there. The
// working directory stays in the temporary directory: commands see it.
func privBase() string {
	var st unix.Statfs_t
	if unix.Statfs("/dev/shm", &st) == nil && st.Type == unix.TMPFS_MAGIC && unix.Access("/dev/shm", unix.W_OK|unix.X_OK) == nil {
		return "/dev/shm"
	}
	return os.TempDir()
}

// closeIO closes what openIO opened, wordish's ends and the terminals'
// slaves, when Start fails after it (or openIO itself: what is not open
// yet is -1 or nil, and closing it does nothing).
func (s *Session) closeIO(outS, errS *os.File) {
	unix.Close(s.masters[0])
	unix.Close(s.masters[1])
	unix.Close(s.wake)
	unix.Close(s.chanFd)
	outS.Close()
	errS.Close()
	s.ctl.Close()
}

// shellEnds are the shell's ends of the session's descriptors.
type shellEnds struct {
	outS, errS   *os.File // the terminals' slaves
	script, peer *os.File // the script pipe's reading end, the channel's other end
}

// openIO opens the terminals, the wake-up eventfd, the script pipe and
// the marker channel: wordish's ends go in s, the shell's are returned.
// On error nothing stays open.
func (s *Session) openIO() (e shellEnds, err error) {
	s.masters, s.wake, s.chanFd = [2]int{-1, -1}, -1, -1
	defer func() {
		if err != nil {
			s.closeIO(e.outS, e.errS)
			e.script.Close()
		}
	}()
	if s.masters[0], e.outS, err = openTerm(); err != nil {
		return e, err
	}
	if s.masters[1], e.errS, err = openTerm(); err != nil {
		return e, err
	}
	if s.wake, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return e, fmt.Errorf("session: %w", err)
	}
	s.outTTY, s.errTTY = e.outS.Name(), e.errS.Name()
	if e.script, s.ctl, err = os.Pipe(); err != nil {
		return e, fmt.Errorf("session: %w", err)
	}
	if e.peer, err = s.openChannel(); err != nil {
		return e, fmt.Errorf("session: %w", err)
	}
	return e, nil
}

// openChannel opens the marker channel: a socket whose reader learns, from
// the kernel, which process wrote each message (SO_PASSCRED). Its reading
// end, non-blocking, is s.chanFd; the other is returned.
func (s *Session) openChannel() (*os.File, error) {
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err = unix.SetsockoptInt(sp[0], unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err == nil {
		err = unix.SetNonblock(sp[0], true)
	}
	if err != nil {
		unix.Close(sp[0])
		unix.Close(sp[1])
		return nil, err
	}
	s.chanFd = sp[0]
	return os.NewFile(uintptr(sp[1]), "channel"), nil
}

// initScanners sets up the reading of the terminals (stream.go).
func (s *Session) initScanners() {
	s.buf = make([]byte, 64<<10)
	s.scan[0] = markerScanner{mark: []byte(markPrefix)}
	s.scan[1] = markerScanner{mark: s.scan[0].mark, wrap: []byte(filepath.Join(s.priv, "s") + ": line ")}
	if s.bash {
		// bash's error messages about a command, on standard error or,
		// for a merged command (Command.Merged), on the main terminal.
		for st := range 2 {
			s.scan[st].rewrite = s.errPrefix
			s.scan[st].key = []byte(s.batchF + ": ")
			s.scan[st].as = []byte(s.shellName + ": ")
		}
	}
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
	if err == nil {
		slave, err = unpolled(slave)
	}
	if err != nil {
		unix.Close(master)
		slave.Close()
		return -1, nil, fmt.Errorf("session: pty: %w", err)
	}
	return master, slave, nil
}

// unpolled returns a copy of f that Go's poller does not watch, and
// closes f. os.OpenFile puts a terminal in the runtime's edge-triggered
// epoll set: every write of the shell to it would then wake a thread of
// wordish for nothing (two context switches, several a command). A file
// made by os.NewFile of a blocking descriptor is not watched.
func unpolled(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 3) // Fd: blocking
	name := f.Name()
	f.Close()
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
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
