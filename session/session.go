package session

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

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
	// wakeMu orders poke, called from any goroutine (waitShell, Interrupt),
	// against Close's closing of wake: once closed, its number is soon
	// another session's descriptor (a reaper's control pipe, a script),
	// and a late poke would write into it.
	wakeMu  sync.Mutex
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
	scan    [2]markerScanner
	carry   [2][]byte // a marker possibly cut short, held back
	scratch [2][]byte
	buf     []byte
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
		s.wakeMu.Lock()
		unix.Close(s.wake)
		s.wake = -1
		s.wakeMu.Unlock()
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
