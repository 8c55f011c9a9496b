package parser

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// blockCase checks how one format finds blocks; want lines are absolute.
type blockCase struct {
	name string
	file string
	src  string
	want []stepWant
}

func runBlockCases(t *testing.T, cases []blockCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := Parse(c.file, []byte(c.src), Config{})
			if err != nil {
				t.Fatal(err)
			}
			checkSteps(t, doc, c.want, 0)
			// Without a final newline, writing the output back adds one.
			editable := true
			for _, s := range doc.Steps() {
				editable = editable && s.Editable
			}
			if doc.Format != HTML && editable && strings.HasSuffix(c.src, "\n") {
				checkRoundTrip(t, doc)
			}
		})
	}
}

func TestMarkdownBlocks(t *testing.T) {
	runBlockCases(t, []blockCase{
		{"tilde fence", "a.md", "~~~console\n$ ls\nx\n~~~\n", []stepWant{{2, "$ ", "ls", "x", ""}}},
		{"info string with attributes", "a.md", "```console title=\"x\"\n$ ls\nx\n```\n", []stepWant{{2, "$ ", "ls", "x", ""}}},
		{"indented block", "a.md", "Text:\n\n    $ ls\n    x\n\nMore.\n", []stepWant{{3, "$ ", "ls", "x", ""}}},
		{"fence in list item", "a.md", "1. First:\n\n   ```sh\n   $ for i in 1 2; do\n   >   echo $i\n   > done\n   1\n\n   2\n   ```\n2. Then.\n",
			[]stepWant{{4, "$ ", "for i in 1 2; do\n  echo $i\ndone", "1\n\n2", ""}}},
		{"fence in blockquote", "a.md", "> Note:\n>\n> ```console\n> $ echo a\n> a\n>\n> b\n> $ true\n> ```\n",
			[]stepWant{{4, "$ ", "echo a", "a\n\nb", ""}, {8, "$ ", "true", "", ""}}},
		{"fence in list in blockquote", "a.md", "> - item\n>\n>   ```console\n>   # id -u\n>   0\n>   ```\n",
			[]stepWant{{4, "# ", "id -u", "0", ""}}},
		{"other language is no session", "a.md", "```python\n$ ls\n```\n", nil},
		{"script without prompts is no session", "a.md", "```bash\n# install\napt-get install x\n```\n", nil},
		{"text block with prompts", "a.md", "```text\n$ ls\nx\n```\n", []stepWant{{2, "$ ", "ls", "x", ""}}},
		{"block directive", "a.md", "<!-- wordish: skip status=any -->\n```console\n$ ls\n$ rm x # wordish: status=0 cleanup\n```\n",
			[]stepWant{{3, "$ ", "ls", "", "skip status=any"}, {4, "$ ", "rm x # wordish: status=0 cleanup", "", "skip cleanup"}}},
		{"block directive over lines", "a.md", "<!--\n  wordish: timeout=2m\n-->\n\n```console\n$ make\n```\n",
			[]stepWant{{6, "$ ", "make", "", "timeout=2m0s"}}},
		{"other comments are no directive", "a.md", "<!-- hello -->\n```console\n$ ls\n```\n", []stepWant{{3, "$ ", "ls", "", ""}}},
		{"directive only for the next block", "a.md", "<!-- wordish: skip -->\n```console\n$ a\n```\n\n```console\n$ b\n```\n",
			[]stepWant{{3, "$ ", "a", "", "skip"}, {7, "$ ", "b", "", ""}}},
		{"unclosed fence", "a.md", "```console\n$ ls\nx\n", []stepWant{{2, "$ ", "ls", "x", ""}}},
		{"unclosed fence without newline", "a.md", "```console\n$ ls\nx", []stepWant{{2, "$ ", "ls", "x", ""}}},
		{"no output at the end", "a.md", "```console\n$ ls\n```", []stepWant{{2, "$ ", "ls", "", ""}}},
	})
}

