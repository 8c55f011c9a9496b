package parser

import (
	"fmt"
	"html"
	"strings"
	"syscall"
	"testing"
	"time"
)

// article builds an article of about size bytes in the format of ext:
// sessions of every kind, close together, a little prose and code in
// other languages; it is far denser in sessions than real articles.
func article(ext string, size int) []byte { return articleWith(ext, size, 1) }

// articleWith is article with prose paragraphs between the sessions.
func articleWith(ext string, size, prose int) []byte {
	para := map[string]string{
		".md":   "Some *prose* with `code` and a [link](http://example.com), long\nenough to look like a paragraph of an article about shells.\n\n",
		".rst":  "Some *prose* with ``code`` and a `link <http://example.com>`_, long\nenough to look like a paragraph of an article about shells.\n\n",
		".html": "<p>Some <em>prose</em> with <code>code</code> and a <a href=\"http://example.com\">link</a>, long\nenough to look like a paragraph of an article about shells.</p>\n",
	}[ext]
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		b.WriteString(strings.Repeat(para, prose-1))
		c := ruleCases[i%len(ruleCases)]
		var doc string
		switch ext {
		case ".md":
			doc, _ = mdDoc(c.lang, c.body)
			doc += "Some *prose* with `code` and a [link](http://example.com), long enough to look like a paragraph.\n\n" +
				"- a list item\n- another one\n\n```python\nprint('not a session')\n```\n\n"
		case ".rst":
			doc, _ = rstDoc(c.lang, c.body)
			doc += "\nSome *prose* with ``code`` and a `link <http://example.com>`_, long enough to look like a paragraph.\n\n" +
				".. code-block:: python\n\n   print('not a session')\n\n"
		case ".html":
			doc = fmt.Sprintf(`<div class="highlight-%s"><div class="highlight"><pre>%s</pre></div></div>`, c.lang, html.EscapeString(c.body)) +
				"\n<p>Some <em>prose</em> with <code>code</code> and a <a href=\"http://example.com\">link</a>.</p>\n"
		}
		b.WriteString(doc)
	}
	if ext == ".html" {
		return []byte("<html><body>\n" + b.String() + "</body></html>\n")
	}
	return []byte(b.String())
}

func benchmarkParse(b *testing.B, ext string, prose int) {
	src := articleWith(ext, 10<<20, prose)
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		if _, err := Parse("bench"+ext, src, Config{}); err != nil {
			b.Fatal(err)
		}
	}
	// On a loaded machine the wall clock says little; CPU time (all
	// threads, garbage collection included) says more.
	c := (cpuTime() - cpu).Seconds() / float64(b.N)
	b.ReportMetric(float64(len(src))/1e6/c, "MB/cpu-s")
}

func BenchmarkMarkdown(b *testing.B) { benchmarkParse(b, ".md", 1) }
func BenchmarkRST(b *testing.B)      { benchmarkParse(b, ".rst", 1) }
func BenchmarkHTML(b *testing.B)     { benchmarkParse(b, ".html", 1) }

// The Prose benchmarks have ten paragraphs between sessions, more like a
// real article.
func BenchmarkMarkdownProse(b *testing.B) { benchmarkParse(b, ".md", 10) }
func BenchmarkRSTProse(b *testing.B)      { benchmarkParse(b, ".rst", 10) }
func BenchmarkHTMLProse(b *testing.B)     { benchmarkParse(b, ".html", 10) }

// TestLargeMarkdown guards against a slowdown on a 10 MB Markdown article;
// the benchmarks measure the speed. The bound is loose because test
// machines may be loaded, slow or running -race.
func TestLargeMarkdown(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	doc, c := parseCPU(t, "big.md", article(".md", 10<<20))
	if len(doc.Steps()) < 10000 {
		t.Errorf("only %d steps", len(doc.Steps()))
	}
	if c > 6*time.Second {
		t.Errorf("parsing 10 MB of Markdown took %v of CPU", c)
	}
}

// TestCraftedSlowInput keeps inputs built to make the command splitter
// re-parse long commands linear: a heredoc, a quote and a function that
// never end, each over 1 MB.
func TestCraftedSlowInput(t *testing.T) {
	for _, c := range []struct{ name, first, line string }{
		{"heredoc", "cat <<EOF", "x"},
		{"quote", `echo "open`, "$ y"},
		{"function", "f () {", "z"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := craftedBlock(t, "$ "+c.first+"\n", c.line+"\n")
			if _, cpu := parseCPU(t, "slow.md", src); cpu > 10*time.Second {
				t.Errorf("took %v of CPU", cpu)
			}
		})
	}
}

// craftedBlock is a console block of first and then line again and
// again, over 1 MB; it skips the test in -short mode.
func craftedBlock(t *testing.T, first, line string) []byte {
	if testing.Short() {
		t.Skip("large input")
	}
	n := (1<<20)/len(line) + 1
	return []byte("```console\n" + first + strings.Repeat(line, n) + "```\n")
}

// parseCPU parses src, logs what it found and returns it with the CPU
// time it took; an error fails the test.
func parseCPU(t *testing.T, name string, src []byte) (*Document, time.Duration) {
	t.Helper()
	start, cpu := time.Now(), cpuTime()
	doc, err := Parse(name, src, Config{})
	d, c := time.Since(start), cpuTime()-cpu
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bytes, %d steps in %v (%v CPU)", len(src), len(doc.Steps()), d, c)
	return doc, c
}

// cpuTime is the CPU time the process has used: unlike the wall clock, it
// does not grow when other processes load the machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
