package parser

import (
	"fmt"
	"html"
	"strings"
	"testing"
)

// stepWant is what a test expects of one step; line is counted from the
// first line of the block's body.
type stepWant struct {
	line     int
	prompt   string
	command  string
	expected string
	opts     string // Options.String()
}

// ruleCase is a session body that must split the same way in every format.
type ruleCase struct {
	name string
	lang string
	body string
	want []stepWant
	rst  []stepWant // when reST differs: its tabs are expanded
	// dirty: the source has what Expected cannot give back (trailing
	// blanks, reST tabs), so writing it back is not exact.
	dirty bool
}

var ruleCases = []ruleCase{
	{name: "simple", lang: "console",
		body: "$ echo hi\nhi\n$ ls\na\nb\n",
		want: []stepWant{{1, "$ ", "echo hi", "hi", ""}, {3, "$ ", "ls", "a\nb", ""}}},
	{name: "root prompt and hash output", lang: "console",
		body: "~# cat /etc/x.conf\n# a comment in the file\nkey=1\n~# id -u\n0\n",
		want: []stepWant{{1, "~# ", "cat /etc/x.conf", "# a comment in the file\nkey=1", ""}, {4, "~# ", "id -u", "0", ""}}},
	{name: "bare hash prompts", lang: "console",
		body: "# apt-get update\nDone\n# whoami\nroot\n",
		want: []stepWant{{1, "# ", "apt-get update", "Done", ""}, {3, "# ", "whoami", "root", ""}}},
	{name: "bare hash is a comment in a dollar block", lang: "",
		body: "# list the files\n$ ls\n# not a prompt\n",
		want: []stepWant{{2, "$ ", "ls", "# not a prompt", ""}}},
	{name: "bare hash is a comment in sh", lang: "sh",
		body: "# a comment\n~$ ls\nx\n",
		want: []stepWant{{2, "~$ ", "ls", "x", ""}}},
	{name: "function over several lines", lang: "console",
		body: "$ greet () {\n    echo \"hi $1\"\n\n    # a comment\n}\n$ greet bob\nhi bob\n",
		want: []stepWant{{1, "$ ", "greet () {\n    echo \"hi $1\"\n\n    # a comment\n}", "", ""}, {6, "$ ", "greet bob", "hi bob", ""}}},
	{name: "heredoc unquoted with PS2", lang: "console",
		body: "$ cat <<EOF\n> one $HOME\n> EOF\none /root\n",
		want: []stepWant{{1, "$ ", "cat <<EOF\none $HOME\nEOF", "one /root", ""}}},
	{name: "heredoc quoted holding a prompt-like line", lang: "console",
		body: "$ cat <<'END'\nx\n$ not a prompt\nEND\nx\n",
		want: []stepWant{{1, "$ ", "cat <<'END'\nx\n$ not a prompt\nEND", "x", ""}}},
	{name: "heredoc with tabs", lang: "console",
		body: "$ cat <<-EOF\n\tindented\n\tEOF\nindented\n",
		want: []stepWant{{1, "$ ", "cat <<-EOF\n\tindented\n\tEOF", "indented", ""}},
		// reST expands tabs, so "<<-" has no tab to strip: as docutils
		// shows it, the terminator never comes.
		rst: []stepWant{{1, "$ ", "cat <<-EOF\n     indented\n     EOF\nindented", "", ""}}},
	{name: "heredoc that never ends", lang: "console",
		body: "$ cat <<EOF\nabc\n\n",
		want: []stepWant{{1, "$ ", "cat <<EOF\nabc", "", ""}}},
	{name: "for loop with PS2", lang: "console",
		body: "$ for i in 1 2 3\n> do\n>   echo $i\n> done\n1\n2\n3\n",
		want: []stepWant{{1, "$ ", "for i in 1 2 3\ndo\n  echo $i\ndone", "1\n2\n3", ""}}},
	{name: "case over several lines", lang: "console",
		body: "$ case x in\n  x) echo yes ;;\nesac\nyes\n",
		want: []stepWant{{1, "$ ", "case x in\n  x) echo yes ;;\nesac", "yes", ""}}},
	{name: "backslash continuation", lang: "console",
		body: "$ echo a \\\n    b\na b\n",
		want: []stepWant{{1, "$ ", "echo a \\\n    b", "a b", ""}}},
	{name: "and and pipe", lang: "console",
		body: "$ true &&\n  echo yes\nyes\n$ printf 'b\\na\\n' |\n  sort\na\nb\n",
		want: []stepWant{{1, "$ ", "true &&\n  echo yes", "yes", ""}, {4, "$ ", "printf 'b\\na\\n' |\n  sort", "a\nb", ""}}},
	{name: "open quote", lang: "console",
		body: "$ echo 'one\ntwo'\none\ntwo\n",
		want: []stepWant{{1, "$ ", "echo 'one\ntwo'", "one\ntwo", ""}}},
	{name: "output that looks like PS2", lang: "console",
		body: "$ echo '> quoted'\n> quoted\n>\n",
		want: []stepWant{{1, "$ ", "echo '> quoted'", "> quoted\n>", ""}}},
	{name: "output that looks like prompts", lang: "console",
		body: "$ df\n$HOME\n#comment\n100% used\nuser@host is here\n~/dir\n",
		want: []stepWant{{1, "$ ", "df", "$HOME\n#comment\n100% used\nuser@host is here\n~/dir", ""}}},
	{name: "tabs and unicode in output", lang: "console",
		body: "$ printf 'a\\tb\\n'\na\tb\n$ echo héllo ✓ 日本\nhéllo ✓ 日本\n",
		want: []stepWant{{1, "$ ", "printf 'a\\tb\\n'", "a\tb", ""}, {3, "$ ", "echo héllo ✓ 日本", "héllo ✓ 日本", ""}}},
	{name: "user at host prompts", lang: "console",
		body: "user@host:~/src$ make\nok\nroot@web-1:/# id -u\n0\n[me@box tmp]$ pwd\n/tmp\n",
		want: []stepWant{{1, "user@host:~/src$ ", "make", "ok", ""}, {3, "root@web-1:/# ", "id -u", "0", ""}, {5, "[me@box tmp]$ ", "pwd", "/tmp", ""}}},
	{name: "venv and zsh prompts", lang: "console",
		body: "(venv) $ pip --version\npip 24.0\n% echo z\nz\n",
		want: []stepWant{{1, "(venv) $ ", "pip --version", "pip 24.0", ""}, {3, "% ", "echo z", "z", ""}}},
	{name: "command directives", lang: "console",
		body: "$ false # wordish: status=1\n$ sleep 9 # wordish: timeout=5s skip\n$ grep x f  # wordish: status=nonzero stderr norm-ws regex ignore-output cleanup\n",
		want: []stepWant{{1, "$ ", "false # wordish: status=1", "", "status=1"}, {2, "$ ", "sleep 9 # wordish: timeout=5s skip", "", "skip timeout=5s"},
			{3, "$ ", "grep x f  # wordish: status=nonzero stderr norm-ws regex ignore-output cleanup", "", "cleanup status=nonzero ignore-output stderr norm-ws regex"}}},
	{name: "directive marks in quotes and heredocs are text", lang: "console",
		body: "$ echo '# wordish: sikp'\n# wordish: sikp\n$ cat <<'END'\n$ true # wordish: sikp\nEND\n$ for i in 1; do # wordish: timeout=5s\n>   echo $i\n> done\n1\n",
		want: []stepWant{{1, "$ ", "echo '# wordish: sikp'", "# wordish: sikp", ""},
			{3, "$ ", "cat <<'END'\n$ true # wordish: sikp\nEND", "", ""},
			{6, "$ ", "for i in 1; do # wordish: timeout=5s\n  echo $i\ndone", "1", "timeout=5s"}}},
	{name: "bare prompt at the end", lang: "console",
		body: "$ ls\nx\n$\n",
		want: []stepWant{{1, "$ ", "ls", "x", ""}}},
	{name: "blank lines in output", lang: "console",
		body: "$ cat f\n\na\n\nb\n\n\n$ ls\n",
		want: []stepWant{{1, "$ ", "cat f", "\na\n\nb", ""}, {8, "$ ", "ls", "", ""}}},
	{name: "text before the first prompt", lang: "",
		body: "Run this:\n\n$ ls\nx\n",
		want: []stepWant{{3, "$ ", "ls", "x", ""}}},
	{name: "block indented as a whole", lang: "console",
		body: "  $ ls\n  x\n    y\n",
		want: []stepWant{{1, "$ ", "ls", "x\n  y", ""}}},
	{name: "trailing blanks removed", lang: "console", dirty: true,
		body: "$ ls  \nx \t\n",
		want: []stepWant{{1, "$ ", "ls", "x", ""}}},
}