func TestRSTBlocks(t *testing.T) {
	runBlockCases(t, []blockCase{
		{"sourcecode", "a.rst", ".. sourcecode:: sh\n\n   ~# ls\n   x\n\nText.\n", []stepWant{{3, "~# ", "ls", "x", ""}}},
		{"code", "a.rst", ".. code:: console\n\n    $ ls\n    x\n", []stepWant{{3, "$ ", "ls", "x", ""}}},
		{"code-block without language", "a.rst", ".. code-block::\n\n  $ ls\n", []stepWant{{3, "$ ", "ls", "", ""}}},
		{"linenos and other options", "a.rst", ".. code-block:: console\n   :linenos:\n   :emphasize-lines: 2\n   :caption: A session\n\n   $ ls\n   x\n",
			[]stepWant{{6, "$ ", "ls", "x", ""}}},
		{"paragraph literal", "a.rst", "Run this::\n\n    $ ls\n    x\n\nDone.\n", []stepWant{{3, "$ ", "ls", "x", ""}}},
		{"expanded paragraph literal", "a.rst", "Run this ::\n\n    $ ls\n", []stepWant{{3, "$ ", "ls", "", ""}}},
		{"lone literal marker", "a.rst", "Text.\n\n::\n\n  $ ls\n  x\n", []stepWant{{5, "$ ", "ls", "x", ""}}},
		{"literal without prompts", "a.rst", "Like this::\n\n   id=1\n", nil},
		{"python is no session", "a.rst", ".. code-block:: python\n\n   $ ls\n", nil},
		{"note is no literal block", "a.rst", ".. note::\n\n   $ ls\n", nil},
		{"code block in a note", "a.rst", ".. note::\n\n   Text.\n\n   .. code-block:: console\n\n      $ ls\n      x\n\n   More.\n", []stepWant{{7, "$ ", "ls", "x", ""}}},
		{"block directive", "a.rst", ".. wordish: skip regex\n\n.. code-block:: console\n\n   $ ls\n", []stepWant{{5, "$ ", "ls", "", "skip regex"}}},
		{"blank lines and whitespace lines", "a.rst", ".. code-block:: console\n\n   $ ls\n   a\n\n   b\n \n\n   $ pwd\n", []stepWant{{3, "$ ", "ls", "a\n\nb", ""}, {9, "$ ", "pwd", "", ""}}},
		{"block ends at dedent", "a.rst", "::\n\n   $ ls\n   x\nText.\n", []stepWant{{3, "$ ", "ls", "x", ""}}},
		{"tabs expanded", "a.rst", ".. code-block:: console\n\n\t$ f () {\n\t\ttrue; }\n", []stepWant{{3, "$ ", "f () {\n        true; }", "", ""}}},
		{"unclosed heredoc at the end", "a.rst", "::\n\n   $ cat <<EOF\n   x", []stepWant{{3, "$ ", "cat <<EOF\nx", "", ""}}},
	})
}

