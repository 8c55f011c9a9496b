package runner

import "strings"

// interleaveMax bounds the search of interleave (lines of one stream
// times lines of the other).
const interleaveMax = 1 << 20

// interleave looks for the order of the two streams' lines that gives the
// expected text, and returns that merged text ("" when there is none).
//
// Why: standard output and standard error are two terminals (so that
// either can be compared alone); each stream is exact, but their order
// in the session's transcript is only the order their bytes reached
// wordish, which within a burst written to both at once is wrong most of
// the time (issue 10: 26 of 30 runs). No reader of two terminals can know
// the order written, so an article showing the lines of both streams, each
// stream in its own order, is taken at its word for the order between
// them: it is what some terminal would have shown. The candidate is then
// judged by the matcher like any other.
func interleave(m *Matcher, expected, stdout, stderr string) string {
	exp := NormLines(expected)
	out, errs := streamLines(stdout), streamLines(stderr)
	if len(out) == 0 || len(errs) == 0 || len(exp) != len(out)+len(errs) ||
		(len(out)+1)*(len(errs)+1) > interleaveMax {
		return ""
	}
	for _, e := range exp {
		if strings.TrimSpace(e) == ellipsis {
			return "" // a wildcard line matches any number of lines
		}
	}
	eq := func(k int, act string) bool { return exp[k] == act || m.LineEqual(exp[k], act, k) }
	// ok[i][j]: the first i+j expected lines are the first i lines of
	// standard output and the first j of standard error, interleaved.
	w := len(errs) + 1
	ok := make([]bool, (len(out)+1)*w)
	ok[0] = true
	for i := 0; i <= len(out); i++ {
		for j := 0; j <= len(errs); j++ {
			if i == 0 && j == 0 {
				continue
			}
			k := i + j - 1
			ok[i*w+j] = i > 0 && ok[(i-1)*w+j] && eq(k, out[i-1]) ||
				j > 0 && ok[i*w+j-1] && eq(k, errs[j-1])
		}
	}
	if !ok[len(out)*w+len(errs)] {
		return ""
	}
	lines := make([]string, len(exp))
	for i, j := len(out), len(errs); i+j > 0; {
		k := i + j - 1
		if i > 0 && ok[(i-1)*w+j] && eq(k, out[i-1]) {
			lines[k], i = out[i-1], i-1
		} else {
			lines[k], j = errs[j-1], j-1
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// streamLines splits one stream's normalised text into lines, trailing
// blanks removed as the matcher does.
func streamLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return lines
}
