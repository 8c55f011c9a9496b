package runner

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A hand-written line diff: go-cmp's cmp.Diff prints Go values, not a
// unified diff, and the standard library has none. Myers' O(ND)
// algorithm (greedy forward search, trace kept for the backtrack) after
// trimming the common head and tail; the line equality is supplied by the
// caller so that lines a wildcard or a regexp accepts count as equal.
// Past maxEdits differences the middle is shown as one replaced block:
// such a diff is unreadable anyway, and the trace would cost O(D²) memory.

const (
	diffContext = 3
	maxEdits    = 2000
)

type editOp struct {
	kind byte // ' ', '-', '+'; with wildcard lines also '.' and 'w'
	a, b int  // line index in expected (for ' ', '-', '.') and actual (' ', '+', 'w')
}

// Op kinds of a diff with wildcard lines: '.' is the "..." line itself,
// shown as context and counted on the expected side; 'w' is an actual
// line the wildcard absorbed, counted on the actual side and shown behind
// "~" (neither expected nor unexpected: matched by the "..." above it).
const (
	opWildLine = '.'
	opAbsorbed = 'w'
)

// maxWildCells bounds the alignment table of wildDiff (n*m cells).
const maxWildCells = 1 << 21

// wildDiff aligns expected lines, some of which (wild) match any number
// of actual lines, with actual lines, by dynamic programming over the
// n*m table: the cheapest script in inserted and deleted lines where a
// wild line costs nothing whatever it absorbs. It returns nil when the
// table would be too large.
func wildDiff(n, m int, eq func(i, j int) bool, wild func(i int) bool) []editOp {
	if (n+1)*(m+1) > maxWildCells {
		return nil
	}
	w := m + 1
	cost := make([]int32, (n+1)*w)
	for i := n; i >= 0; i-- {
		for j := m; j >= 0; j-- {
			var c int32
			switch {
			case i == n:
				c = int32(m - j)
			case wild(i):
				c = cost[(i+1)*w+j]
				if j < m && cost[i*w+j+1] < c {
					c = cost[i*w+j+1]
				}
			default:
				c = 1 + cost[(i+1)*w+j]
				if j < m {
					c = min(c, 1+cost[i*w+j+1])
					if eq(i, j) {
						c = min(c, cost[(i+1)*w+j+1])
					}
				}
			}
			cost[i*w+j] = c
		}
	}
	var ops []editOp
	i, j := 0, 0
	shown := -1 // the wild line last shown
	for i < n || j < m {
		c := cost[i*w+j]
		switch {
		case i == n:
			ops = append(ops, editOp{'+', i, j})
			j++
		case wild(i):
			if shown != i {
				ops = append(ops, editOp{opWildLine, i, j})
				shown = i
			}
			// Leave the wildcard as soon as that costs nothing more, so
			// it absorbs as little as it can.
			if cost[(i+1)*w+j] == c || j == m {
				i++
			} else {
				ops = append(ops, editOp{opAbsorbed, i, j})
				j++
			}
		case j < m && eq(i, j) && cost[(i+1)*w+j+1] == c:
			ops = append(ops, editOp{' ', i, j})
			i++
			j++
		case cost[(i+1)*w+j]+1 == c:
			ops = append(ops, editOp{'-', i, j})
			i++
		default:
			ops = append(ops, editOp{'+', i, j})
			j++
		}
	}
	return ops
}

// lineDiff returns the edit script turning a (n lines) into b (m lines).
func lineDiff(n, m int, eq func(i, j int) bool) []editOp {
	var ops []editOp
	head := 0
	for head < n && head < m && eq(head, head) {
		ops = append(ops, editOp{' ', head, head})
		head++
	}
	tail := 0
	for tail < n-head && tail < m-head && eq(n-1-tail, m-1-tail) {
		tail++
	}
	ops = append(ops, myers(head, n-tail, head, m-tail, eq)...)
	for k := tail; k > 0; k-- {
		ops = append(ops, editOp{' ', n - k, m - k})
	}
	return ops
}

// myers diffs a[a0:a1] against b[b0:b1].
func myers(a0, a1, b0, b1 int, eq func(i, j int) bool) []editOp {
	n, m := a1-a0, b1-b0
	replace := func() []editOp {
		ops := make([]editOp, 0, n+m)
		for i := 0; i < n; i++ {
			ops = append(ops, editOp{'-', a0 + i, b0})
		}
		for j := 0; j < m; j++ {
			ops = append(ops, editOp{'+', a1, b0 + j})
		}
		return ops
	}
	if n == 0 || m == 0 {
		return replace()
	}
	max := n + m
	if max > maxEdits {
		max = maxEdits
	}
	off := max + 1
	v := make([]int, 2*max+3)
	var trace [][]int
	found := -1
	for d := 0; d <= max && found < 0; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1] // down: insertion
			} else {
				x = v[off+k-1] + 1 // right: deletion
			}
			y := x - k
			for x < n && y < m && eq(a0+x, b0+y) {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				found = d
				break
			}
		}
	}
	if found < 0 {
		return replace()
	}
	// Backtrack from (n, m) through the saved V arrays.
	var rev []editOp
	x, y := n, m
	for d := found; d > 0; d-- {
		pv := trace[d]
		k := x - y
		var pk int
		if k == -d || (k != d && pv[off+k-1] < pv[off+k+1]) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := pv[off+pk]
		py := px - pk
		for x > px && y > py { // the snake after the move
			x--
			y--
			rev = append(rev, editOp{' ', a0 + x, b0 + y})
		}
		if pk == k+1 {
			rev = append(rev, editOp{'+', a0 + px, b0 + py})
		} else {
			rev = append(rev, editOp{'-', a0 + px, b0 + py})
		}
		x, y = px, py
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, editOp{' ', a0 + x, b0 + y})
	}
	ops := make([]editOp, len(rev))
	for i, op := range rev {
		ops[len(rev)-1-i] = op
	}
	return ops
}

