package session

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

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
	why       stopReason
	whyIdx    int    // the command stopped
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

// stopReason is why the Go side stopped a batch.
type stopReason int

const (
	stopNone stopReason = iota
	stopTimeout
	stopInterrupt
	stopTampered
)

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
				b.stop(min(b.cur[0], b.last), stopInterrupt)
			}
		}
		if ready&pollChan != 0 {
			b.readChan()
		}
		got := 0
		for st := range 2 {
			if ready&(1<<st) != 0 {
				got += s.readStream(st, b.handle)
			}
		}
		if b.chanDue() {
			b.readChan()
		}
		if i := b.cur[0]; i <= b.last && !b.killing {
			b.timerAt = b.get(i).start.Add(b.timeout(i))
		}
		if ready != 0 && got < coalesceBytes {
			b.coalesce(at)
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

// Coalescing wake-ups. bash writes a command's output, its two markers
// and its channel message microseconds apart, and a wake-up of wordish
// for each costs more (two context switches) than bash's whole step.
// After a wake-up that read little, the loop waits a moment before it
// polls again, so that the next wake-up finds several writes at once.
const (
	coalesceMax   = time.Millisecond
	coalesceBytes = 2 << 10
)

// coalesce waits before the next poll: at most coalesceMax and an eighth
// of the batch's time so far (a short batch is not slowed), never past the
// next timer (at). It does not wait while the last command runs (its end
// is the batch's, awaited by the caller), while input is typed or the
// batch is being stopped. Only when wordish reads changes: each stream's
// bytes and markers keep their order; the order between the two streams
// in Transcript is not the order written anyway (doc.go).
func (b *batchRun) coalesce(at time.Time) {
	if b.killing || b.stopped || b.input != "" || !b.typed && !b.typeAt.IsZero() ||
		b.cur[0] >= b.last || b.cur[1] >= b.last {
		return
	}
	now := time.Now()
	d := min(coalesceMax, now.Sub(b.start)/8, at.Sub(now))
	if d <= 0 {
		return
	}
	ts := unix.NsecToTimespec(int64(d))
	unix.Nanosleep(&ts, nil)
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
		b.stop(i, stopTimeout)
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
func (b *batchRun) stop(i int, why stopReason) {
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
