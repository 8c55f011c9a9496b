package session

import (
	"bytes"
	"cmp"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// readChan reads what the channel has. Only the shell's own messages
// count (the kernel names the writer of each); they must come in order,
// one per command, then the batch's end. Anything else means a command
// wrote to the channel: the batch stops, and the command is reported as
// errored, never passed.
func (b *batchRun) readChan() {
	s := b.s
	if s.chanBuf == nil {
		s.chanBuf = make([]byte, 64<<10)
		s.chanOOB = make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	}
	oob := s.chanOOB
	for {
		n, oobn, _, _, err := unix.Recvmsg(s.chanFd, s.chanBuf, oob, 0)
		if n <= 0 || err != nil {
			return
		}
		pid := 0
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if c, err := unix.ParseUnixCredentials(&m); err == nil {
					pid = int(c.Pid)
				}
			}
		}
		if pid != s.pid {
			b.tampered(-1, "a process other than the shell wrote to wordish's channel")
			continue
		}
		for data := s.chanBuf[:n]; len(data) > 0; {
			var line []byte
			line, data, _ = bytes.Cut(data, []byte{'\n'})
			b.chanLine(line)
		}
	}
}

// chanLine takes one message of the channel: SEQ:TOKEN:STATUS:TIME at the
// end of a command, EBATCH:TOKEN:STATUS at the end of a batch (setup).
func (b *batchRun) chanLine(line []byte) {
	end := len(line) > 0 && line[0] == 'E'
	if end {
		line = line[1:]
	}
	var f [4][]byte
	n := 0
	for ; n < len(f); n++ {
		var ok bool
		f[n], line, ok = bytes.Cut(line, []byte{':'})
		if !ok {
			n++
			break
		}
	}
	var m chanMsg
	var err1, err2 error
	if n >= 3 {
		m.seq, err1 = atoi(f[0])
		m.token = string(f[1])
		m.status, err2 = atoi(f[2])
		if n >= 4 {
			m.at = epochTime(f[3])
		}
	}
	switch {
	case n < 3 || err1 != nil || err2 != nil:
		b.tampered(-1, "unreadable message on wordish's channel")
	case end && m.seq == b.s.batch && b.endMsg == nil:
		b.endMsg = &m
		b.endStatus = m.status
		b.settleEnd()
	case !end && m.seq-b.base == len(b.ch) && len(b.ch) < len(b.cmds) && b.endMsg == nil:
		b.ch = append(b.ch, m)
		b.settle(len(b.ch) - 1)
	default:
		b.tampered(m.seq-b.base, "the command wrote wordish's end-of-command marker itself")
	}
}

// atoi is strconv.Atoi of a short decimal number, without the string.
func atoi(b []byte) (int, error) {
	if len(b) == 0 || len(b) > 18 {
		return strconv.Atoi(string(b))
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, strconv.ErrSyntax
		}
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// tampered stops the batch at the command that broke the protocol: i if
// not reported yet, else the one running.
func (b *batchRun) tampered(i int, why string) {
	if b.broken != "" {
		return
	}
	if i < b.reported || i >= len(b.cmds) {
		i = max(b.reported, min(len(b.ch), b.last))
	}
	b.broken = why
	if b.killing {
		// Already stopping: the command stopped is the one blamed.
		b.whyIdx, b.why = min(i, b.whyIdx), stopTampered
		b.last = min(b.last, b.whyIdx)
		return
	}
	b.stop(min(i, len(b.cmds)-1), stopTampered)
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
		if i == 0 && b.input != "" {
			b.lastOut = time.Now()
			b.outNL = ev.data[len(ev.data)-1] == '\n'
			if b.outNL {
				b.typeAt = b.lastOut.Add(typeQuiet)
			} else {
				b.typeAt = b.lastOut.Add(typePrompt)
			}
		}
	case evMark:
		i := ev.seq - b.base
		if i < 0 || i >= len(b.cmds) || i != b.cur[st] {
			b.handle(event{stream: st, kind: evData, data: ev.data})
			return
		}
		// Taken as the end of the command's output on this terminal; it
		// counts once the channel, which only the shell can write, gives
		// the same token for the command (settle).
		b.cur[st] = i + 1
		a := b.get(i)
		a.marks++
		a.tok[st], a.have[st] = ev.token, true
		if st == 0 {
			now := time.Now()
			a.done = now
			if i+1 < len(b.cmds) {
				b.get(i + 1).start = now
			}
		}
		b.settle(i)
	case evEnd:
		if ev.seq != b.s.batch || b.endSeen[st] {
			b.handle(event{stream: st, kind: evData, data: ev.data})
			return
		}
		b.endSeen[st] = true
		b.endTok[st] = ev.token
		b.settleEnd()
	}
}

// chanDue reports whether a marker waits for its channel message.
func (b *batchRun) chanDue() bool {
	n := len(b.ch)
	return b.cur[0] > n || b.cur[1] > n || (b.endSeen[0] || b.endSeen[1]) && b.endMsg == nil
}

// settle checks command i's markers against its channel message, once
// both are in, and takes its status from the channel.
func (b *batchRun) settle(i int) {
	if i >= len(b.ch) || i >= len(b.acc) {
		return
	}
	a, m := b.acc[i], b.ch[i]
	for st := range 2 {
		if a.have[st] && a.tok[st] != m.token {
			b.tampered(i, "the command wrote wordish's end-of-command marker itself")
			return
		}
	}
	if a.settled || a.marks < 2 {
		return
	}
	a.settled = true
	a.status, a.ended = m.status, m.at
	if i+1 < len(b.cmds) {
		b.get(i + 1).began = m.at
	}
	if !b.cmds[i].Expected(m.status) && i < b.last {
		b.last = i
	}
	b.report()
}

func (b *batchRun) settleEnd() {
	if b.endMsg == nil {
		return
	}
	for st := range 2 {
		if b.endSeen[st] && b.endTok[st] != b.endMsg.token {
			b.tampered(-1, "a command wrote wordish's end-of-batch marker itself")
		}
	}
}

// report delivers the results known so far; the last command waits for
// the end of the batch, so that all its output is in. A second channel
// message for a command already reported (written by the command itself,
// before the shell's own) makes the command then running errored: the
// document cannot pass.
func (b *batchRun) report() {
	for b.reported < b.last && b.reported < len(b.acc) && b.acc[b.reported].settled {
		b.deliver(b.reported, false)
	}
}

func (b *batchRun) deliver(i int, exited bool) {
	a := b.get(i)
	r := Result{
		Merged:     b.s.merged(b.cmds[i]),
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
		r.TimedOut = b.why == stopTimeout
		r.Interrupted = b.why == stopInterrupt
		if b.why == stopTampered {
			r.Tampered = b.broken
		}
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
	if dead {
		b.readChan()
	}
	b.report()
	for b.reported <= b.last {
		i := b.reported
		a := b.get(i)
		if a.settled || !dead && a.marks >= 1 && i < len(b.ch) {
			if !a.settled {
				// One terminal's marker lost (its output redirected away):
				// the channel's status stands.
				a.status, a.ended = b.ch[i].status, b.ch[i].at
			}
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
		ready := s.poll(d, false, true)
		if ready == 0 {
			return
		}
		if ready&pollChan != 0 {
			b.readChan()
		}
		for st := range 2 {
			if ready&(1<<st) != 0 {
				s.readStream(st, b.handle)
			}
		}
	}
}
