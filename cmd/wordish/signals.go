package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// stopSignals end a replay: the running command is interrupted, the
// cleanup steps run, what is left is killed, and wordish exits with
// 128+N. A closed standard output counts as SIGPIPE (141), whether
// wordish learns it from the signal, a failed write or the pipe itself.
var stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE}

// sameSignalWindow: the same signal again within it is the same event
// delivered twice (`timeout` and CI runners signal the process and then
// its whole group), not a user insisting.
const sameSignalWindow = time.Second

// stopper turns signals and a closed standard output into the
// cancellation of a replay.
type stopper struct {
	cancel context.CancelFunc
	sigs   chan os.Signal
	done   chan struct{}
	mu     sync.Mutex
	first  syscall.Signal
	at     time.Time
	// patient, when set, is said of a second signal instead of exiting
	// (the sandbox: its guest is stopping, and its backend bounds the
	// wait).
	patient string
	// outputs are standard output and error when they are files: a
	// SIGPIPE stops the replay only if one of them lost its reader.
	outputs []*os.File
}

// watchStop starts watching; cancel is called on the first signal. A
// second, different signal, or the same one after sameSignalWindow,
// exits at once (the sessions' reapers still kill every process), unless
// patient is set: then it is said, and the wait goes on.
func watchStop(cancel context.CancelFunc, stdout, stderr io.Writer, patient string) *stopper {
	st := &stopper{cancel: cancel, sigs: make(chan os.Signal, 8), done: make(chan struct{}), patient: patient}
	for _, w := range []io.Writer{stdout, stderr} {
		if f, ok := w.(*os.File); ok {
			st.outputs = append(st.outputs, f)
		}
	}
	signal.Notify(st.sigs, stopSignals...)
	go func() {
		for {
			select {
			case <-st.done:
				return
			case s := <-st.sigs:
				st.signal(s.(syscall.Signal), stderr)
			}
		}
	}()
	if f, ok := stdout.(*os.File); ok {
		go st.watchPipe(f)
	}
	return st
}

func (st *stopper) signal(s syscall.Signal, stderr io.Writer) {
	if s == syscall.SIGPIPE && !st.outputGone() {
		// Notified, SIGPIPE comes with every write to a broken pipe, on
		// any descriptor: a session whose shell or reaper just died is
		// not the reader of wordish's output going away.
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.first == 0:
		st.first, st.at = s, time.Now()
		st.cancel()
	case s == syscall.SIGPIPE || s == st.first && time.Since(st.at) < sameSignalWindow:
		// The same event again, or writes to the closed output.
	case st.patient != "":
		fmt.Fprintf(stderr, "\nwordish: %v again: %s\n", s, st.patient)
	default:
		fmt.Fprintf(stderr, "\nwordish: %v again, exiting without cleanup\n", s)
		os.Exit(exitInterrupted + int(s))
	}
}

// outputGone reports whether standard output or error is a pipe or
// socket without a reader.
func (st *stopper) outputGone() bool {
	for _, f := range st.outputs {
		if readerGone(f) {
			return true
		}
	}
	return false
}

// readerGone reports whether f is a pipe or socket whose reader is gone:
// poll says so with POLLERR or POLLHUP, at once.
func readerGone(f *os.File) bool {
	var fi unix.Stat_t
	if unix.Fstat(int(f.Fd()), &fi) != nil {
		return false
	}
	if m := fi.Mode & unix.S_IFMT; m != unix.S_IFIFO && m != unix.S_IFSOCK {
		return false
	}
	fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: 0}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0
}

// watchPipe notices when the reader of standard output goes away (say,
// `wordish run ... | head`), even while nothing is written: poll reports
// an error on a pipe or socket without a reader.
func (st *stopper) watchPipe(f *os.File) {
	var fi unix.Stat_t
	if unix.Fstat(int(f.Fd()), &fi) != nil {
		return
	}
	if m := fi.Mode & unix.S_IFMT; m != unix.S_IFIFO && m != unix.S_IFSOCK {
		return
	}
	for {
		fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: 0}}
		n, err := unix.Poll(fds, 500)
		select {
		case <-st.done:
			return
		default:
		}
		if err == nil && n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0 {
			st.sigs <- syscall.SIGPIPE
			return
		}
		if err != nil && err != unix.EINTR {
			return
		}
	}
}

// status is the exit status for the signal that stopped the replay, or
// 0 if none did.
func (st *stopper) status() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.first == 0 {
		return 0
	}
	return exitInterrupted + int(st.first)
}

func (st *stopper) stop() {
	signal.Stop(st.sigs)
	close(st.done)
}