// The three renderings of a session body; each returns the document and
// the number of lines before the body.
func mdDoc(lang, body string) (string, int) {
	return "# Title\n\nSome text.\n\n```" + lang + "\n" + body + "```\n\nAfter.\n", 5
}

func rstDoc(lang, body string) (string, int) {
	var b strings.Builder
	for _, l := range strings.SplitAfter(body, "\n") {
		if strings.TrimSpace(l) != "" {
			b.WriteString("   ")
		}
		b.WriteString(l)
	}
	if lang == "" {
		return "Title\n=====\n\nSome text::\n\n" + b.String() + "\nAfter.\n", 5
	}
	return "Title\n=====\n\nSome text.\n\n.. code-block:: " + lang + "\n\n" + b.String() + "\nAfter.\n", 7
}

func htmlDoc(lang, body string) (string, int) {
	cls := ""
	if lang != "" {
		cls = ` class="highlight-` + lang + `"`
	}
	return "<html><body>\n<p>Some text.</p>\n<div" + cls + `><div class="highlight"><pre>` + html.EscapeString(body) + "</pre></div></div>\n<p>After.</p></body></html>\n", 2
}

type render struct {
	name string
	ext  string
	doc  func(lang, body string) (string, int)
}

var renders = []render{{"markdown", ".md", mdDoc}, {"rst", ".rst", rstDoc}, {"html", ".html", htmlDoc}}