// UnifiedDiff returns a unified diff (3 lines of context) of expected
// against actual, with invisible characters made visible (see Visible),
// or "" when eq finds them equal. eq(i, j) says whether expected line i
// matches actual line j; nil means string equality.
func UnifiedDiff(expected, actual []string, eq func(i, j int) bool) string {
	return unifiedDiffWild(expected, actual, eq, nil)
}

// unifiedDiffWild is UnifiedDiff where the expected lines for which wild
// is true match any number of actual lines (a "..." line): they show as
// context, and the actual lines they absorb follow them behind "~".
func unifiedDiffWild(expected, actual []string, eq func(i, j int) bool, wild func(i int) bool) string {
	if eq == nil {
		eq = func(i, j int) bool { return expected[i] == actual[j] }
	}
	var ops []editOp
	if wild != nil {
		ops = wildDiff(len(expected), len(actual), eq, wild)
	}
	if ops == nil {
		ops = lineDiff(len(expected), len(actual), eq)
	}
	changed := false
	for _, op := range ops {
		if op.kind == '-' || op.kind == '+' {
			changed = true
			break
		}
	}
	if !changed {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("--- expected\n+++ actual\n")
	for i := 0; i < len(ops); {
		// Find the next change, then extend the hunk while changes are
		// within 2*context lines of each other.
		for i < len(ops) && !isChange(ops[i]) {
			i++
		}
		if i == len(ops) {
			break
		}
		start := max(i-diffContext, 0)
		end := i
		for j := i; j < len(ops); j++ {
			if isChange(ops[j]) {
				end = j + 1
			} else if j-end >= 2*diffContext {
				break
			}
		}
		stop := min(end+diffContext, len(ops))
		writeHunk(&sb, ops[start:stop], expected, actual)
		i = stop
	}
	return sb.String()
}

func isChange(op editOp) bool { return op.kind == '-' || op.kind == '+' }

func writeHunk(sb *strings.Builder, ops []editOp, expected, actual []string) {
	aStart, bStart, aLen, bLen := -1, -1, 0, 0
	for _, op := range ops {
		if op.kind != '+' && op.kind != opAbsorbed {
			if aStart < 0 {
				aStart = op.a
			}
			aLen++
		}
		if op.kind != '-' && op.kind != opWildLine {
			if bStart < 0 {
				bStart = op.b
			}
			bLen++
		}
	}
	if aStart < 0 {
		aStart = ops[0].a
	}
	if bStart < 0 {
		bStart = ops[0].b
	}
	fmt.Fprintf(sb, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
	for _, op := range ops {
		switch op.kind {
		case opAbsorbed:
			sb.WriteByte('~')
		case opWildLine:
			sb.WriteByte(' ')
		default:
			sb.WriteByte(op.kind)
		}
		switch op.kind {
		case '+', opAbsorbed:
			sb.WriteString(Visible(actual[op.b]))
		default:
			sb.WriteString(Visible(expected[op.a]))
		}
		sb.WriteByte('\n')
	}
}

// hunkRange prints a range as GNU diff does: "3" for one line at line 3,
// "3,4" otherwise, "2,0" for an empty range after line 2.
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// Visible makes the characters a reader cannot see in a diff visible:
//
//	TAB                         →
//	carriage return             ␍
//	trailing space              ·   (spaces inside a line are left alone)
//	other control bytes, DEL    \xNN  (NUL is \x00)
//	bytes that are not UTF-8    \xNN
//	other non-printable runes   \u{NNNN}  (no-break space, zero-width space, BOM, ...)
//
// A line that already contains these glyphs or a backslash is printed as
// it is, so the scheme is readable, not reversible.
func Visible(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean && !strings.HasSuffix(s, " ") {
		return s
	}
	body := strings.TrimRight(s, " ")
	trailing := len(s) - len(body)
	var sb strings.Builder
	for i := 0; i < len(body); {
		c := body[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\t':
				sb.WriteString("→")
			case c == '\r':
				sb.WriteString("␍")
			case c < 0x20 || c == 0x7f:
				fmt.Fprintf(&sb, `\x%02x`, c)
			default:
				sb.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(body[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&sb, `\x%02x`, c)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&sb, `\u{%04x}`, r)
		default:
			sb.WriteString(body[i : i+size])
		}
		i += size
	}
	sb.WriteString(strings.Repeat("·", trailing))
	return sb.String()
}
