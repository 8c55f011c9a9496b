package session

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/wordish-go/wordish/expect"
)

// userTerminal is a terminal standing for the user's: the test types on
// its master and reads what it shows.
type userTerminal struct {
	master, slave *os.File
	mu            sync.Mutex
	shown         bytes.Buffer
}

func newUserTerminal(t *testing.T) *userTerminal {
	t.Helper()
	m, sl, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	pty.Setsize(sl, &pty.Winsize{Rows: 30, Cols: 100})
	u := &userTerminal{master: m, slave: sl}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := m.Read(b)
			u.mu.Lock()
			u.shown.Write(b[:n])
			u.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { sl.Close(); m.Close() })
	return u
}

func (u *userTerminal) text() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.shown.String()
}

func (u *userTerminal) waitFor(t *testing.T, want string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(u.text(), want) {
			return
		}
	}
	t.Fatalf("%q not shown; the terminal shows:\n%q", want, u.text())
}

// waitForAfter waits until want is shown after the first after.
func (u *userTerminal) waitForAfter(t *testing.T, after, want string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		text := u.text()
		if i := strings.Index(text, after); i >= 0 && strings.Contains(text[i+len(after):], want) {
			return
		}
	}
	t.Fatalf("%q not shown after %q; the terminal shows:\n%q", want, after, u.text())
}

// TestInteract: what the user types in the handed-over shell (cd, a
// variable, a function) is there for the next batch; exit leaves the
// shell without ending it.
func TestInteract(t *testing.T) {
	for _, leave := range []string{"exit\r", "\x04"} {
		t.Run(strings.TrimSpace(leave), func(t *testing.T) {
			s, err := Start(Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if r := s.Run(Command{Text: "x=1; false", Expect: expect.Any}); r.Status != 1 {
				t.Fatalf("status %d", r.Status)
			}
			u := newUserTerminal(t)
			done := make(chan error, 1)
			go func() {
				stop, err := s.Interact(u.slave, "(test) ")
				if stop {
					err = errors.New("stop after exit or Ctrl-D")
				}
				done <- err
			}()
			u.waitFor(t, "(test) ")
			u.master.WriteString("cd /tmp; FOO=1; g() { echo g$1; }; echo typed $x\r")
			u.waitFor(t, "typed 1")
			u.waitFor(t, "(test) /tmp$ ")
			pty.Setsize(u.slave, &pty.Winsize{Rows: 33, Cols: 111})
			syscall.Kill(os.Getpid(), syscall.SIGWINCH) // as the terminal would
			time.Sleep(300 * time.Millisecond)
			u.master.WriteString("echo size $(stty size)\r")
			u.waitFor(t, "size 33 111")
			u.master.WriteString("nosuchcommand\r")
			u.waitFor(t, "bash: nosuchcommand: command not found")
			// The next prompt: readline has the terminal in raw mode by
			// then. A Ctrl-D typed before, while the terminal is still in
			// canonical mode, is an end of file nobody reads, lost.
			u.waitForAfter(t, "bash: nosuchcommand: command not found", "(test) /tmp$ ")
			u.master.WriteString(leave)
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("Interact did not return; the terminal shows:\n%q", u.text())
			}
			if strings.Contains(u.text(), markPrefix) {
				t.Error("the end marker was shown")
			}
			r := s.Run(Command{Text: "echo $?; pwd; echo $FOO $TERM; g 2; type exit 2>&1 | head -1"})
			if got, want := string(r.Stdout), "1\n/tmp\n1 dumb\ng2\nexit is a shell builtin\n"; got != want {
				t.Errorf("the next command printed %q, want %q", got, want)
			}
		})
	}
}

// TestInteractCtrlC: Ctrl-C stops the command the user runs, and at the
// prompt gives a new prompt; the shell survives both.
func TestInteractCtrlC(t *testing.T) {
	s, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u := newUserTerminal(t)
	done := make(chan error, 1)
	go func() { _, err := s.Interact(u.slave, "(test) "); done <- err }()
	u.waitFor(t, "(test) ")
	u.master.WriteString("sleep 100; echo not this\r")
	time.Sleep(300 * time.Millisecond)
	u.master.WriteString("\x03")
	time.Sleep(100 * time.Millisecond)
	u.master.WriteString("half a line\x03")
	time.Sleep(100 * time.Millisecond)
	u.master.WriteString("echo after\r")
	u.waitFor(t, "after\r\n")
	u.master.WriteString("exit\r")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("Interact did not return; the terminal shows:\n%q", u.text())
	}
	if strings.Count(u.text(), "not this") != 1 || strings.Contains(u.text(), "half a line: command not found") {
		t.Errorf("the terminal shows:\n%q", u.text())
	}
	if r := s.Run(Command{Text: "echo alive"}); string(r.Stdout) != "alive\n" {
		t.Errorf("after: %q %+v", r.Stdout, r)
	}
}

// TestInteractRedirect: the user may leave the shell's own output
// redirected (exec >/dev/null): Interact still ends, and the session goes
// on.
func TestInteractRedirect(t *testing.T) {
	s, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u := newUserTerminal(t)
	done := make(chan error, 1)
	go func() { _, err := s.Interact(u.slave, "(test) "); done <- err }()
	u.waitFor(t, "(test) ")
	u.master.WriteString("exec >/dev/null 2>&1\r")
	time.Sleep(200 * time.Millisecond)
	u.master.WriteString("\x04")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("Interact did not return; the terminal shows:\n%q", u.text())
	}
	r := s.Run(Command{Text: "exec >/dev/tty 2>&1; echo back", Timeout: 10 * time.Second})
	if string(r.Stdout) != "back\n" || r.TimedOut {
		t.Errorf("after: %+v", r)
	}
}

// TestInteractStop: exit with a non-zero status asks to stop the replay.
func TestInteractStop(t *testing.T) {
	s, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u := newUserTerminal(t)
	type result struct {
		stop bool
		err  error
	}
	done := make(chan result, 1)
	go func() { stop, err := s.Interact(u.slave, "(test) "); done <- result{stop, err} }()
	u.waitFor(t, "(test) ")
	u.master.WriteString("exit 3\r")
	select {
	case r := <-done:
		if r.err != nil || !r.stop {
			t.Errorf("Interact = %v, %v; want stop", r.stop, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("Interact did not return; the terminal shows:\n%q", u.text())
	}
	if r := s.Run(Command{Text: "echo alive; type exit | head -1"}); string(r.Stdout) != "alive\nexit is a shell builtin\n" {
		t.Errorf("after: %q", r.Stdout)
	}
}
