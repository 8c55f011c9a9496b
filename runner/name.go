package runner

import (
	"strconv"
	"strings"

	"github.com/wordish-go/wordish/parser"
)

// slugMax bounds the slug part of a step name, so test names stay readable
// in `go test -v` output and in JUnit viewers.
const slugMax = 30

// StepName is the name under which a step appears as a subtest (in
// `wordish run --json`, JUnit reports and wordishtest.Test): "L" and the line
// of its prompt, then "_" and a short slug of its command, e.g.
// "L90_pvcreate_dev_loop1". The line alone makes the name unique within a
// document; the slug is only there for the human reader. Names contain
// only [A-Za-z0-9_], so they survive `go test -run` patterns and the
// renaming testing.T.Run applies to spaces and slashes.
func StepName(s *parser.Step) string {
	name := "L" + strconv.Itoa(s.Line)
	if slug := slugOf(s.Command); slug != "" {
		name += "_" + slug
	}
	return name
}

// slugOf reduces a command to lowercase ASCII letters and digits, with every
// run of other characters turned into one "_", trimmed of "_" at both ends
// and cut at a word boundary to at most slugMax characters. Only the first
// line of a multi-line command counts, and a trailing "# wordish: ..."
// directive is left out: it says nothing about what the step does.
func slugOf(command string) string {
	line, _, _ := strings.Cut(command, "\n")
	if i := strings.Index(line, "# wordish:"); i >= 0 {
		line = line[:i]
	}
	var b strings.Builder
	sep := false
	for _, r := range line {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		default:
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('_')
		}
		sep = false
		b.WriteRune(r)
	}
	slug := b.String()
	if len(slug) <= slugMax {
		return slug
	}
	// Cut at the last word boundary that keeps the slug within bounds; a
	// single word longer than the bound is cut hard.
	if i := strings.LastIndexByte(slug[:slugMax+1], '_'); i > 0 {
		return slug[:i]
	}
	return slug[:slugMax]
}
