package wordish

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

// Which documents and steps a run covers. The FILE arguments of the
// replaying commands are, in order:
//
//   - a file, replayed whole;
//   - FILE:LINE[,LINE...], the steps at those lines of FILE (the steps
//     before them still replay, to rebuild their state; see
//     runner.Options.Select);
//   - a directory, searched for articles (dirExts), skipping hidden and
//     vendored directories (skipDirs), in sorted order;
//   - a glob pattern with "**" (any number of directories) and the usual
//     "*", "?", "[...]", "{a,b}", for when the shell did not expand it
//     (bash without globstar reads "**" as "*"); as in the shell, "*" and
//     "**" leave hidden files and directories out.
//
// --run REGEX then keeps the steps whose name, "FILE/L42_slug" as in
// --json and JUnit, the regular expression matches.

// dirExts are the extensions of the files a directory argument holds as
// articles. ".txt" is left out although it reads as reStructuredText
// when named: in a tree it is far more often notes, licences or
// requirements than an article.
var dirExts = map[string]bool{".md": true, ".markdown": true, ".rst": true, ".html": true, ".htm": true}

// skipDirs are the directories a directory argument does not enter
// (besides hidden ones): other people's code and its docs.
var skipDirs = map[string]bool{"vendor": true, "node_modules": true}

// target is one document to replay.
type target struct {
	path  string
	lines []int // FILE:LINE selection; nil = the whole document
	whole bool  // named whole too, which wins over lines
	err   error // no such document (an empty directory, a pattern matching nothing)
	doc   *parser.Document
}

// fileLineRE splits FILE:LINE[,LINE...]; a path that exists with the
// colon in its name is taken as a path.
var fileLineRE = regexp.MustCompile(`^(.+):([0-9]+(?:,[0-9]+)*)$`)

// splitFileLines splits FILE:LINE[,LINE...] into its parts; lines is nil
// when arg names a file as it is.
func splitFileLines(arg string) (string, []int) {
	m := fileLineRE.FindStringSubmatch(arg)
	if m == nil {
		return arg, nil
	}
	if _, err := os.Stat(arg); err == nil {
		return arg, nil
	}
	var lines []int
	for _, s := range strings.Split(m[2], ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return arg, nil
		}
		lines = append(lines, n)
	}
	return m[1], lines
}

// expandArgs turns FILE arguments into targets, each path once, in the
// order of first mention; the lines of several FILE:LINE of one path add
// up.
func expandArgs(args []string) []*target {
	var out []*target
	byPath := map[string]*target{}
	add := func(path string, lines []int, err error) {
		t := byPath[path]
		if t == nil || err != nil {
			t = &target{path: path, err: err}
			out = append(out, t)
			if err == nil {
				byPath[path] = t
			}
		}
		if lines == nil {
			t.whole = true
		}
		t.lines = append(t.lines, lines...)
	}
	for _, arg := range args {
		path, lines := splitFileLines(arg)
		fi, statErr := os.Stat(path)
		switch {
		case statErr == nil && fi.IsDir():
			found, err := searchDir(path)
			if err == nil && len(found) == 0 {
				err = fmt.Errorf("%s: no article in this directory (searched for %s)", path, strings.Join(sortedKeys(dirExts), " "))
			}
			if err != nil {
				add(path, nil, err)
			}
			for _, p := range found {
				add(p, nil, nil)
			}
		case statErr != nil && hasMeta(arg):
			matches, err := doublestar.FilepathGlob(arg, doublestar.WithFilesOnly(), doublestar.WithNoHidden())
			if err == nil && len(matches) == 0 {
				err = fmt.Errorf("%s: no file matches this pattern", arg)
			}
			if errors.Is(err, doublestar.ErrBadPattern) {
				err = fmt.Errorf("%s: bad pattern", arg)
			}
			if err != nil {
				add(arg, nil, err)
			}
			sort.Strings(matches)
			for _, p := range matches {
				add(p, nil, nil)
			}
		default:
			add(path, lines, nil)
		}
	}
	return out
}

func hasMeta(s string) bool { return strings.ContainsAny(s, "*?[{") }

// searchDir lists the articles under dir, in sorted order.
func searchDir(dir string) ([]string, error) {
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != dir && (strings.HasPrefix(name, ".") || skipDirs[name]) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(name, ".") && dirExts[strings.ToLower(filepath.Ext(name))] && d.Type().IsRegular() {
			found = append(found, p)
		}
		return nil
	})
	return found, err
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// selector returns the step selection of a parsed target and --run (nil
// when every step is selected), or an error naming the file and line of
// a FILE:LINE that holds no step.
func (t *target) selector(runRE *regexp.Regexp) (func(*parser.Step) bool, error) {
	steps := t.doc.Steps()
	var atLine map[*parser.Step]bool
	if !t.whole && len(t.lines) > 0 {
		atLine = map[*parser.Step]bool{}
		for _, line := range t.lines {
			s := stepAt(steps, line)
			if s == nil {
				return nil, &parser.Error{File: t.path, Line: line, Msg: "no step here: " + stepLines(steps)}
			}
			atLine[s] = true
		}
	}
	if atLine == nil && runRE == nil {
		return nil, nil
	}
	return func(s *parser.Step) bool {
		if atLine != nil && !atLine[s] {
			return false
		}
		return runRE == nil || runRE.MatchString(t.path+"/"+runner.StepName(s))
	}, nil
}

