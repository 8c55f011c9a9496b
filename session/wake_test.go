package session

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestPokeAfterClose: the shell's death is announced (waitShell's poke)
// from another goroutine, which may run after Close has closed the
// wake-up descriptor, when its number already belongs to another
// session (at -j 8 it was a new reaper's control pipe, which then ended
// its shell). A late poke must write nowhere.
func TestPokeAfterClose(t *testing.T) {
	s, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	wake := s.wake
	s.Close()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	// Another session's pipe gets the number, as it would by chance.
	if err := unix.Dup3(p[1], wake, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(wake)
	s.poke()
	var b [16]byte
	if n, _ := unix.Read(p[0], b[:]); n > 0 {
		t.Fatalf("poke after Close wrote %d bytes into descriptor %d, now another file's", n, wake)
	}
}
