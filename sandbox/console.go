package sandbox

// A guest's console on the host: what is kept of it, and how a guest that
// ended without an exit status is reported (GuestError), from what its
// console shows.

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// console keeps the end of a guest's console, for error messages and the
// saved log; safe for one writer and readers.
type console struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func newConsole() *console { return &console{max: 256 << 10} }

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, p...)
	if len(c.buf) > c.max {
		c.buf = append(c.buf[:0], c.buf[len(c.buf)-c.max:]...)
	}
	return len(p), nil
}

// String returns what was kept.
func (c *console) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.buf)
}

// lastLine returns the last non-blank line of s (a command's output, a
// console), trimmed, for a one-line message.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n\r\t "), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// clip cuts s to n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

// saveConsole writes a guest's console log where it outlives the run
// (os.TempDir(), not the run directory) and returns its path.
func saveConsole(backend, text string) (string, error) {
	var r [4]byte
	rand.Read(r[:])
	name := fmt.Sprintf("wordish-%s-console-%s-%s.log", backend, time.Now().Format("20060102-150405"), hex.EncodeToString(r[:]))
	path := filepath.Join(os.TempDir(), name)
	return path, os.WriteFile(path, []byte(text), 0o644)
}

// consoleTrouble says in a few words what a console shows went wrong,
// or "": whichever comes first of a kernel panic (named panicLabel) and
// a failure that the guest's init reported in a line starting with one of
// initPrefixes.
func consoleTrouble(console, panicLabel string, initPrefixes ...string) string {
	const panicMark = "Kernel panic - not syncing: "
	for _, line := range strings.Split(console, "\n") {
		line = strings.TrimSpace(line)
		if i := strings.Index(line, panicMark); i >= 0 {
			return panicLabel + ": " + strings.TrimSpace(line[i+len(panicMark):])
		}
		for _, p := range initPrefixes {
			if strings.HasPrefix(line, p) && !strings.Contains(line, "ready at") &&
				!strings.Contains(line, "stop requested") && !strings.Contains(line, "command exited") {
				return "guest init failed: " + strings.TrimPrefix(line, p)
			}
		}
	}
	return ""
}

// GuestError is a guest that ended without an exit status. Its message is
// one line a person can act on: the backend, what happened, what to try,
// and where the whole console was saved.
type GuestError struct {
	Backend string // "uml", "qemu"
	What    string // e.g. "UML kernel panic: ptrace set fp regs failed (...)"
	Log     string // the saved console log; "" if it could not be saved
}

func (e *GuestError) Error() string {
	var try []string
	for _, b := range Backends() {
		if b.Name() != e.Backend {
			try = append(try, "--sandbox "+b.Name())
		}
	}
	try = append(try, "wordish sandbox check")
	msg := fmt.Sprintf("%s: %s; try %s", e.Backend, e.What, strings.Join(try, " or "))
	if e.Log != "" {
		msg += "; full console log: " + e.Log
	}
	return msg
}

// guestFailed saves a failed guest's console and returns its GuestError.
func guestFailed(backend, what, consoleText string) error {
	e := &GuestError{Backend: backend, What: what}
	if path, err := saveConsole(backend, consoleText); err == nil {
		e.Log = path
	}
	return e
}
