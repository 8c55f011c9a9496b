package parser

import (
	"testing"
	"time"
)

// readerCases are sessions as published articles print them (issue 11):
// the prompt styles of real terminals, zsh's continuation prompts,
// authors' annotations and "#" lines in the output of root sessions. They
// run in the three formats like ruleCases; they are kept apart so that the
// benchmarks keep measuring the same input.
var readerCases = []ruleCase{
	// Prompts.
	{name: "debian host and path prompt", lang: "console",
		body: "missing:~$ echo hello\nhello\nweb-1:/etc# id -u\n0\n",
		want: []stepWant{{1, "missing:~$ ", "echo hello", "hello", ""}, {3, "web-1:/etc# ", "id -u", "0", ""}}},
	{name: "fedora prompts with irregular spacing", lang: "",
		body: "[root@rocky ~]# dnf -q install tree\n[root@Rocky ~ ] # ls\nanaconda-ks.cfg\n[ann@rocky tmp]$ pwd\n/tmp\n",
		want: []stepWant{{1, "[root@rocky ~]# ", "dnf -q install tree", "", ""}, {2, "[root@Rocky ~ ] # ", "ls", "anaconda-ks.cfg", ""}, {4, "[ann@rocky tmp]$ ", "pwd", "/tmp", ""}}},
	{name: "zsh and gentoo prompts", lang: "console",
		body: "ann@mbp ~ % echo $SHELL\n/bin/zsh\nann@mbp src # whoami\nroot\nann@gentoo ~ $ echo ok\nok\n",
		want: []stepWant{{1, "ann@mbp ~ % ", "echo $SHELL", "/bin/zsh", ""}, {3, "ann@mbp src # ", "whoami", "root", ""}, {5, "ann@gentoo ~ $ ", "echo ok", "ok", ""}}},
	{name: "shell name and version prompts", lang: "sh",
		body: "bash-5.2$ echo $0\nbash\nsh-4.4# id -u\n0\n",
		want: []stepWant{{1, "bash-5.2$ ", "echo $0", "bash", ""}, {3, "sh-4.4# ", "id -u", "0", ""}}},
	{name: "environment markers", lang: "console",
		body: "(base) ann@box:~/proj$ python -V\nPython 3.12.1\n(.venv) $ pip -V\npip 24.0\n(my-env) [ann@box proj]$ true\npi@raspberrypi:~ $ uname -m\naarch64\n",
		want: []stepWant{{1, "(base) ann@box:~/proj$ ", "python -V", "Python 3.12.1", ""}, {3, "(.venv) $ ", "pip -V", "pip 24.0", ""},
			{5, "(my-env) [ann@box proj]$ ", "true", "", ""}, {6, "pi@raspberrypi:~ $ ", "uname -m", "aarch64", ""}}},
	{name: "output that is no prompt", lang: "console", dirty: true,
		body: "$ ./report\nTotal: 5 $ \nNote: $ is a dollar\nhttp://example.org/$ \nann@box is here\nann@box: done\nbash-x$ y\n100% done\nfoo% bar\n",
		want: []stepWant{{1, "$ ", "./report", "Total: 5 $\nNote: $ is a dollar\nhttp://example.org/$\nann@box is here\nann@box: done\nbash-x$ y\n100% done\nfoo% bar", ""}}},

	// Continuation prompts.
	{name: "zsh continuation prompts", lang: "console",
		body: "% cat <<EOF > greeting\nheredoc> hello\nheredoc>\nheredoc> EOF\n% for f in a b; do\nfor> echo $f |\nfor pipe> tr a-z A-Z\nfor> done\nA\nB\n% echo \"one\ndquote> two\"\none\ntwo\n",
		want: []stepWant{{1, "% ", "cat <<EOF > greeting\nhello\n\nEOF", "", ""}, {5, "% ", "for f in a b; do\necho $f |\ntr a-z A-Z\ndone", "A\nB", ""}, {11, "% ", "echo \"one\ntwo\"", "one\ntwo", ""}}},
	{name: "continuation prompt words only while the command is open", lang: "console",
		body: "% echo 'if> x'\nif> x\n% true\n",
		want: []stepWant{{1, "% ", "echo 'if> x'", "if> x", ""}, {3, "% ", "true", "", ""}}},

	// Annotations.
	{name: "annotation before a prompt", lang: "console",
		body: "$ make\nok\n\n# now install it,\n# as root if need be\n$ make install\ndone\n",
		want: []stepWant{{1, "$ ", "make", "ok", ""}, {6, "$ ", "make install", "done", ""}}},
	{name: "annotation after a command without output", lang: "",
		body: "$ cd src\n\n# build\n$ make\n",
		want: []stepWant{{1, "$ ", "cd src", "", ""}, {4, "$ ", "make", "", ""}}},
	{name: "comment headings between commands", lang: "bash",
		body: "# clone it\n$ git clone -q https://example.org/x.git\n# then build\n$ make -s\n# not before a prompt\n",
		want: []stepWant{{2, "$ ", "git clone -q https://example.org/x.git", "", ""}, {4, "$ ", "make -s", "# not before a prompt", ""}}},
	{name: "hash lines in dollar output stay output", lang: "console",
		body: "$ cat a.conf\n# comment\nPort 22\n\n# Logging\nLogLevel INFO\n$ head -1 run.sh\n#!/bin/sh\n$ grep -c x f\n3\n",
		want: []stepWant{{1, "$ ", "cat a.conf", "# comment\nPort 22\n\n# Logging\nLogLevel INFO", ""}, {7, "$ ", "head -1 run.sh", "#!/bin/sh", ""}, {9, "$ ", "grep -c x f", "3", ""}}},
	{name: "exercise markers", lang: "console",
		body: "$ cat fruits.txt\napple\nbanana\n\n##### add your solution here\nbanana\n$ printf 'a\\n'\na\n\n# expected output\nA\n",
		want: []stepWant{{1, "$ ", "cat fruits.txt", "apple\nbanana", ""}, {7, "$ ", "printf 'a\\n'", "a", ""}}},

	// "#" lines in the output of root sessions.
	{name: "root session printing hash lines", lang: "console",
		body: "# cat trace\n# tracer: nop\n#\n#           TASK-PID   CPU#  TIMESTAMP  FUNCTION\n#              | |       |       |         |\n            bash-1234  [000]  100.0: sys_open\n# echo 0 > tracing_on\n",
		want: []stepWant{{1, "# ", "cat trace", "# tracer: nop\n#\n#           TASK-PID   CPU#  TIMESTAMP  FUNCTION\n#              | |       |       |         |\n            bash-1234  [000]  100.0: sys_open", ""},
			{7, "# ", "echo 0 > tracing_on", "", ""}}},
	{name: "root session with getfacl", lang: "",
		body: "# getfacl rsync/\n# file: rsync/\n# owner: root\n# group: root\nuser::rwx\nother::r-x\n\n# setfacl -m u:bob:r rsync/\n",
		want: []stepWant{{1, "# ", "getfacl rsync/", "# file: rsync/\n# owner: root\n# group: root\nuser::rwx\nother::r-x", ""}, {8, "# ", "setfacl -m u:bob:r rsync/", "", ""}}},
	{name: "a capital letter makes a bare hash line prose", lang: "",
		body: "# This file is managed by Puppet\nkey = value\n", want: nil},
	{name: "root session with prose comments", lang: "console",
		body: "# Update the lists first\n# apt update\nDone\n# LANG=C apt-cache policy tree | head -1\ntree:\n",
		want: []stepWant{{2, "# ", "apt update", "Done", ""}, {4, "# ", "LANG=C apt-cache policy tree | head -1", "tree:", ""}}},
	{name: "root session whose hash lines are commands", lang: "console",
		body: "# apt update\nDone\n# apt install tree\n# tree -L 1 /srv\n/srv\n#\n",
		want: []stepWant{{1, "# ", "apt update", "Done", ""}, {3, "# ", "apt install tree", "", ""}, {4, "# ", "tree -L 1 /srv", "/srv", ""}}},
	{name: "root session with a line bash rejects", lang: "console",
		body: "# cat notes\n# see ) here\nend\n# ls\n",
		want: []stepWant{{1, "# ", "cat notes", "# see ) here\nend", ""}, {4, "# ", "ls", "", ""}}},
	{name: "root session: a command right after hash output is output too", lang: "console",
		body: "# cat notes\n# see ) here\n# ls\n",
		want: []stepWant{{1, "# ", "cat notes", "# see ) here\n# ls", ""}}},
}