// stepAt is the step a line points to: the one whose prompt is on it, or
// that one of its continuation or output lines belongs to, judged by the
// next step's prompt within the same session.
func stepAt(steps []*parser.Step, line int) *parser.Step {
	var best *parser.Step
	for _, s := range steps {
		if s.Line > line {
			break
		}
		best = s
	}
	if best == nil {
		return nil
	}
	// Past the step's text (its command and output lines)?
	n := strings.Count(best.Command, "\n") + 1
	if best.Expected != "" {
		n += strings.Count(best.Expected, "\n") + 1
	}
	if line >= best.Line+n {
		return nil
	}
	return best
}

// stepLines says where the steps are, for an error message.
func stepLines(steps []*parser.Step) string {
	if len(steps) == 0 {
		return "the document has no step"
	}
	var b strings.Builder
	b.WriteString("steps are at lines ")
	for i, s := range steps {
		if i == 8 {
			fmt.Fprintf(&b, ", … (%d steps)", len(steps))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(s.Line))
	}
	return b.String()
}

// countSelected counts the steps sel selects (all when nil).
func countSelected(doc *parser.Document, sel func(*parser.Step) bool) int {
	n := 0
	for _, s := range doc.Steps() {
		if sel == nil || sel(s) {
			n++
		}
	}
	return n
}

// selectTargets parses the documents and keeps those the selection
// (Config.Run, Config.Shard) picks, with each one's step selector. It
// parses everything first: a root step without root stops the whole run
// before any command runs. An unreadable document (or a typo in a
// directive) is kept, to be reported in its place in the report, and the
// others still run.
func (p *pipeline) selectTargets(runRE *regexp.Regexp) error {
	max := p.cfg.MaxSize
	switch {
	case max == 0:
		max = DefaultMaxSize
	case max < 0:
		max = 0
	}
	p.sels = map[*target]func(*parser.Step) bool{}
	for _, t := range p.targets {
		if t.err != nil {
			continue
		}
		t.doc, t.err = parseArticle(t.path, p.cfg.Parse, max)
		if t.err != nil {
			continue
		}
		if len(t.doc.Blocks) == 0 {
			fmt.Fprintf(p.stderr, "%s: no shell sessions found\n", t.path)
		}
		sel, err := t.selector(runRE)
		if err != nil {
			return err
		}
		p.sels[t] = sel
	}
	if runRE != nil {
		kept, any := p.targets[:0:0], false
		for _, t := range p.targets {
			if t.doc == nil || countSelected(t.doc, p.sels[t]) > 0 {
				kept = append(kept, t)
				any = any || t.doc != nil
			}
		}
		if !any {
			return fmt.Errorf("--run %q selects no step (names are FILE/L<line>_<command>, as wordish list shows the lines)", p.cfg.Run)
		}
		p.targets = kept
	}
	if p.cfg.Shard.N > 0 {
		var timing map[string]float64
		if p.cfg.ShardTiming != "" {
			var err error
			if timing, err = readTiming(p.cfg.ShardTiming); err != nil {
				return fmt.Errorf("--shard-timing: %v", err)
			}
		}
		shard := shardOf(p.targets, p.cfg.Shard.N, timing)
		kept := p.targets[:0:0]
		for i, t := range p.targets {
			if shard[i] == p.cfg.Shard.K-1 {
				kept = append(kept, t)
			}
		}
		p.targets = kept
	}
	return nil
}

// startedSteps counts the steps of doc whose command will start under
// the selection sel (runner.Options.Select): not the skipped ones, nor
// those after the last selected step but cleanup steps.
func startedSteps(doc *parser.Document, sel func(*parser.Step) bool) int {
	steps := doc.Steps()
	last := len(steps) - 1
	if sel != nil {
		for last >= 0 && !sel(steps[last]) {
			last--
		}
	}
	n := 0
	for i, s := range steps {
		if !s.Options.Skip && (i <= last || s.Options.Cleanup) {
			n++
		}
	}
	return n
}

// A File is one document a FILE argument names, or the error saying why
// the argument names none (an empty directory, a pattern matching
// nothing).
type File struct {
	Path string
	Err  error
}

// Files expands FILE arguments as Run does (directories, patterns,
// FILE:LINE), each path once, in the order of first mention.
func Files(args []string) []File {
	var out []File
	for _, t := range expandArgs(args) {
		out = append(out, File{t.path, t.err})
	}
	return out
}

// FileOf is the file a FILE or FILE:LINE[,LINE...] argument names.
func FileOf(arg string) string {
	file, _ := splitFileLines(arg)
	return file
}
