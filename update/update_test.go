package update

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

// mkStep builds a step as the parser would for the session at 1-based
// line `line` of src: the command takes its lines, the next nout lines are
// the expected output, each starting with prefix. Tests of update mode
// use it so they do not depend on the parser's other rules.
func mkStep(t *testing.T, src string, line int, cmd string, nout int, prefix string) *parser.Step {
	t.Helper()
	off := 0
	skipLine := func() {
		i := strings.IndexByte(src[off:], '\n')
		if i < 0 {
			off = len(src)
			return
		}
		off += i + 1
	}
	for range line - 1 + strings.Count(cmd, "\n") + 1 {
		skipLine()
	}
	start := off
	var exp []string
	for range nout {
		l := src[off:]
		if i := strings.IndexByte(l, '\n'); i >= 0 {
			l = l[:i]
		}
		l = strings.TrimSuffix(l, "\r")
		if !strings.HasPrefix(l, prefix) && l != strings.TrimRight(prefix, " ") {
			t.Fatalf("line %q after line %d lacks prefix %q", l, line, prefix)
		}
		exp = append(exp, strings.TrimPrefix(strings.TrimPrefix(l, prefix), strings.TrimRight(prefix, " ")))
		skipLine()
	}
	return &parser.Step{File: "x", Line: line, Prompt: "$ ", Command: cmd, Expected: strings.Join(exp, "\n"),
		OutputStart: start, OutputEnd: off, LinePrefix: prefix, Editable: true}
}

type upStep struct {
	line    int
	cmd     string
	nout    int
	outcome runner.Outcome
	actual  string
	opts    parser.Options
}