func TestReaderRules(t *testing.T) { runRuleCases(t, readerCases) }

func TestReaderMarkdown(t *testing.T) {
	runBlockCases(t, []blockCase{
		// Info strings.
		{"mdbook attributes after a comma", "a.md", "```shell,hidelines=#\n$ ls\nx\n```\n", []stepWant{{2, "$ ", "ls", "x", ""}}},
		{"rustdoc attributes", "a.md", "```console,no_run\n# id -u\n0\n```\n", []stepWant{{2, "# ", "id -u", "0", ""}}},
		{"pandoc class", "a.md", "``` {.console}\n# id -u\n0\n```\n", []stepWant{{2, "# ", "id -u", "0", ""}}},
		{"pandoc classes and id", "a.md", "```{#run .bash .numberLines startFrom=\"3\"}\n# a comment\n$ ls\n```\n", []stepWant{{3, "$ ", "ls", "", ""}}},
		{"title attribute", "a.md", "```console title=\"Install\"\n# id -u\n0\n```\n", []stepWant{{2, "# ", "id -u", "0", ""}}},
		{"pandoc python is no session", "a.md", "```{.python}\n$ ls\n```\n", nil},
		{"mistyped tag is no session", "a.md", "```consle\n$ ls\n```\n", nil},
		{"myst code-block", "a.md", "```{code-block} console\n:caption: x\n# id -u\n0\n```\n", []stepWant{{3, "# ", "id -u", "0", ""}}},
		{"myst note is no session", "a.md", "```{note}\n$ ls\n```\n", nil},
		{"myst prompt by options", "a.md", "```{prompt}\n:language: bash\n:prompts: #\n\napt update\n```\n", []stepWant{{5, "# ", "apt update", "", "ignore-output"}}},
		{"myst prompt auto", "a.md", "```{prompt} bash $ auto\n$ ls\nx\n```\n", []stepWant{{2, "$ ", "ls", "x", ""}}},

		// Containers.
		{"fence four spaces into a numbered item", "a.md", "1. Build:\n\n    ```console\n    $ make\n    ok\n    ```\n\n2. Next.\n",
			[]stepWant{{4, "$ ", "make", "ok", ""}}},
		{"fence nested two lists deep", "a.md", "- Install\n  - on Debian:\n\n    ```console\n    # apt install tree\n    ```\n  - elsewhere\n",
			[]stepWant{{5, "# ", "apt install tree", "", ""}}},
		{"fence indented like python-markdown", "a.md", "* Run it:\n\n        ```console\n        $ make\n        ok\n        ```\n\n* Done.\n",
			[]stepWant{{4, "$ ", "make", "ok", ""}}},
		{"indented fence without close", "a.md", "Text.\n\n    ~~~console\n    $ ls\n    x\n",
			[]stepWant{{4, "$ ", "ls", "x", ""}}},
		{"admonition body with a fence", "a.md", "!!! note \"Check\"\n\n    Run it:\n\n    ```console\n    $ make check\n    ok\n    ```\n\n    ```text\n    $ true\n    ```\n",
			[]stepWant{{6, "$ ", "make check", "ok", ""}, {11, "$ ", "true", "", ""}}},
		{"indented python fence is no session", "a.md", "Text.\n\n    ```python\n    $ ls\n    ```\n", nil},
		{"definition list", "a.md", "Install\n:   Run this:\n\n    ```console\n    $ make install\n    done\n    ```\n\nUse\n:   Then:\n\n        $ tool\n        ok\n",
			[]stepWant{{5, "$ ", "make install", "done", ""}, {12, "$ ", "tool", "ok", ""}}},
	})
}