func TestHTMLBlocks(t *testing.T) {
	sphinx := `<div class="highlight-console notranslate"><div class="highlight"><pre><span></span><span class="gp">$ </span><span class="nb">echo</span> <span class="s2">&quot;a &lt; b &gt; c &amp; d&quot;</span>
<span class="go">a &lt; b &gt; c &amp; d</span>
<span class="gp">$ </span><span class="k">if</span> <span class="nb">true</span><span class="p">;</span> <span class="k">then</span>
<span class="go">&gt; </span>  <span class="nb">echo</span> yes
<span class="go">&gt; </span><span class="k">fi</span>
<span class="go">yes</span>
</pre></div>
</div>
`
	runBlockCases(t, []blockCase{
		{"sphinx pygments spans and entities", "a.html", "<p>x</p>\n" + sphinx, []stepWant{
			{2, "$ ", `echo "a < b > c & d"`, "a < b > c & d", ""},
			{4, "$ ", "if true; then\n  echo yes\nfi", "yes", ""}}},
		{"br as newline", "a.html", "<pre>$ ls<br>a<br/>b</pre>", []stepWant{{1, "$ ", "ls", "a\nb", ""}}},
		{"newline after pre dropped", "a.html", "<pre>\n$ ls\nx\n</pre>", []stepWant{{2, "$ ", "ls", "x", ""}}},
		{"github markup", "a.html", "<div class=\"highlight highlight-source-shell\"><pre>\n$ ls\n<span class=\"pl-c\"><span class=\"pl-c\">#</span> not a prompt</span>\n</pre></div>",
			[]stepWant{{2, "$ ", "ls", "# not a prompt", ""}}},
		{"code language class", "a.html", "<pre><code class=\"language-console hljs\"># id -u\n0\n</code></pre>", []stepWant{{1, "# ", "id -u", "0", ""}}},
		{"script language keeps hash comments", "a.html", "<pre><code class=\"language-bash\"># id -u\n0\n</code></pre>", nil},
		{"sphinx line numbers", "a.html", "<div class=\"highlight-console\"><pre><span class=\"linenos\">1</span>$ ls\n<span class=\"linenos\">2</span>x\n</pre></div>",
			[]stepWant{{1, "$ ", "ls", "x", ""}}},
		{"line numbers table", "a.html", "<table><tr><td class=\"linenos\"><div class=\"linenodiv\"><pre>1\n2</pre></div></td><td class=\"code\"><div class=\"highlight\"><pre>$ ls\nx\n</pre></div></td></tr></table>",
			[]stepWant{{2, "$ ", "ls", "x", ""}}},
		{"multi-line tag", "a.html", "<pre><span\nclass=\"gp\">$ </span>ls\nx</pre>", []stepWant{{2, "$ ", "ls", "x", ""}}},
		{"entity-encoded prompt", "a.html", "<pre>&#36; ls\n</pre>", []stepWant{{1, "$ ", "ls", "", ""}}},
		{"truncated html", "a.html", "<pre>$ ls\nx\n<span>y", []stepWant{{1, "$ ", "ls", "x\ny", ""}}},
		{"pre the tree drops", "a.html", "<frameset><pre># comment\n</pre></frameset><pre>$ ls</pre><pre class=\"language-console\"># id</pre>", []stepWant{{2, "$ ", "ls", "", ""}}},
		{"block directive comment", "a.html", "<!-- wordish: cleanup -->\n<div class=\"highlight\"><pre>$ ls\n</pre></div><pre>$ pwd</pre>",
			[]stepWant{{2, "$ ", "ls", "", "cleanup"}, {3, "$ ", "pwd", "", ""}}},
		{"block directive with prose after it is not for the block", "a.html", "<!-- wordish: skip -->\n<p>text</p><pre>$ ls</pre>",
			[]stepWant{{2, "$ ", "ls", "", ""}}},
		{"pre in textarea is text", "a.html", "<textarea><pre>$ ls</pre></textarea><pre>$ pwd</pre>", []stepWant{{1, "$ ", "pwd", "", ""}}},
	})
	doc, err := Parse("a.html", []byte("<pre>$ ls\n</pre>"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if s := doc.Steps()[0]; s.Editable {
		t.Errorf("HTML step is editable")
	}
}

func TestCustomPrompts(t *testing.T) {
	src := "```\nmysql> SELECT 1;\n1\nadmin# show run\nok\n```\n"
	doc, err := Parse("a.md", []byte(src), Config{Prompts: []string{"mysql> ", "admin# "}})
	if err != nil {
		t.Fatal(err)
	}
	checkSteps(t, doc, []stepWant{{2, "mysql> ", "SELECT 1;", "1", ""}, {4, "admin# ", "show run", "ok", ""}}, 0)
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.md")
	for _, c := range []struct {
		name, path, src string
		cfg             Config
		want            string
	}{
		{"unknown extension", "a.doc", "x", Config{}, `a.doc: unknown file type ".doc"; use --format ` + FormatNames()},
		{"invalid utf-8", "a.md", "ok\n\xff\n", Config{}, "a.md:2: invalid UTF-8"},
		{"unknown option md", "a.md", "text\n\n<!-- wordish: skip frobnicate -->\n```console\n$ ls\n```\n", Config{}, `a.md:3: unknown option "frobnicate"`},
		{"unknown option rst", "a.rst", "text\n\n.. wordish: bogus\n", Config{}, `a.rst:3: unknown option "bogus"`},
		{"unknown command option", "a.md", "```console\n$ ls\n$ for i in 1; do\n>   echo $i # wordish: status=x\n> done\n```\n", Config{}, `a.md:4: bad status "x": want 0-255, nonzero or any`},
		{"unknown block option html", "a.html", "<p>x</p>\n<!-- wordish: sikp -->\n<pre>$ ls</pre>", Config{}, `a.html:2: unknown option "sikp"`},
		{"merged stderr md", "a.md", "x\n\n<!-- wordish: merged stderr -->\n```console\n$ ls\n```\n", Config{}, `a.md:3: ` + `options "merged" and "stderr" conflict: merged shows standard error in the output, stderr compares standard error alone`},
		{"merged stderr rst", "a.rst", "x\n\n.. wordish: stderr merged\n", Config{}, `a.rst:3: ` + `options "merged" and "stderr" conflict: merged shows standard error in the output, stderr compares standard error alone`},
		{"block stderr command merged", "a.md", "<!-- wordish: stderr -->\n```console\n$ ls\n$ ls # wordish: merged\n```\n", Config{}, `a.md:4: ` + `options "merged" and "stderr" conflict: merged shows standard error in the output, stderr compares standard error alone`},
		{"block merged command stderr html", "a.html", "<!-- wordish: merged -->\n<pre>$ ls\n$ ls # wordish: stderr</pre>", Config{}, `a.html:3: ` + `options "merged" and "stderr" conflict: merged shows standard error in the output, stderr compares standard error alone`},
		{"unknown command option html", "a.html", "<p>\n</p><pre>$ ls # wordish: timeout=soon</pre>", Config{}, `a.html:2: bad timeout "soon": want a positive duration like 30s or 2m`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.path, []byte(c.src), c.cfg)
			var pe *Error
			if !errors.As(err, &pe) || err.Error() != c.want {
				t.Errorf("got %v, want %s", err, c.want)
			}
		})
	}
	_, err := ParseFile(missing, Config{})
	if err == nil || err.Error() != missing+": no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("::\n\n  $ ls\n"), 0o644)
	doc, err := ParseFile(filepath.Join(dir, "a.txt"), Config{})
	if err != nil || doc.Format != RST || len(doc.Steps()) != 1 {
		t.Errorf(".txt as reST: %v %v", doc, err)
	}
	doc, err = Parse("a.weird", []byte("<pre>$ ls</pre>"), Config{Format: HTML})
	if err != nil || len(doc.Steps()) != 1 {
		t.Errorf("format override: %v %v", doc, err)
	}
}

