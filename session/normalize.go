package session

import (
	"strings"
	"unicode/utf8"
)

// Normalize turns raw terminal output into the text used for matching, as
// a terminal would show it, without its width: lines never wrap.
//   - LF (with or without CR) goes to the start of the next line; a lone
//     CR to the start of the line, so what follows overwrites (a progress
//     bar or a spinner ends as its final state); a backspace moves one
//     column back; a TAB moves to the next 8-column stop, leaving blanks
//     (or what was there) behind;
//   - ANSI/VT escape sequences (CSI, OSC, DCS and the like, and two-byte
//     escapes) are removed; of them, those that move the cursor (CSI A, B,
//     C, D, E, F, G, H) or erase (CSI K, J) are applied, so that output
//     redrawing several lines (docker pull, apt) ends as its final state
//     too; rows count from the first line of the output, moves stay
//     within 80 columns and 24 rows (or the lines there are);
//   - NUL and BEL are dropped, other control characters are kept;
//   - invalid UTF-8 becomes U+FFFD, one per invalid byte.
//
// Each rune counts as one column.
func Normalize(raw []byte) string {
	var sc screen
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\n':
			sc.newline()
			i++
		case c == '\r':
			sc.col = 0
			i++
		case c == '\t':
			// A terminal moves to the next 8-column stop, over what is
			// there, so a reader sees blanks: ls columns, TSV.
			sc.col = (sc.col/8 + 1) * 8
			i++
		case c == '\b':
			if sc.col > 0 {
				sc.col--
			}
			i++
		case c == 0 || c == 7:
			i++
		case c == 0x1b:
			i = sc.escape(raw, i)
		case c < utf8.RuneSelf:
			sc.put(rune(c))
			i++
		default:
			r, n := utf8.DecodeRune(raw[i:])
			i += n
			if r >= 0x80 && r < 0xa0 {
				continue // C1 controls: ignored as a UTF-8 terminal does
			}
			sc.put(r)
		}
	}
	return sc.String()
}

// screen is a terminal without width limit. The cursor's line is edited
// in cur; the others are kept as strings.
type screen struct {
	lines    []string
	cur      []rune
	row, col int
}

// move makes row the cursor's line.
func (sc *screen) move(row int) {
	if row == sc.row {
		return
	}
	sc.store()
	sc.row = row
	for len(sc.lines) <= row {
		sc.lines = append(sc.lines, "")
	}
	sc.cur = append(sc.cur[:0], []rune(sc.lines[row])...)
}

func (sc *screen) store() {
	for len(sc.lines) <= sc.row {
		sc.lines = append(sc.lines, "")
	}
	sc.lines[sc.row] = string(sc.cur)
}

func (sc *screen) newline() {
	sc.store()
	sc.row++
	sc.col = 0
	if sc.row < len(sc.lines) {
		sc.cur = append(sc.cur[:0], []rune(sc.lines[sc.row])...)
	} else {
		sc.cur = sc.cur[:0]
	}
}

func (sc *screen) put(r rune) {
	for len(sc.cur) < sc.col {
		sc.cur = append(sc.cur, ' ')
	}
	if sc.col < len(sc.cur) {
		sc.cur[sc.col] = r
	} else {
		sc.cur = append(sc.cur, r)
	}
	sc.col++
}

// down moves n lines down, not below the last line or the screen's
// height.
func (sc *screen) down(n int) {
	sc.move(min(sc.row+n, max(len(sc.lines)-1, sc.row, termRows-1)))
}

func (sc *screen) String() string {
	sc.store()
	n := 0
	for _, l := range sc.lines {
		n += len(l) + 1
	}
	var out strings.Builder
	out.Grow(n)
	for i, l := range sc.lines {
		if i > 0 {
			out.WriteByte('\n')
		}
		out.WriteString(l)
	}
	return out.String()
}

// escape skips the escape sequence at raw[i] (an ESC), applies those
// that move the cursor or erase, and returns the index after it.
func (sc *screen) escape(raw []byte, i int) int {
	i++
	if i >= len(raw) {
		return i
	}
	switch raw[i] {
	case '[': // CSI: parameters, intermediates, final byte
		i++
		start := i
		for i < len(raw) && raw[i] >= 0x30 && raw[i] <= 0x3f {
			i++
		}
		params := string(raw[start:i])
		for i < len(raw) && raw[i] >= 0x20 && raw[i] <= 0x2f {
			i++
		}
		if i >= len(raw) {
			return i
		}
		final := raw[i]
		if final < 0x40 || final > 0x7e {
			return i // malformed: drop what was seen
		}
		sc.csi(final, params)
		return i + 1
	case ']', 'P', 'X', '^', '_': // OSC, DCS, SOS, PM, APC: up to ST or BEL
		i++
		for i < len(raw) {
			if raw[i] == 7 {
				return i + 1
			}
			if raw[i] == 0x1b && i+1 < len(raw) && raw[i+1] == '\\' {
				return i + 2
			}
			i++
		}
		return i
	default:
		// Two bytes, or more with intermediates (ESC ( B).
		for i < len(raw) && raw[i] >= 0x20 && raw[i] <= 0x2f {
			i++
		}
		if i < len(raw) {
			i++
		}
		return i
	}
}

// Cursor moves stay within the session's terminal size (or the lines
// there are), so that no sequence can make a huge screen.
const (
	termRows = 24
	termCols = 80
	maxParam = 1 << 16
)

func (sc *screen) csi(final byte, params string) {
	if strings.ContainsAny(params, "?<=>") {
		return // private modes
	}
	var p [2]int
	for k, f := range strings.SplitN(params, ";", 3) {
		if k > 1 {
			break
		}
		for _, c := range f {
			if c >= '0' && c <= '9' && p[k] < maxParam {
				p[k] = p[k]*10 + int(c-'0')
			}
		}
	}
	n := max(p[0], 1)
	switch final {
	case 'A': // up
		sc.move(max(sc.row-n, 0))
	case 'B': // down
		sc.down(n)
	case 'C': // forward
		sc.col = min(sc.col+n, max(sc.col, termCols-1))
	case 'D': // back
		sc.col = max(sc.col-n, 0)
	case 'E': // next line
		sc.down(n)
		sc.col = 0
	case 'F': // previous line
		sc.move(max(sc.row-n, 0))
		sc.col = 0
	case 'G': // column
		sc.col = min(n-1, termCols-1)
	case 'H', 'f': // position, from the first line of the output
		sc.move(min(n-1, max(len(sc.lines)-1, sc.row, termRows-1)))
		sc.col = min(max(p[1], 1)-1, termCols-1)
	case 'K': // erase in line
		switch p[0] {
		case 0:
			if sc.col < len(sc.cur) {
				sc.cur = sc.cur[:sc.col]
			}
		case 1:
			for j := 0; j <= sc.col && j < len(sc.cur); j++ {
				sc.cur[j] = ' '
			}
		case 2:
			sc.cur = sc.cur[:0]
		}
	case 'J': // erase in display
		sc.store()
		switch p[0] {
		case 0:
			if sc.col < len(sc.cur) {
				sc.cur = sc.cur[:sc.col]
			}
			sc.lines = sc.lines[:sc.row+1]
		case 1:
			for j := range sc.row {
				sc.lines[j] = ""
			}
			for j := 0; j <= sc.col && j < len(sc.cur); j++ {
				sc.cur[j] = ' '
			}
		case 2, 3:
			for j := range sc.lines {
				sc.lines[j] = ""
			}
			sc.cur = sc.cur[:0]
		}
	}
}
