package session

import (
	"bytes"
	"os"
	"strconv"
)

// Bytes kept of each stream of a command: the first keepHead and the last
// keepTail; what is in between is counted in Result.Dropped.
const (
	keepHead = 4 << 20
	keepTail = 4 << 20
)

const (
	evData = iota
	evMark // end of a command: seq, status
	evEnd  // end of a batch: seq is the batch number
	evEOF
)

type event struct {
	stream int // 0 stdout, 1 stderr
	kind   int
	data   []byte
	seq    int
	status int
}

// markMax bounds the text between a marker's prefix and its closing byte.
const markMax = 32

// reader reads one terminal master and turns it into events: data, and
// the markers the shell writes after each command and each batch:
//
//	\x1e NONCE ':' SEQ ':' STATUS \x1e
//	\x1e NONCE ':' 'E' BATCH ':' STATUS \x1e
//
// NONCE is random per session and never stored in the shell (it is only
// in the sourced batch text, written as \036 escapes), so output cannot
// forge a marker. A possible marker cut at the end of a read is held back
// until the next read.
func (s *Session) reader(f *os.File, stream int) {
	defer s.readers.Done()
	prefix := []byte("\x1e" + s.nonce + ":")
	buf := make([]byte, 64<<10)
	var carry []byte
	send := func(ev event) bool {
		select {
		case s.events <- ev:
			return true
		case <-s.quit:
			return false
		}
	}
	for {
		n, err := f.Read(buf)
		if n > 0 {
			var data []byte
			if len(carry) > 0 {
				data = append(carry, buf[:n]...)
				carry = nil
			} else {
				data = append([]byte(nil), buf[:n]...)
			}
			for len(data) > 0 {
				i := bytes.Index(data, prefix)
				if i < 0 {
					k := partialPrefix(data, prefix)
					carry = append(carry, data[len(data)-k:]...)
					data = data[:len(data)-k]
					break
				}
				rest := data[i+len(prefix):]
				j := bytes.IndexByte(rest[:min(len(rest), markMax)], 0x1e)
				if j < 0 {
					if len(rest) < markMax {
						carry = append(carry, data[i:]...)
						data = data[:i]
						break
					}
					// Not a marker after all: pass the prefix as data.
					if !send(event{stream: stream, data: data[:i+len(prefix)]}) {
						return
					}
					data = rest
					continue
				}
				ev, ok := parseMark(rest[:j])
				if !ok {
					if !send(event{stream: stream, data: data[:i+len(prefix)]}) {
						return
					}
					data = rest
					continue
				}
				if i > 0 && !send(event{stream: stream, data: data[:i]}) {
					return
				}
				ev.stream = stream
				if !send(ev) {
					return
				}
				data = rest[j+1:]
			}
			if len(data) > 0 && !send(event{stream: stream, data: data}) {
				return
			}
		}
		if err != nil {
			if len(carry) > 0 && !send(event{stream: stream, data: carry}) {
				return
			}
			send(event{stream: stream, kind: evEOF})
			return
		}
	}
}

func parseMark(b []byte) (event, bool) {
	kind := evMark
	if len(b) > 1 && b[0] == 'E' {
		kind, b = evEnd, b[1:]
	}
	seq, st, ok := bytes.Cut(b, []byte{':'})
	if !ok {
		return event{}, false
	}
	n, err1 := strconv.Atoi(string(seq))
	m, err2 := strconv.Atoi(string(st))
	return event{kind: kind, seq: n, status: m}, err1 == nil && err2 == nil
}

// partialPrefix is the length of the longest suffix of data that is a
// proper prefix of p.
func partialPrefix(data, p []byte) int {
	for k := min(len(p)-1, len(data)); k > 0; k-- {
		if bytes.Equal(data[len(data)-k:], p[:k]) {
			return k
		}
	}
	return 0
}

// capBuf keeps the first keepHead and the last keepTail bytes written.
type capBuf struct {
	head  []byte
	tail  []byte // a ring once full
	pos   int    // oldest byte of the full ring
	full  bool
	total int64
}

func (c *capBuf) write(p []byte) {
	c.total += int64(len(p))
	if len(c.head) < keepHead {
		n := min(keepHead-len(c.head), len(p))
		c.head = append(c.head, p[:n]...)
		p = p[n:]
	}
	if len(p) == 0 {
		return
	}
	if !c.full {
		if c.tail == nil {
			c.tail = make([]byte, 0, keepTail)
		}
		n := min(keepTail-len(c.tail), len(p))
		c.tail = append(c.tail, p[:n]...)
		p = p[n:]
		if len(c.tail) < keepTail {
			return
		}
		c.full, c.pos = true, 0
	}
	if len(p) >= keepTail {
		copy(c.tail, p[len(p)-keepTail:])
		c.pos = 0
		return
	}
	for len(p) > 0 {
		n := copy(c.tail[c.pos:], p)
		c.pos = (c.pos + n) % keepTail
		p = p[n:]
	}
}

func (c *capBuf) bytes() []byte {
	if c.total == 0 {
		return nil
	}
	out := make([]byte, 0, len(c.head)+len(c.tail))
	out = append(out, c.head...)
	if c.full {
		out = append(out, c.tail[c.pos:]...)
		out = append(out, c.tail[:c.pos]...)
	} else {
		out = append(out, c.tail...)
	}
	return out
}

func (c *capBuf) dropped() int64 {
	return c.total - int64(len(c.head)) - int64(len(c.tail))
}
