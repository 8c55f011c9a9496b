// Package update rewrites the expected outputs of an article that drifted
// (`wordish update`, WORDISH_UPDATE=1 in go test): Rewrite computes the new
// source, keeping "..." wildcards where they still fit; File writes it back
// so that a kill at any moment leaves the old or the new article; Updater
// is the reporter that does so as each document of a run ends.
package update

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

// Rewrite rewrites, in the source of doc, the expected output of every
// failed step with the output the step actually produced, and returns the
// new source and the number of steps rewritten. Steps with any other
// outcome are left alone: an errored step's output describes a state the
// article does not, so it is no evidence of what the article should say.
//
// Only the bytes of the failed steps' expected-output lines change. Each
// new line is written with the step's LinePrefix (block indentation,
// blockquote markers; without its trailing blanks on an empty line) and
// the document's line ending. The new output loses trailing whitespace on
// each line and blank lines at both ends, all of which matching ignores.
//
// Wildcards are kept where they still fit. The old expected lines are
// aligned with the new actual lines by dynamic programming, as a diff
// does, where an old line may:
//   - stay, if on its own it still matches the one new line it is paired
//     with under the step's options (a line with an in-line "...", a
//     regular expression under `regex`, a line differing only in
//     whitespace under `norm-ws`, an unchanged line);
//   - stay, if it is a line holding only "...", standing for the run of
//     zero or more new lines it is paired with;
//   - be replaced by the one new line it is paired with;
//   - be dropped, while new lines not paired with any old one are added.
//
// The alignment keeps as many old lines as possible (a kept line counts
// twice a replaced one), then writes as few lines as possible: so in
//
//	old: a / ... / z      new: a / b / c / y
//
// "..." stands for b and c, z is replaced by y, giving a / ... / y. The
// resulting expected output is then checked against the actual output
// with the real matcher; should it not match, the plain actual output is
// written instead. Under `regex` new lines are written quoted
// (regexp.QuoteMeta) so that they match themselves.
//
// The result is parsed again: if the article no longer reads as the same
// commands with the new outputs (an output line that looks like a prompt,
// or that closes the code block), Rewrite fails rather than change the
// article's structure, and the step is left to be edited by hand.
//
// HTML documents (steps not Editable) cannot be rewritten: Rewrite fails
// and says to update the source the page was built from.
func Rewrite(doc *parser.Document, results []*runner.StepResult) (newSource []byte, changed int, err error) {
	type edit struct {
		start, end int
		text       string
	}
	var edits []edit
	written := map[*parser.Step][]string{}
	for _, r := range results {
		if r.Outcome != runner.Failed || r.Step == nil {
			continue
		}
		s := r.Step
		if doc.Format == parser.HTML || !s.Editable {
			return nil, 0, fmt.Errorf("%s:%d: cannot update the expected output in an HTML page; update the source the page was built from (Markdown or reStructuredText) and rebuild the page", doc.Path, s.Line)
		}
		if s.OutputStart < 0 || s.OutputEnd < s.OutputStart || s.OutputEnd > len(doc.Source) {
			return nil, 0, fmt.Errorf("%s:%d: expected output position %d..%d outside the file", doc.Path, s.Line, s.OutputStart, s.OutputEnd)
		}
		lines := newExpected(s, r.Actual)
		written[s] = lines
		eol := "\n"
		if doc.CRLF {
			eol = "\r\n"
		}
		text := string(doc.RenderOutput(s, strings.Join(lines, "\n")))
		if text != "" && s.OutputStart == s.OutputEnd && s.OutputStart > 0 && doc.Source[s.OutputStart-1] != '\n' {
			// Output added after a command on the last line of a file
			// without a final newline.
			text = eol + text
		}
		if old := doc.Source[s.OutputStart:s.OutputEnd]; len(old) > 0 && old[len(old)-1] != '\n' {
			// The old output was the end of a file without a final
			// newline: keep it that way.
			text = strings.TrimSuffix(text, eol)
		}
		edits = append(edits, edit{s.OutputStart, s.OutputEnd, text})
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var out bytes.Buffer
	out.Grow(len(doc.Source))
	pos := 0
	for _, e := range edits {
		if e.start < pos {
			return nil, 0, fmt.Errorf("%s: overlapping expected outputs at byte %d", doc.Path, e.start)
		}
		out.Write(doc.Source[pos:e.start])
		out.WriteString(e.text)
		pos = e.end
		if string(doc.Source[e.start:e.end]) != e.text {
			changed++
		}
	}
	out.Write(doc.Source[pos:])
	if changed > 0 {
		if err := checkReparse(doc, out.Bytes(), written); err != nil {
			return nil, 0, err
		}
	}
	return out.Bytes(), changed, nil
}

// checkReparse parses the old and the new source alike and makes sure the
// rewrite changed nothing but the expected outputs it meant to: the same
// commands, and the new outputs read back as written. An output line that
// reads as a prompt ("$ ls" printed by a command), or as the end of the
// code block (a line of backticks in Markdown, a dedented line in reST),
// would otherwise change the article's structure; such a step must be
// edited by hand.
func checkReparse(doc *parser.Document, src []byte, written map[*parser.Step][]string) error {
	cfg := doc.Config // the user's --prompt
	cfg.Format = doc.Format
	before, err := parser.Parse(doc.Path, doc.Source, cfg)
	if err != nil {
		// A document built by hand, not parsed from its Source: nothing
		// to compare with.
		return nil
	}
	after, err := parser.Parse(doc.Path, src, cfg)
	if err != nil {
		return fmt.Errorf("%s: the rewritten article would not parse (%v); update it by hand", doc.Path, err)
	}
	old, nu := before.Steps(), after.Steps()
	// Index the steps that were rewritten by their position in the
	// document, as parsed with cfg.
	byPos := map[int][]string{}
	for s, lines := range written {
		for i, o := range old {
			if o.Line == s.Line && o.Command == s.Command {
				byPos[i] = lines
			}
		}
	}
	for i := 0; i < len(old) || i < len(nu); i++ {
		if i >= len(old) || i >= len(nu) || old[i].Command != nu[i].Command {
			where := doc.Path
			if i < len(nu) {
				where = fmt.Sprintf("%s:%d (after the rewrite)", doc.Path, nu[i].Line)
			}
			return fmt.Errorf("%s: rewriting the expected outputs would change the article's steps near %s: "+
				"an output line reads as a prompt or ends the code block; update it by hand", doc.Path, where)
		}
		if lines, ok := byPos[i]; ok && !slices.Equal(runner.NormLines(nu[i].Expected), runner.NormLines(strings.Join(lines, "\n"))) {
			return fmt.Errorf("%s:%d: the new expected output would not read back as written "+
				"(an output line reads as a prompt or ends the code block); update it by hand", doc.Path, old[i].Line)
		}
	}
	return nil
}

// ellipsis is the wildcard of expected outputs (see runner.Compile).
const ellipsis = "..."

// maxAlign bounds the alignment table (old lines × new lines); beyond it
// the plain actual output is written, which is always correct, only less
// kind to wildcards.
const maxAlign = 1_000_000

// newExpected returns the lines of the new expected output of s, given
// the actual output; see Rewrite for the rules.
func newExpected(s *parser.Step, actual string) []string {
	act := cleanLines(actual)
	plain := act
	if s.Options.Regex {
		plain = make([]string, len(act))
		for i, l := range act {
			plain[i] = regexp.QuoteMeta(l)
		}
	}
	old := cleanLines(s.Expected)
	if len(old) == 0 || len(act)*len(old) > maxAlign {
		return plain
	}
	lines := align(old, act, plain, s.Options)
	if !runner.Compile(strings.Join(lines, "\n"), s.Options).Match(actual) {
		return plain
	}
	return lines
}

// cleanLines splits text into lines without trailing whitespace (nor a
// stray CR) and drops blank lines at both ends.
func cleanLines(text string) []string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r\v\f")
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// align pairs old expected lines with new actual lines (see Rewrite) and
// returns the new expected lines. plain[j] is act[j] as it must be
// written when it replaces an old line.
func align(old, act, plain []string, o parser.Options) []string {
	n, m := len(old), len(act)
	// Score of a kept line, of a replaced one; each written line costs 1
	// as a tie-breaker, which can never outweigh a kept or replaced line.
	keep, repl := int32(2*(n+m+1)), int32(n+m+1)

	// 12 bytes a cell: at most maxAlign cells, so 12 MB at worst.
	type cell struct {
		score int32
		from  int32 // for 'w': the j the run starts at
		op    byte  // 'k' kept, 'r' replaced, 'd' old dropped, 'i' new added, 'w' "..." line
	}
	f := make([][]cell, n+1)
	for i := range f {
		f[i] = make([]cell, m+1)
	}
	for j := 1; j <= m; j++ {
		f[0][j] = cell{f[0][j-1].score - 1, 0, 'i'}
	}
	fits := make([]func(string) bool, n)
	for i, l := range old {
		if !o.Regex && !o.NormWS && !strings.Contains(l, ellipsis) {
			// A plain line stays only when unchanged: the matcher would
			// also accept it re-indented, which must then be rewritten.
			fits[i] = func(a string) bool { return a == l }
			continue
		}
		fits[i] = runner.Compile(l, o).Match
	}
	for i := 1; i <= n; i++ {
		dots := strings.TrimSpace(old[i-1]) == ellipsis
		f[i][0] = cell{f[i-1][0].score, 0, 'd'}
		best, bestFrom := f[i-1][0].score, int32(0) // max of f[i-1][j0] for j0 <= j
		if dots {
			f[i][0] = cell{best + keep - 1, 0, 'w'}
		}
		for j := 1; j <= m; j++ {
			c := cell{f[i-1][j].score, 0, 'd'}
			try := func(score int32, op byte, from int32) {
				if score > c.score {
					c = cell{score, from, op}
				}
			}
			try(f[i][j-1].score-1, 'i', 0)
			try(f[i-1][j-1].score+repl-1, 'r', 0)
			if dots {
				if f[i-1][j].score > best {
					best, bestFrom = f[i-1][j].score, int32(j)
				}
				try(best+keep-1, 'w', bestFrom)
			} else if fits[i-1](act[j-1]) {
				try(f[i-1][j-1].score+keep-1, 'k', 0)
			}
			f[i][j] = c
		}
	}
	var rev []string
	for i, j := n, m; i > 0 || j > 0; {
		c := f[i][j]
		switch c.op {
		case 'k':
			rev = append(rev, old[i-1])
			i, j = i-1, j-1
		case 'w':
			rev = append(rev, old[i-1])
			i, j = i-1, int(c.from)
		case 'r':
			rev = append(rev, plain[j-1])
			i, j = i-1, j-1
		case 'd':
			i--
		case 'i':
			rev = append(rev, plain[j-1])
			j--
		}
	}
	out := make([]string, len(rev))
	for k, l := range rev {
		out[len(rev)-1-k] = l
	}
	return out
}

// Updater is the runner.Reporter of `wordish update`: it passes every call on to
// Next, and when a document ends, after passing that on, rewrites the
// document's failed expected outputs in its file (File). It is
// safe for concurrent use by several documents. Wrap the reporters a run
// uses with it to turn the run into an update.
type Updater struct {
	Next runner.Reporter
	// Choose, when set, picks the results written; nil writes every
	// failed step.
	Choose Chooser

	mu      sync.Mutex
	changed map[string]int
	errs    []error
	stopped bool
}

// A Chooser picks among a document's results those whose outputs are
// written (`wordish update -i` asks the user, the go test integration
// writes the steps it reported); stop asks that no more document be
// replayed (the user quit).
type Chooser func(r *runner.DocResult) (write []*runner.StepResult, stop bool)

// NewUpdater returns an Updater reporting to next.
func NewUpdater(next runner.Reporter) *Updater {
	return &Updater{Next: next, changed: map[string]int{}}
}

// StartDoc implements runner.Reporter.
func (u *Updater) StartDoc(path string) { u.Next.StartDoc(path) }

// Step implements runner.Reporter.
func (u *Updater) Step(path string, r *runner.StepResult) { u.Next.Step(path, r) }

// EndDoc implements runner.Reporter.
func (u *Updater) EndDoc(r *runner.DocResult) {
	u.Next.EndDoc(r)
	if r.Doc == nil {
		return
	}
	steps, stop := r.Steps, false
	if u.Choose != nil {
		steps, stop = u.Choose(r)
	}
	n, err := File(r.Doc, steps)
	u.mu.Lock()
	defer u.mu.Unlock()
	u.stopped = u.stopped || stop
	if err != nil {
		u.errs = append(u.errs, err)
	}
	if n > 0 {
		u.changed[r.Path] += n
	}
}

// Changed returns, by path, how many steps got a new expected output.
func (u *Updater) Changed() map[string]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[string]int, len(u.changed))
	for k, v := range u.changed {
		out[k] = v
	}
	return out
}

// Errs returns the errors met rewriting files.
func (u *Updater) Errs() []error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]error(nil), u.errs...)
}

// Stopped reports whether a Chooser asked that no more document be
// replayed.
func (u *Updater) Stopped() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.stopped
}