func TestUpdate(t *testing.T) {
	tests := []struct {
		name    string
		format  parser.Format
		crlf    bool
		prefix  string
		src     string
		steps   []upStep
		want    string
		changed int
	}{{
		name: "markdown fence",
		src:  "# T\n\n```console\n$ echo hi\nho\n$ date\nnow\n```\ntail\n",
		steps: []upStep{
			{line: 4, cmd: "echo hi", nout: 1, outcome: runner.Failed, actual: "hi\n"},
			{line: 6, cmd: "date", nout: 1, outcome: runner.Passed, actual: "later\n"},
		},
		want:    "# T\n\n```console\n$ echo hi\nhi\n$ date\nnow\n```\ntail\n",
		changed: 1,
	}, {
		name: "errored and skipped steps are left alone",
		src:  "```console\n$ false\nx\n$ ls\ny\n```\n",
		steps: []upStep{
			{line: 2, cmd: "false", nout: 1, outcome: runner.Errored, actual: "boom\n"},
			{line: 4, cmd: "ls", nout: 1, outcome: runner.NotRun},
		},
		want: "```console\n$ false\nx\n$ ls\ny\n```\n",
	}, {
		name:   "markdown in a list item",
		prefix: "   ",
		src:    "1. runner.Run:\n\n   ```console\n   $ seq 3\n   1\n   ```\n",
		steps:  []upStep{{line: 4, cmd: "seq 3", nout: 1, outcome: runner.Failed, actual: "1\n2\n\n3\n"}},
		// The blank line gets no trailing blanks.
		want:    "1. runner.Run:\n\n   ```console\n   $ seq 3\n   1\n   2\n\n   3\n   ```\n",
		changed: 1,
	}, {
		name:    "markdown in a blockquote",
		prefix:  "> ",
		src:     "> ```console\n> $ printf 'a\\n\\nb\\n'\n> a\n> ```\n",
		steps:   []upStep{{line: 2, cmd: `printf 'a\n\nb\n'`, nout: 1, outcome: runner.Failed, actual: "a\n\nb\n"}},
		want:    "> ```console\n> $ printf 'a\\n\\nb\\n'\n> a\n>\n> b\n> ```\n",
		changed: 1,
	}, {
		name:    "rest literal block",
		format:  parser.RST,
		prefix:  "    ",
		src:     "Run::\n\n    $ uname\n    Darwin\n\nNext paragraph.\n",
		steps:   []upStep{{line: 3, cmd: "uname", nout: 1, outcome: runner.Failed, actual: "Linux\n"}},
		want:    "Run::\n\n    $ uname\n    Linux\n\nNext paragraph.\n",
		changed: 1,
	}, {
		name:    "crlf",
		crlf:    true,
		src:     "```console\r\n$ seq 2\r\n1\r\n```\r\n",
		steps:   []upStep{{line: 2, cmd: "seq 2", nout: 1, outcome: runner.Failed, actual: "1\n2\n"}},
		want:    "```console\r\n$ seq 2\r\n1\r\n2\r\n```\r\n",
		changed: 1,
	}, {
		name: "wildcard line kept, changed tail replaced",
		src:  "```console\n$ ls\na\n...\nz\n```\n",
		steps: []upStep{{line: 2, cmd: "ls", nout: 3, outcome: runner.Failed,
			actual: "a\nb\nc\ny\n"}},
		want:    "```console\n$ ls\na\n...\ny\n```\n",
		changed: 1,
	}, {
		name: "wildcard line standing for nothing is kept",
		src:  "```console\n$ ls\na\n...\nz\n```\n",
		steps: []upStep{{line: 2, cmd: "ls", nout: 3, outcome: runner.Failed,
			actual: "a\nz\nq\n"}},
		want:    "```console\n$ ls\na\n...\nz\nq\n```\n",
		changed: 1,
	}, {
		name: "in-line wildcard kept where it fits, dropped where not",
		src:  "```console\n$ df\nSize: ... MB\nUsed: ... MB\nFree: 3 MB\n```\n",
		steps: []upStep{{line: 2, cmd: "df", nout: 3, outcome: runner.Failed,
			actual: "Size: 12 MB\nUsed: 2 GB\nFree: 4 MB\n"}},
		want:    "```console\n$ df\nSize: ... MB\nUsed: 2 GB\nFree: 4 MB\n```\n",
		changed: 1,
	}, {
		name:    "output added to a step that had none",
		src:     "```console\n$ touch f\n$ ls\n```\n",
		steps:   []upStep{{line: 2, cmd: "touch f", nout: 0, outcome: runner.Failed, actual: "oops\n"}},
		want:    "```console\n$ touch f\noops\n$ ls\n```\n",
		changed: 1,
	}, {
		name:    "output removed when there is none any more",
		src:     "```console\n$ touch f\nold\nlines\n$ ls\n```\n",
		steps:   []upStep{{line: 2, cmd: "touch f", nout: 2, outcome: runner.Failed, actual: "\n"}},
		want:    "```console\n$ touch f\n$ ls\n```\n",
		changed: 1,
	}, {
		name:    "trailing whitespace and edge blank lines of the output dropped",
		src:     "```console\n$ x\ny\n```\n",
		steps:   []upStep{{line: 2, cmd: "x", nout: 1, outcome: runner.Failed, actual: "\n  a  \nb\t\n\n"}},
		want:    "```console\n$ x\n  a\nb\n```\n",
		changed: 1,
	}, {
		name:    "last line of a file without final newline",
		format:  parser.RST,
		prefix:  "  ",
		src:     "::\n\n  $ echo 1\n  2",
		steps:   []upStep{{line: 3, cmd: "echo 1", nout: 1, outcome: runner.Failed, actual: "1\n"}},
		want:    "::\n\n  $ echo 1\n  1",
		changed: 1,
	}, {
		name:    "output added after a command ending the file",
		format:  parser.RST,
		prefix:  "  ",
		src:     "::\n\n  $ echo 1",
		steps:   []upStep{{line: 3, cmd: "echo 1", nout: 0, outcome: runner.Failed, actual: "1\n"}},
		want:    "::\n\n  $ echo 1\n  1\n",
		changed: 1,
	}, {
		name: "regex: matching lines kept, new lines quoted",
		src:  "```console\n$ v\nv[0-9]+\\.[0-9]+\nold\n```\n",
		steps: []upStep{{line: 2, cmd: "v", nout: 2, outcome: runner.Failed, opts: parser.Options{Regex: true},
			actual: "v1.22\n(new) x.y\n"}},
		want:    "```console\n$ v\nv[0-9]+\\.[0-9]+\n\\(new\\) x\\.y\n```\n",
		changed: 1,
	}, {
		name: "several steps, BOM and bytes elsewhere untouched",
		src:  "\ufeff<!-- wordish: norm-ws -->  \n```console\n$ a\n1\n$ b\n2\n```\n\n   trailing   \n```console\n$ c\n3\n```\n",
		steps: []upStep{
			{line: 3, cmd: "a", nout: 1, outcome: runner.Failed, actual: "one\n"},
			{line: 5, cmd: "b", nout: 1, outcome: runner.Passed},
			{line: 11, cmd: "c", nout: 1, outcome: runner.Failed, actual: "three\n"},
		},
		want:    "\ufeff<!-- wordish: norm-ws -->  \n```console\n$ a\none\n$ b\n2\n```\n\n   trailing   \n```console\n$ c\nthree\n```\n",
		changed: 2,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			format := tt.format
			if format == "" {
				format = parser.Markdown
			}
			doc := &parser.Document{Path: "x", Format: format, Source: []byte(tt.src), CRLF: tt.crlf}
			var results []*runner.StepResult
			for _, s := range tt.steps {
				st := mkStep(t, tt.src, s.line, s.cmd, s.nout, tt.prefix)
				st.Options = s.opts
				results = append(results, &runner.StepResult{Step: st, Outcome: s.outcome, Actual: s.actual})
			}
			got, changed, err := Rewrite(doc, results)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%q\nwant:\n%q", got, tt.want)
			}
			if changed != tt.changed {
				t.Errorf("changed = %d, want %d", changed, tt.changed)
			}
			if string(doc.Source) != tt.src {
				t.Errorf("Update modified doc.Source")
			}
		})
	}
}