// variants: the same document with CRLF line endings and with a BOM.
var variants = []struct {
	name string
	f    func(string) string
}{
	{"lf", func(s string) string { return s }},
	{"crlf", func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }},
	{"bom", func(s string) string { return "\ufeff" + s }},
}

func TestRules(t *testing.T) { runRuleCases(t, ruleCases) }

func runRuleCases(t *testing.T, cases []ruleCase) {
	for _, c := range cases {
		for _, r := range renders {
			for _, v := range variants {
				t.Run(c.name+"/"+r.name+"/"+v.name, func(t *testing.T) {
					src, off := r.doc(c.lang, c.body)
					src = v.f(src)
					want := c.want
					if r.name == "rst" && c.rst != nil {
						want = c.rst
					}
					doc, err := Parse("doc"+r.ext, []byte(src), Config{})
					if err != nil {
						t.Fatal(err)
					}
					checkSteps(t, doc, want, off)
					if r.name != "html" && !c.dirty && (r.name != "rst" || c.rst == nil) {
						checkRoundTrip(t, doc)
					}
				})
			}
		}
	}
}

func checkSteps(t *testing.T, doc *Document, want []stepWant, off int) {
	t.Helper()
	got := doc.Steps()
	var g, w []string
	for _, s := range got {
		g = append(g, fmt.Sprintf("%d %q %q root=%v %q [%s]", s.Line, s.Prompt, s.Command, s.Root, s.Expected, s.Options))
	}
	for _, s := range want {
		w = append(w, fmt.Sprintf("%d %q %q root=%v %q [%s]", s.line+off, s.prompt, s.command, isRoot(s.prompt), s.expected, s.opts))
	}
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("steps:\n got %s\nwant %s\nsource:\n%s", strings.Join(g, "\n    "), strings.Join(w, "\n    "), doc.Source)
	}
}

// checkRoundTrip writes every step's own expected output back in place:
// the source must come out unchanged, which is what update mode relies on.
func checkRoundTrip(t *testing.T, doc *Document) {
	t.Helper()
	out, err := rewrite(doc, func(s *Step) string { return s.Expected })
	if err != nil {
		t.Fatal(err)
	}
	if out != string(doc.Source) {
		t.Errorf("round trip changed the source:\n got %q\nwant %q", out, doc.Source)
	}
}

// rewrite replaces every step's output with text(step), as update mode will.
func rewrite(doc *Document, text func(*Step) string) (string, error) {
	var b strings.Builder
	pos := 0
	for _, s := range doc.Steps() {
		if !s.Editable {
			return "", fmt.Errorf("%s:%d: not editable", s.File, s.Line)
		}
		if s.OutputStart < pos || s.OutputEnd < s.OutputStart || s.OutputEnd > len(doc.Source) {
			return "", fmt.Errorf("%s:%d: bad output span %d..%d after %d", s.File, s.Line, s.OutputStart, s.OutputEnd, pos)
		}
		b.Write(doc.Source[pos:s.OutputStart])
		b.Write(doc.RenderOutput(s, text(s)))
		pos = s.OutputEnd
	}
	b.Write(doc.Source[pos:])
	return b.String(), nil
}
