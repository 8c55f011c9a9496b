package session

import (
	"bytes"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// fgPgrp is the terminal's foreground process group, or 0.
func (s *Session) fgPgrp() int {
	pg, err := unix.IoctlGetInt(s.masters[0], unix.TIOCGPGRP)
	if err != nil {
		return 0
	}
	return pg
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

// poke wakes a poll with wake; it does nothing once Close closed wake.
func (s *Session) poke() {
	var one = [8]byte{1}
	s.wakeMu.Lock()
	if s.wake >= 0 {
		unix.Write(s.wake, one[:])
	}
	s.wakeMu.Unlock()
}

func (s *Session) unpoke() {
	var b [8]byte
	unix.Read(s.wake, b[:])
}

// readStream reads what terminal st has (up to 1 MiB, so that timers are
// looked at during a flood), passes it on as events to handle, and
// returns how many bytes it read.
func (s *Session) readStream(st int, handle func(event)) int {
	emit := func(ev event) bool {
		ev.stream = st
		handle(ev)
		return true
	}
	got := 0
	for range 16 {
		n, err := unix.Read(s.masters[st], s.buf)
		if n > 0 {
			got += n
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
			return got
		}
	}
	return got
}

// drained is a read size below which readStream takes the terminal for
// drained: a pseudo-terminal hands over at most about 4 KiB per read.
const drained = 1024