func TestUpdateHTMLRefused(t *testing.T) {
	src := "<pre>$ echo hi\nho\n</pre>\n"
	doc := &parser.Document{Path: "page.html", Format: parser.HTML, Source: []byte(src)}
	st := &parser.Step{Line: 1, Command: "echo hi", Expected: "ho", OutputStart: 15, OutputEnd: 18}
	_, _, err := Rewrite(doc, []*runner.StepResult{{Step: st, Outcome: runner.Failed, Actual: "hi"}})
	if err == nil || !strings.Contains(err.Error(), "update the source the page was built from") {
		t.Errorf("err = %v, want a refusal naming the page's source", err)
	}
	// Nothing failed: nothing to refuse.
	if _, _, err := Rewrite(doc, []*runner.StepResult{{Step: st, Outcome: runner.Passed}}); err != nil {
		t.Errorf("passing HTML document: %v", err)
	}
}

// TestUpdateFixture parses, with the real parser, articles under
// testdata/update (Markdown with sessions at the top level, in a list and
// in a blockquote; reST with a literal block and a code-block directive),
// rewrites them given made-up results, and compares each with its
// hand-written .want file byte for byte; it also checks the file is
// written in place, atomically, keeping its mode.
func TestUpdateFixture(t *testing.T) {
	type res struct {
		outcome runner.Outcome
		actual  string
	}
	tests := []struct {
		file    string
		results map[int]res // by line; other steps passed
		changed int
	}{{
		file: "guide.md",
		results: map[int]res{
			9:  {runner.Failed, "app\nbin\ncache\nlogs\ntmp\nwww\n"},
			19: {runner.Failed, "2026\n"},
			25: {runner.Failed, "12\n"},
			27: {runner.Failed, "ten\n\ntwelve\n"},
			35: {runner.Errored, "nothing\n"},
		},
		changed: 4,
	}, {
		file: "guide.rst",
		results: map[int]res{
			8:  {runner.Failed, "Linux\n"},
			17: {runner.Failed, "total 2\ndrwxr-xr-x 2 root root 4096 Nov 24 12:00 a\n-rw-r--r-- 1 root root   12 Nov 24 12:00 b\n"},
			23: {runner.Failed, "x\n"},
		},
		changed: 3,
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata/update", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata/update", tt.file+".want"))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(path, src, 0o640); err != nil {
				t.Fatal(err)
			}
			doc, err := parser.ParseFile(path, parser.Config{})
			if err != nil {
				t.Fatal(err)
			}
			var results []*runner.StepResult
			seen := 0
			for _, s := range doc.Steps() {
				r := &runner.StepResult{Step: s, Outcome: runner.Passed, Actual: s.Expected}
				if x, ok := tt.results[s.Line]; ok {
					r.Outcome, r.Actual = x.outcome, x.actual
					seen++
				}
				results = append(results, r)
			}
			if seen != len(tt.results) {
				t.Fatalf("only %d of the %d steps with results found; steps: %v", seen, len(tt.results), doc.Steps())
			}
			changed, err := File(doc, results)
			if err != nil {
				t.Fatal(err)
			}
			if changed != tt.changed {
				t.Errorf("changed = %d, want %d", changed, tt.changed)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("updated file differs from %s.want:\n%s", tt.file, got)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want 0640", fi.Mode().Perm())
			}
			ents, _ := os.ReadDir(filepath.Dir(path))
			if len(ents) != 1 {
				t.Errorf("temporary files left behind: %v", ents)
			}
		})
	}
}