func TestReaderRST(t *testing.T) {
	runBlockCases(t, []blockCase{
		{"prompt auto", "a.rst", ".. prompt:: bash $ auto\n\n   $ ls\n   x\n   $ pwd\n   /srv\n\nText.\n",
			[]stepWant{{3, "$ ", "ls", "x", ""}, {5, "$ ", "pwd", "/srv", ""}}},
		{"prompt auto with several prompts", "a.rst", ".. prompt:: bash $,# auto\n\n   $ sudo -i\n   # id -u\n   0\n   # exit\n",
			[]stepWant{{3, "$ ", "sudo -i", "", ""}, {4, "# ", "id -u", "0", ""}, {6, "# ", "exit", "", ""}}},
		{"prompt auto by options", "a.rst", ".. prompt::\n   :language: bash\n   :prompts: (env) $\n   :modifiers: auto\n\n   (env) $ pip -V\n   pip 24.0\n",
			[]stepWant{{6, "(env) $ ", "pip -V", "pip 24.0", ""}}},
		{"prompt without auto", "a.rst", ".. prompt:: bash $\n\n   cd /srv\n   ./configure \\\n      --prefix=/usr\n\n   make\n",
			[]stepWant{{3, "$ ", "cd /srv", "", "ignore-output"}, {4, "$ ", "./configure \\\n   --prefix=/usr", "", "ignore-output"}, {7, "$ ", "make", "", "ignore-output"}}},
		{"prompt root without auto", "a.rst", ".. prompt:: bash #\n\n   apt install tree\n", []stepWant{{3, "# ", "apt install tree", "", "ignore-output"}}},
		{"prompt default language is bash", "a.rst", ".. prompt:: bash\n\n   ls\n", []stepWant{{3, "$ ", "ls", "", "ignore-output"}}},
		{"prompt python is no session", "a.rst", ".. prompt:: python >>>\n\n   print(1)\n", nil},
		{"prompt text without prompt is no session", "a.rst", ".. prompt::\n\n   $ ls\n", nil},
		{"highlight bash makes hash lines comments", "a.rst", ".. highlight:: bash\n\nRun::\n\n   # as root\n   $ ls\n\n.. highlight:: python\n\nThen::\n\n   # id -u\n   0\n",
			[]stepWant{{6, "$ ", "ls", "", ""}, {12, "# ", "id -u", "0", ""}}},
		{"parsed-literal", "a.rst", ".. parsed-literal::\n\n   $ pip install larkspur==2.4\n   $ larkspur --version\n   larkspur 2.4\n",
			[]stepWant{{3, "$ ", "pip install larkspur==2.4", "", ""}, {4, "$ ", "larkspur --version", "larkspur 2.4", ""}}},
		{"tabs after the indentation stay", "a.rst", "::\n\n    $ printf 'a\\tb\\n'\n    a\tb\n     x\ty\n", []stepWant{{3, "$ ", "printf 'a\\tb\\n'", "a\tb\n x\ty", ""}}},
	})
	doc, err := Parse("a.rst", []byte(".. prompt:: bash $\n\n   ls\n"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if s := doc.Steps()[0]; s.Origin != OriginPromptDirective || s.Editable {
		t.Errorf("origin %q, editable %v", s.Origin, s.Editable)
	}
}

func TestReaderHTML(t *testing.T) {
	runBlockCases(t, []blockCase{
		{"asciidoctor", "a.html", `<div class="listingblock"><div class="content"><pre class="highlight"><code class="language-console" data-lang="console"># id -u <b class="conum">(1)</b>
0</code></pre></div></div>`, []stepWant{{1, "# ", "id -u", "0", ""}}},
		{"asciidoctor with rouge", "a.html", `<div class="listingblock"><div class="content"><pre class="rouge highlight"><code data-lang="console"><span class="gp"># </span>id <span class="nt">-u</span>
0 <i class="conum" data-value="1"></i><b>(1)</b></code></pre></div></div>`, []stepWant{{1, "# ", "id -u", "0", ""}}},
		{"mdbook", "a.html", "<pre><code class=\"language-console hljs\"># id -u\n0\n</code></pre>", []stepWant{{1, "# ", "id -u", "0", ""}}},
		{"mdbook attributes", "a.html", "<pre><code class=\"language-shell,hidelines=#\"># a comment\n$ ls\n</code></pre>", []stepWant{{2, "$ ", "ls", "", ""}}},
		{"pandoc", "a.html", `<div class="sourceCode" id="cb1"><pre class="sourceCode console"><code class="sourceCode console"><span id="cb1-1"><a href="#cb1-1" aria-hidden="true" tabindex="-1"></a># id -u</span>
<span id="cb1-2"><a href="#cb1-2" aria-hidden="true" tabindex="-1"></a>0</span></code></pre></div>`, []stepWant{{1, "# ", "id -u", "0", ""}}},
		{"pandoc without highlighting", "a.html", "<pre class=\"console\"><code># id -u\n0</code></pre>", []stepWant{{1, "# ", "id -u", "0", ""}}},
		{"zola", "a.html", `<pre data-lang="console" style="background-color:#2b303b;" class="language-console "><code class="language-console" data-lang="console"><span style="color:#c0c5ce;"># id -u
</span><span style="color:#c0c5ce;">0
</span></code></pre>`, []stepWant{{1, "# ", "id -u", "0", ""}}},
		{"zola line numbers", "a.html", `<pre data-linenos data-lang="console" class="language-console "><code class="language-console" data-lang="console"><table><tbody><tr><td>1</td><td><span>$ ls
</span></td></tr><tr><td>2</td><td><span>x
</span></td></tr></tbody></table></code></pre>`, []stepWant{{1, "$ ", "ls", "x", ""}}},
		{"hugo line numbers", "a.html", `<div class="highlight"><pre tabindex="0" class="chroma"><code class="language-console" data-lang="console"><span class="line"><span class="ln">1</span><span class="cl"># id -u
</span></span><span class="line"><span class="ln">2</span><span class="cl">0
</span></span></code></pre></div>`, []stepWant{{1, "# ", "id -u", "0", ""}}},
		{"astro data-language", "a.html", "<pre class=\"astro-code\" data-language=\"console\"><code># id -u\n0</code></pre>", []stepWant{{1, "# ", "id -u", "0", ""}}},
		{"vitepress wrapper", "a.html", "<div class=\"language-sh vp-adaptive-theme\"><button title=\"Copy Code\" class=\"copy\"></button><span class=\"lang\">sh</span><pre class=\"shiki\"><code><span class=\"line\"># a comment</span>\n<span class=\"line\">$ ls</span></code></pre></div>", []stepWant{{2, "$ ", "ls", "", ""}}},
		{"jekyll", "a.html", `<div class="language-bash highlighter-rouge"><div class="highlight"><pre class="highlight"><code><span class="c"># a comment</span>
<span class="nv">$ </span>ls
</code></pre></div></div>`, []stepWant{{2, "$ ", "ls", "", ""}}},
		{"jekyll script keeps hash comments", "a.html", `<div class="language-bash highlighter-rouge"><div class="highlight"><pre class="highlight"><code># install
apt-get install tree
</code></pre></div></div>`, nil},
		{"mkdocs material", "a.html", `<div class="language-console highlight"><pre><span></span><code><span id="__span-0-1"><a id="__codelineno-0-1" name="__codelineno-0-1" href="#__codelineno-0-1"></a><span class="gp"># </span>id -u
</span><span id="__span-0-2"><a id="__codelineno-0-2" name="__codelineno-0-2" href="#__codelineno-0-2"></a><span class="go">0</span>
</span></code></pre></div>`, []stepWant{{1, "# ", "id -u", "0", ""}}},
		{"body language is a human one", "a.html", "<body class=\"lang-en\"><main><div><pre># id -u\n0</pre></div></main></body>", []stepWant{{1, "# ", "id -u", "0", ""}}},
		{"sphinx console", "a.html", `<div class="highlight-console notranslate"><div class="highlight"><pre><span></span><span class="gp">[root@box ~]# </span>id<span class="w"> </span>-u
<span class="go">0</span>
</pre></div></div>`, []stepWant{{1, "[root@box ~]# ", "id -u", "0", ""}}},
		{"sphinx-prompt auto", "a.html", `<div class="highlight-default notranslate"><div class="highlight"><pre><style type="text/css">
span.prompt1:before {
  content: "$ ";
}
</style><span class="prompt1">ls
x</span>
<span class="prompt1">pwd
/srv</span>
</pre></div></div>`, []stepWant{{5, "$ ", "ls", "x", ""}, {7, "$ ", "pwd", "/srv", ""}}},
		{"early sphinx-prompt", "a.html", "<pre>\n<style type=\"text/css\" scoped>\nspan:before {\n  content: \"# \";\n}\n</style>\n<span>cd /srv</span>\n<span>ls</span>\n</pre><pre><span>not a prompt</span></pre>",
			[]stepWant{{7, "# ", "cd /srv", "", ""}, {8, "# ", "ls", "", ""}}},
		{"lone carriage returns and newline entities", "a.html", "<pre>\r# id -u\r0&#10;# pwd\n/</pre>", []stepWant{{1, "# ", "id -u", "0", ""}, {1, "# ", "pwd", "/", ""}}},
		{"css prompt on a class", "a.html", "<style>\n.prompt::before { content: \"$ \" }\npre .x::before{content:\"% \"}</style><pre><span class=\"prompt\">ls</span>\n<span class=\"x\">id -u</span>\n</pre>",
			[]stepWant{{3, "$ ", "ls", "", ""}, {4, "% ", "id -u", "", ""}}},
		{"sphinx-prompt style in an earlier block", "a.html", `<pre><style type="text/css">span.prompt2:before { content: "# "; }</style><span class="prompt2">apt install tree</span>
</pre><p>Then</p><div class="highlight-default notranslate"><div class="highlight"><pre><span class="prompt2">tree</span>
</pre></div></div>`, []stepWant{{1, "# ", "apt install tree", "", ""}, {2, "# ", "tree", "", ""}}},
	})
}

// TestCraftedRootRuns keeps a root block made of one long run of "#"
// commands linear: each run is judged once, not once per step. Like
// TestCraftedSlowInput, the bound is loose CPU time.
func TestCraftedRootRuns(t *testing.T) {
	doc, c := parseCPU(t, "runs.md", craftedBlock(t, "# cat x\n", "# a; b\n"))
	if len(doc.Steps()) < 100000 {
		t.Errorf("%d steps", len(doc.Steps()))
	}
	if c > 10*time.Second {
		t.Errorf("took %v of CPU", c)
	}
}
