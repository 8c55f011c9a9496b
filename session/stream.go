package session

import (
	"bytes"
	"regexp"
	"strconv"
	"time"
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
)

type event struct {
	stream int // 0 stdout, 1 stderr
	kind   int
	data   []byte // evData: the bytes; evMark, evEnd: the marker as it came
	seq    int
	token  string
}

// markMax bounds the text between a marker's prefix and its closing byte;
// wrapMax bounds the text of bash's error message around a marker.
const (
	markMax = 48
	wrapMax = 400
)

// The terminals carry, besides the commands' output, the markers the
// shell writes after each command and each batch:
//
//	\x1e 'W' SEQ ':' TOKEN \x1e
//	\x1e 'W' 'E' BATCH ':' TOKEN \x1e
//
// A marker only says where a command's output ends on that terminal; it
// counts only if the channel, which only the shell can write, gives the
// same token for the same command (Session.script, batchRun.handle):
// anything else is output. On standard error, a marker may come wrapped
// in bash's error message, a line that starts with the setup script's
// name: the whole line is the marker. A possible marker cut at the end
// of a read is held back until the next read.
type markerScanner struct {
	mark    []byte // markPrefix
	wrap    []byte // start of bash's error message line, or nil
	rewrite *regexp.Regexp
	key     []byte // rewrite applies to data containing key
	as      []byte // what rewrite's matches become
	trace   *regexp.Regexp
}

// scan emits data and marker events for data and returns the part to hold
// back (a marker possibly cut short), which aliases data.
func (sc *markerScanner) scan(data []byte, emit func(event) bool) []byte {
	out := func(b []byte) {
		if len(b) == 0 {
			return
		}
		if sc.rewrite != nil && bytes.Contains(b, sc.key) {
			b = sc.rewrite.ReplaceAll(b, sc.as)
		}
		if sc.trace != nil && bytes.IndexByte(b, '+') >= 0 {
			// Traces as from a shell at a prompt: one level less (the
			// batch is sourced), without the sourcing itself.
			b = sc.trace.ReplaceAll(b, []byte("$1"))
		}
		emit(event{data: b})
	}
	for len(data) > 0 {
		j := bytes.Index(data, sc.mark)
		if j < 0 {
			k := len(data) - partialPrefix(data, sc.mark)
			if h := sc.wrapHold(data[:k]); h < k {
				k = h
			}
			out(data[:k])
			return data[k:]
		}
		rest := data[j+len(sc.mark):]
		e := bytes.IndexByte(rest[:min(len(rest), markMax)], 0x1e)
		var ev event
		ok := e >= 0
		if ok {
			ev, ok = parseMark(rest[:e])
		}
		if !ok {
			if e < 0 && len(rest) < markMax { // cut short
				k := j
				if w := sc.wrapStart(data[:j]); w >= 0 {
					k = w
				}
				out(data[:k])
				return data[k:]
			}
			// Not a marker after all.
			out(data[:j+len(sc.mark)])
			data = rest
			continue
		}
		start, end := j, j+len(sc.mark)+e+1
		if w := sc.wrapStart(data[:j]); w >= 0 {
			nl := bytes.IndexByte(data[end:], '\n')
			switch {
			case nl >= 0:
				start, end = w, end+nl+1
			case len(data)-w < wrapMax: // the end of the line is to come
				out(data[:w])
				return data[w:]
			}
		}
		out(data[:start])
		ev.data = data[start:end]
		emit(ev)
		data = data[end:]
	}
	return nil
}

// wrapStart is where the error message line that ends b starts, or -1.
func (sc *markerScanner) wrapStart(b []byte) int {
	if sc.wrap == nil {
		return -1
	}
	from := max(0, len(b)-wrapMax)
	w := bytes.LastIndex(b[from:], sc.wrap)
	if w < 0 || bytes.IndexByte(b[from+w:], '\n') >= 0 {
		return -1
	}
	return from + w
}

// wrapHold is where to hold b back from because an error message line
// carrying a marker may be starting there, or len(b).
func (sc *markerScanner) wrapHold(b []byte) int {
	if sc.wrap == nil {
		return len(b)
	}
	if w := sc.wrapStart(b); w >= 0 {
		return w
	}
	return len(b) - partialPrefix(b, sc.wrap)
}

func parseMark(b []byte) (event, bool) {
	kind := evMark
	if len(b) > 1 && b[0] == 'E' {
		kind, b = evEnd, b[1:]
	}
	seq, tok, ok := bytes.Cut(b, []byte{':'})
	if !ok {
		return event{}, false
	}
	n, err := strconv.Atoi(string(seq))
	for _, c := range tok {
		if c < '0' || c > '9' {
			return event{}, false
		}
	}
	return event{kind: kind, seq: n, token: string(tok)}, err == nil
}

// epochTime reads bash's $EPOCHREALTIME (seconds, a decimal point or
// comma, microseconds); anything else (another shell: empty) gives zero.
func epochTime(b []byte) time.Time {
	i := bytes.IndexAny(b, ".,")
	if i < 0 {
		return time.Time{}
	}
	sec, err1 := strconv.ParseInt(string(b[:i]), 10, 64)
	us, err2 := strconv.ParseInt(string(b[i+1:]), 10, 64)
	if err1 != nil || err2 != nil || len(b)-i-1 != 6 {
		return time.Time{}
	}
	return time.Unix(sec, us*1000)
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