// TestUpdateRefusesStructureChange: a new output that would read as more
// steps, or close the code block early, is refused rather than written.
func TestUpdateRefusesStructureChange(t *testing.T) {
	tests := []struct{ name, src, actual, err string }{
		{"prompt in output", "```console\n$ cat log\nold\n$ echo end\nend\n```\n", "x\n$ rm -rf tmp\ny\n", "update it by hand"},
		{"fence in output", "```console\n$ cat a.md\nold\n```\n\n```console\n$ echo x\nx\n```\n", "# A\n```\ncode\n", "update it by hand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parser.Parse("x.md", []byte(tt.src), parser.Config{})
			if err != nil {
				t.Fatal(err)
			}
			r := &runner.StepResult{Step: doc.Steps()[0], Outcome: runner.Failed, Actual: tt.actual}
			_, _, err = Rewrite(doc, []*runner.StepResult{r})
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err = %v, want one saying %q", err, tt.err)
			}
		})
	}
}

// TestNewExpectedLarge: big outputs stay fast; past maxAlign the plain
// actual output is written, which is always right.
func TestNewExpectedLarge(t *testing.T) {
	var act, old strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&act, "line %d\n", i)
	}
	old.WriteString("line 0\n...\n")
	for i := range 2000 {
		fmt.Fprintf(&old, "old %d\n", i)
	}
	tests := []struct {
		name, old string
		wantDots  bool
	}{
		{"aligned", "line 0\n...\nline 2999", true}, // 3 × 3000 cells
		{"too big to align", old.String(), false},   // 2002 × 3000 cells
	}
	for _, tt := range tests {
		s := &parser.Step{Expected: tt.old}
		got := newExpected(s, act.String())
		if hasDots := slices.Contains(got, "..."); hasDots != tt.wantDots {
			t.Errorf("%s: wildcard kept = %v, want %v", tt.name, hasDots, tt.wantDots)
		}
		if !tt.wantDots && len(got) != 3000 {
			t.Errorf("%s: %d lines, want the 3000 of the output", tt.name, len(got))
		}
	}
}

// TestUpdateKeepsPrompts: the rewritten article is read back with the
// prompts it was parsed with (--prompt), or the steps compared would be
// others than those replayed.
func TestUpdateKeepsPrompts(t *testing.T) {
	src := "```console\n$ echo hi\nhello\nmysql> select 1;\n1\n```\n"
	doc, err := parser.Parse("x.md", []byte(src), parser.Config{Prompts: []string{"mysql> "}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(doc.Steps()); n != 2 {
		t.Fatalf("%d steps, want 2 (with the mysql> prompt)", n)
	}
	r := &runner.StepResult{Step: doc.Steps()[0], Outcome: runner.Failed, Actual: "hi\n"}
	got, changed, err := Rewrite(doc, []*runner.StepResult{r})
	if err != nil {
		t.Fatal(err)
	}
	if want := "```console\n$ echo hi\nhi\nmysql> select 1;\n1\n```\n"; string(got) != want || changed != 1 {
		t.Errorf("Update = %q (%d changed), want %q", got, changed, want)
	}
}
