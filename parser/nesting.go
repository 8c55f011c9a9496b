package parser

import "bytes"

// maxNesting bounds how deeply Markdown lists and block quotes may nest.
// goldmark looks at every open container on every line, from the start
// of the line each time, so a line costs it its depth times its length:
// 200 KB of "- " took 48 s. Real articles nest a handful of levels;
// x/net/html, which reads the HTML articles, stops at 512 open elements.
const maxNesting = 100

// tooDeep returns the 1-based number of the first line of a Markdown
// body on which lists and block quotes may nest deeper than maxNesting
// levels, 0 if none does. It overestimates rather than misses and runs
// in linear time: per line, it counts the ">" and list markers that open
// it, and it keeps the content columns of the list items that lines
// indented under them nest in. It counts in code blocks too (a code line
// that starts with 101 ">" is refused): telling where a fence really is
// takes all of CommonMark (HTML blocks hide fences), and a wrong guess
// would let a crafted article through.
func tooDeep(body []byte) int {
	var items []int // content columns of the open list items, increasing
	for num := 1; len(body) > 0; num++ {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		quotes, first := 0, true
		var hr []bool
		col := 0
		for i := 0; i < len(line); {
			switch c := line[i]; {
			case c == ' ':
				i, col = i+1, col+1
				continue
			case c == '\t':
				i, col = i+1, col+4-col%4
				continue
			case c == '>':
				if quotes++; quotes+len(items) > maxNesting {
					return num
				}
				i, col = i+1, col+1
				continue
			}
			n := listMarker(line[i:])
			if n > 0 && hr == nil {
				hr = breakSuffixes(line)
			}
			if n == 0 || hr[i] {
				break // text, or a thematic break ("* * *"), not a list item
			}
			if first {
				// A marker left of an item's content closes that item.
				for len(items) > 0 && items[len(items)-1] > col {
					items = items[:len(items)-1]
				}
				first = false
			}
			items = append(items, col+n+1)
			i, col = i+n, col+n
			if quotes+len(items) > maxNesting {
				return num
			}
		}
		if quotes+len(items) > maxNesting {
			return num
		}
	}
	return 0
}

// listMarker returns the length of the list marker that starts s ("-",
// "+", "*", or up to 9 digits and "." or ")") when a blank or the end of
// the line follows it, else 0.
func listMarker(s []byte) int {
	n := 0
	switch {
	case s[0] == '-' || s[0] == '+' || s[0] == '*':
		n = 1
	default:
		for n < len(s) && n < 9 && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n == 0 || n == len(s) || s[n] != '.' && s[n] != ')' {
			return 0
		}
		n++
	}
	if n < len(s) && s[n] != ' ' && s[n] != '\t' {
		return 0
	}
	return n
}

// breakSuffixes reports for each offset of line whether the line from
// there on is a thematic break: three or more of one of "-", "*" or "_"
// and blanks only. One pass from the end, so that asking at every marker
// of a line stays linear.
func breakSuffixes(line []byte) []bool {
	hr := make([]bool, len(line))
	var mark byte
	count := 0
	for i := len(line) - 1; i >= 0; i-- {
		switch c := line[i]; {
		case c == ' ' || c == '\t':
		case (c == '-' || c == '*' || c == '_') && (mark == 0 || mark == c):
			mark = c
			count++
		default:
			return hr
		}
		hr[i] = count >= 3
	}
	return hr
}