func TestFormats(t *testing.T) {
	for in, want := range map[string]Format{"a.md": Markdown, "b.MARKDOWN": Markdown, "c.rst": RST, "d.rest": RST, "e.txt": RST, "f.html": HTML, "g.htm": HTML, "h.XHTML": HTML, "i.mkd": Markdown} {
		if f, err := FormatOf(in); f != want || err != nil {
			t.Errorf("FormatOf(%q) = %q, %v", in, f, err)
		}
	}
	for in, want := range map[string]Format{"markdown": Markdown, "md": Markdown, ".md": Markdown, "rst": RST, "ReStructuredText": RST, "rest": RST, "html": HTML, "htm": HTML} {
		if f, err := ParseFormat(in); f != want || err != nil {
			t.Errorf("ParseFormat(%q) = %q, %v", in, f, err)
		}
	}
	if _, err := ParseFormat("pdf"); err == nil || err.Error() != `unknown format "pdf": want `+FormatNames() {
		t.Errorf("ParseFormat(pdf): %v", err)
	}
	for _, f := range formats {
		if readerOf(f.name) == nil {
			t.Errorf("format %s has no reader", f.name)
		}
	}
	if n := FormatNames(); n != "markdown, rst or html" {
		t.Errorf("FormatNames() = %q", n)
	}
}

// TestFixtures parses the fixtures in testdata and writes every step's
// own output back in place, which must give the file unchanged.
func TestFixtures(t *testing.T) {
	for file, n := range map[string]int{"session.md": 12, "session.rst": 12, "session.html": 8} {
		doc, err := ParseFile(filepath.Join("testdata", file), Config{})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(doc.Steps()); got != n {
			t.Errorf("%s: %d steps, want %d", file, got, n)
		}
		if doc.Format == HTML {
			continue
		}
		checkRoundTrip(t, doc)
		// A new output for every step lands where the old one was.
		out, err := rewrite(doc, func(s *Step) string { return "NEW " + s.Command })
		if err != nil {
			t.Fatal(err)
		}
		doc2, err := Parse(file, []byte(out), Config{})
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range doc2.Steps() {
			if want := "NEW " + doc.Steps()[i].Command; s.Expected != want {
				t.Errorf("%s:%d: rewritten output %q, want %q", file, s.Line, s.Expected, want)
			}
		}
	}
}
