package session

import (
	"strings"
	"unicode/utf8"
)

// Normalize turns raw terminal output into the text used for matching, as
// a terminal would show it line by line:
//   - CRLF and lone LF end a line; a lone CR moves back to the start of the
//     line, so what follows overwrites (a progress bar or a spinner ends
//     as its final state); a backspace moves one column back;
//   - ANSI/VT escape sequences (CSI, OSC, DCS and the like, and two-byte
//     escapes) are removed; of them, erase in line (CSI K) and the
//     horizontal cursor moves (CSI C, D, G) are applied to the line;
//   - NUL and BEL are dropped, other control characters (TAB) are kept;
//   - invalid UTF-8 becomes U+FFFD, one per invalid byte.
//
// Each rune counts as one column; lines are never wrapped.
func Normalize(raw []byte) string {
	var out strings.Builder
	out.Grow(len(raw))
	var line []rune
	col := 0
	put := func(r rune) {
		for len(line) < col {
			line = append(line, ' ')
		}
		if col < len(line) {
			line[col] = r
		} else {
			line = append(line, r)
		}
		col++
	}
	flush := func() {
		out.WriteString(string(line))
		line = line[:0]
		col = 0
	}
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\n':
			flush()
			out.WriteByte('\n')
			i++
		case c == '\r':
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
				continue
			}
			col = 0
			i++
		case c == '\b':
			if col > 0 {
				col--
			}
			i++
		case c == 0 || c == 7:
			i++
		case c == 0x1b:
			i = escape(raw, i, &line, &col)
		case c < utf8.RuneSelf:
			put(rune(c))
			i++
		default:
			r, n := utf8.DecodeRune(raw[i:])
			if r == 0x9b || (r >= 0x80 && r < 0xa0) {
				// C1 controls: ignored as a UTF-8 terminal does.
				i += n
				continue
			}
			put(r)
			i += n
		}
	}
	flush()
	return out.String()
}

// escape skips the escape sequence at raw[i] (an ESC), applies the few
// that change the current line, and returns the index after it.
func escape(raw []byte, i int, line *[]rune, col *int) int {
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
		i++
		if final < 0x40 || final > 0x7e {
			return i - 1 // malformed: drop what was seen
		}
		csi(final, params, line, col)
		return i
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

func csi(final byte, params string, line *[]rune, col *int) {
	if strings.ContainsAny(params, "?<=>") {
		return // private modes
	}
	n := 0
	first, _, _ := strings.Cut(params, ";")
	for _, c := range first {
		if c >= '0' && c <= '9' && n < maxMove {
			n = n*10 + int(c-'0')
		}
	}
	switch final {
	case 'K':
		switch n {
		case 0:
			if *col < len(*line) {
				*line = (*line)[:*col]
			}
		case 1:
			for j := 0; j <= *col && j < len(*line); j++ {
				(*line)[j] = ' '
			}
		case 2:
			*line = (*line)[:0]
		}
	case 'C':
		*col = min(*col+max(n, 1), max(*col, maxMove))
	case 'D':
		*col = max(*col-max(n, 1), 0)
	case 'G':
		*col = min(max(n, 1)-1, maxMove)
	}
}

// maxMove bounds cursor moves, so that a sequence cannot make a huge line.
const maxMove = 4096
