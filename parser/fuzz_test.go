package parser

import (
	"strings"
	"testing"
	"time"

	"mvdan.cc/sh/v3/syntax"
)

// fuzzParse parses src in the format of ext and checks what must hold for any
// input: no panic (the fuzzer catches those), no hang, and steps whose
// positions make sense.
func fuzzParse(t *testing.T, ext string, src []byte) {
	defer watchdog()()
	start := time.Now()
	doc, err := Parse("fuzz"+ext, src, Config{Prompts: []string{"mysql> "}})
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("parsing %d bytes took %v", len(src), d)
	}
	if err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("error of type %T: %v", err, err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("error on several lines: %q", err)
		}
		return
	}
	lines := strings.Count(string(src), "\n") + 1
	pos := 0
	for _, s := range doc.Steps() {
		if s.Line < 1 || s.Line > lines {
			t.Fatalf("step line %d outside 1..%d", s.Line, lines)
		}
		if !s.Editable {
			continue
		}
		if s.OutputStart < pos || s.OutputEnd < s.OutputStart || s.OutputEnd > len(src) {
			t.Fatalf("step %d: output %d..%d after %d in %d bytes", s.Line, s.OutputStart, s.OutputEnd, pos, len(src))
		}
		pos = s.OutputEnd
	}
}

// seedCases are the rule cases every fuzzer starts from.
func seedCases() []ruleCase { return append(append([]ruleCase{}, ruleCases...), readerCases...) }

func FuzzMarkdown(f *testing.F) {
	for _, c := range nestCases {
		f.Add([]byte(c.src))
	}
	fuzzFormat(f, ".md", mdDoc)
}

func FuzzRST(f *testing.F)  { fuzzFormat(f, ".rst", rstDoc) }
func FuzzHTML(f *testing.F) { fuzzFormat(f, ".html", htmlDoc) }

// fuzzFormat fuzzes the reader of ext from the rule cases, rendered by
// doc.
func fuzzFormat(f *testing.F, ext string, doc func(lang, body string) (string, int)) {
	for _, c := range seedCases() {
		s, _ := doc(c.lang, c.body)
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) { fuzzParse(t, ext, src) })
}

// FuzzSplit drives the step splitter directly with a block body and a
// language.
func FuzzSplit(f *testing.F) {
	for _, c := range seedCases() {
		f.Add(c.lang, c.body)
	}
	f.Fuzz(func(t *testing.T, lang, body string) {
		p := &parse{doc: &Document{Path: "fuzz", Format: Markdown}, prompts: newPromptSet([]string{"> ", "mysql> "}), sh: getShell()}
		defer putShell(p.sh)
		p.sh.budget = 4*len(body) + 2<<20
		b := &block{lang: lang, editable: true}
		off := 0
		for i, l := range strings.SplitAfter(body, "\n") {
			b.lines = append(b.lines, srcLine{text: strings.TrimSuffix(l, "\n"), num: i + 1, start: off, end: off + len(l)})
			off += len(l)
		}
		defer watchdog()()
		start := time.Now()
		steps, err := p.split(b)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("splitting %d bytes took %v", len(body), d)
		}
		if err != nil {
			return
		}
		for _, s := range steps {
			if s.Command == "" || strings.HasSuffix(s.Expected, "\n") {
				t.Fatalf("bad step %+v", s)
			}
		}
	})
}

// watchdog crashes the fuzzing process when one input takes too long, so
// that the fuzzer records it as a failure instead of stalling; call the
// function it returns when done.
func watchdog() func() {
	t := time.AfterFunc(10*time.Second, func() { panic("input took more than 10s") })
	return func() { t.Stop() }
}

// FuzzQuickScan checks the quick scan against the bash parser: when the
// scan says a command is complete, the parser must not want more lines.
func FuzzQuickScan(f *testing.F) {
	for _, c := range seedCases() {
		f.Add(c.body)
	}
	for _, s := range []string{`echo $'don\'t'`, `echo "${x:-"a b"}"`, "a |&", "a \\", "echo 'a\nb'", "if true\nthen :\nfi"} {
		f.Add(s)
	}
	sh := &shell{p: syntax.NewParser(syntax.Variant(syntax.LangBash))}
	f.Fuzz(func(t *testing.T, cmd string) {
		lines := strings.Split(cmd, "\n")
		if quickScan(lines) != scanComplete {
			return
		}
		sh.buf = []byte(cmd + "\n")
		sh.rd.Reset(sh.buf)
		_, err := sh.p.Parse(&sh.rd, "")
		if syntax.IsIncomplete(err) {
			t.Fatalf("quick scan says complete, bash parser says %v", err)
		}
	})
}

// FuzzCommandEnd checks the shortcuts that spare the bash parser (quick
// scan, heredoc bodies, lines that cannot close anything) against asking
// the parser at every line: on valid shell, both end commands at the same
// line.
func FuzzCommandEnd(f *testing.F) {
	for _, c := range seedCases() {
		f.Add(c.body)
	}
	f.Add("f () {\n  a\n  b\n}\nout")
	f.Add("for i in 1 2\ndo\n  x\ndone\nout")
	f.Add("cat <<-EOF\n\tx\n\tEOF\nout")
	// The closer shortcut: lines without the construct's end.
	f.Add("f () {\n  echo \"a\" 'b'\n  if x; then\n    y\n  fi\n}\nout")
	f.Add("echo $((1 +\n2))\nout")
	f.Add("echo $((cd x) &&\nls)\nout")
	f.Add("a=(1\n2 ) b\nout")
	f.Add("[[ a &&\nb ]]\nout")
	f.Add("echo \"a\nb\" `c\nd`\nout")
	f.Add("case x in\n a) echo \"esac\";;\nesac\nout")
	sh := &shell{p: syntax.NewParser(syntax.Variant(syntax.LangBash))}
	end := func(lines []string, always bool) int {
		sh.budget = 1 << 30
		c := sh.command(lines[0])
		c.always = always
		i := 1
		for i < len(lines) && c.incomplete() {
			c.add(lines[i])
			i++
		}
		return i
	}
	f.Fuzz(func(t *testing.T, body string) {
		lines := strings.Split(body, "\n")
		// Heredoc terminators: mvdan.cc/sh ends "<<-0" at "0$00", bash
		// (and the shortcut) at "0" only.
		if len(lines) > 200 || strings.Contains(body, "<") || strings.Contains(body, "\x00") {
			return
		}
		fast, slow := end(lines, false), end(lines, true)
		if fast == slow {
			return
		}
		// Only valid shell counts: invalid text may end anywhere.
		for _, n := range []int{fast, slow} {
			src := strings.Join(lines[:n], "\n") + "\n"
			if _, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), ""); err != nil {
				return
			}
		}
		t.Fatalf("command ends after %d lines with shortcuts, %d without", fast, slow)
	})
}
