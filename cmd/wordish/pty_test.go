package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// A terminal for the e2e tests of the interactive commands: the wordish
// binary runs on a pseudo-terminal, the test types keys and reads what
// the screen shows.
type screen struct {
	t    *testing.T
	pty  *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	buf  bytes.Buffer // everything written to the terminal
	seen int          // how far waitFor has read
	eof  chan struct{}
}

// startScreen runs wordish with args in dir on a new 40x120 terminal.
func startScreen(t *testing.T, dir string, args ...string) *screen {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(testEnv(), "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	s := &screen{t: t, pty: f, cmd: cmd, eof: make(chan struct{})}
	go func() {
		defer close(s.eof)
		b := make([]byte, 4096)
		for {
			n, err := f.Read(b)
			s.mu.Lock()
			s.buf.Write(b[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		f.Close()
	})
	return s
}

// text is everything shown so far.
func (s *screen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitFor waits until want appears after what earlier waits matched, and
// moves past it.
func (s *screen) waitFor(want string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		all := s.buf.String()
		i := strings.Index(all[s.seen:], want)
		if i >= 0 {
			s.seen += i + len(want)
		}
		s.mu.Unlock()
		if i >= 0 {
			return
		}
		select {
		case <-s.eof:
			s.t.Fatalf("the program ended without showing %q; the screen:\n%s", want, all)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%q not shown within 30 s; the screen:\n%s", want, all)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// send types keys.
func (s *screen) send(keys string) {
	s.t.Helper()
	if _, err := s.pty.Write([]byte(keys)); err != nil {
		s.t.Fatal(err)
	}
}

// exit waits for the program to end and returns its exit status.
func (s *screen) exit() int {
	s.t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		<-s.eof
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			s.t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		s.t.Fatalf("still running after 30 s; the screen:\n%s", s.text())
		return -1
	}
}
