// Package tabs expands tabs to blanks, the one rule both the reader of
// articles (reST indentation) and the judge of outputs (a terminal's
// view) need.
package tabs

import "strings"

// Expand replaces each tab with blanks up to the next 8-column stop,
// counting columns in runes from the start of each line.
func Expand(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var sb strings.Builder
	col := 0
	for _, r := range s {
		switch r {
		case '\t':
			n := 8 - col%8
			sb.WriteString("        "[:n])
			col += n
		case '\n':
			sb.WriteRune(r)
			col = 0
		default:
			sb.WriteRune(r)
			col++
		}
	}
	return sb.String()
}
