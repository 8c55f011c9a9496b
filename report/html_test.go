package report

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite report/testdata/html/*.golden.html")

// replayForHTML replays the fixture articles for real and sets every
// duration to a fixed value, so that the page can be compared with a
// golden file.
func replayForHTML(t *testing.T, paths ...string) []*runner.DocResult {
	t.Helper()
	var docs []*runner.DocResult
	for _, p := range paths {
		doc, err := parser.ParseFile(p, parser.Config{})
		if err != nil {
			t.Fatal(err)
		}
		res := runner.Run(context.Background(), doc, runner.Options{Timeout: 10 * time.Second}, nopReporter{})
		res.Duration = 1500 * time.Millisecond
		for _, s := range res.Steps {
			s.Duration = 1200 * time.Microsecond
		}
		docs = append(docs, res)
	}
	return docs
}

func TestHTMLGolden(t *testing.T) {
	docs := replayForHTML(t, "testdata/html/outcomes.md", "testdata/html/plain.rst", "testdata/html/page.html")
	docs = append(docs, &runner.DocResult{Path: "testdata/html/missing.md", Err: errors.New("testdata/html/missing.md: open: no such file or directory")})
	var buf bytes.Buffer
	if err := writeHTML(&buf, docs); err != nil {
		t.Fatal(err)
	}
	golden := "testdata/html/report.golden.html"
	if *updateGolden {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./runner -run HTMLGolden -update-golden)", err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("the page differs from %s (rerun with -update-golden and read the diff):\n%s",
			golden, runner.UnifiedDiff(strings.Split(string(want), "\n"), strings.Split(got, "\n"), nil))
	}
}

// TestHTMLVerdicts reads the page as a browser would (goquery) and checks
// every step's verdict, the anchors, the summary's links and the diff.
func TestHTMLVerdicts(t *testing.T) {
	docs := replayForHTML(t, "testdata/html/outcomes.md")
	var buf bytes.Buffer
	if err := writeHTML(&buf, docs); err != nil {
		t.Fatal(err)
	}
	page, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{ // line → verdict
		7: "passed", 8: "passed", 10: "passed",
		18: "failed", 22: "failed",
		28: "skipped",
		35: "errored", 37: "not run",
		43: "passed",
	}
	got := map[string]string{}
	page.Find("section.step").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("id")
		got[id] = s.AttrOr("data-outcome", "") + "/" + s.Find(".verdict").Text()
	})
	if len(got) != len(want) {
		t.Errorf("%d steps on the page, want %d: %v", len(got), len(want), got)
	}
	for line, v := range want {
		id := "testdata/html/outcomes.md-L" + strconv.Itoa(line)
		if got[id] != v+"/"+v {
			t.Errorf("step %s: verdict %q, want %q", id, got[id], v)
		}
	}
	// The summary links to each failed and errored step, in order.
	var links []string
	page.Find("ul.problems a").Each(func(_ int, a *goquery.Selection) {
		links = append(links, a.AttrOr("href", ""))
	})
	wantLinks := []string{"#testdata/html/outcomes.md-L18", "#testdata/html/outcomes.md-L22", "#testdata/html/outcomes.md-L35"}
	if strings.Join(links, " ") != strings.Join(wantLinks, " ") {
		t.Errorf("summary links %v, want %v", links, wantLinks)
	}
	if s := page.Find(".totals").Text(); !strings.HasPrefix(s, "4 passed, 2 failed, 1 errored, 1 skipped, 1 not run") {
		t.Errorf("totals %q", s)
	}
	fail := page.Find(`section[id="testdata/html/outcomes.md-L18"]`)
	if d := fail.Find(".diff .del").Text(); d != "-2 <b>" {
		t.Errorf("removed diff line %q, want %q", d, "-2 <b>")
	}
	if d := fail.Find(".diff .add").Text(); d != "+two <b>" {
		t.Errorf("added diff line %q, want %q", d, "+two <b>")
	}
	if a := fail.Find("pre.actual").Text(); a != "one\ntwo <b>\nthree" {
		t.Errorf("actual %q", a)
	}
	if e := page.Find(`section[id="testdata/html/outcomes.md-L35"] .reason`).Text(); !strings.Contains(e, "exit status 2, expected 0") {
		t.Errorf("error reason %q", e)
	}
	// Markdown prose is rendered, and the blocks that are sessions are not
	// shown twice.
	if page.Find(".prose strong").Text() != "bold" {
		t.Error("Markdown prose not rendered")
	}
	if n := page.Find(".prose pre:not(.raw)").Length(); n != 0 {
		t.Errorf("%d code blocks left in the prose, want 0 (the sessions replace them)", n)
	}
}

// TestHTMLEscapes checks that nothing from an article or an output can
// open a tag: <script> and </pre> in prose, commands and outputs come out
// as text.
func TestHTMLEscapes(t *testing.T) {
	docs := replayForHTML(t, "testdata/html/outcomes.md", "testdata/html/plain.rst", "testdata/html/page.html")
	var buf bytes.Buffer
	if err := writeHTML(&buf, docs); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"<script", "</script", "<b>", "alert(1)</"} {
		if strings.Contains(out, bad) {
			i := strings.Index(out, bad)
			t.Errorf("%q unescaped on the page: …%s…", bad, out[max(0, i-60):min(len(out), i+60)])
		}
	}
	// Every <pre> the template opens is closed by the template, none by
	// the content.
	if o, c := strings.Count(out, "<pre"), strings.Count(out, "</pre>"); o != c {
		t.Errorf("%d <pre> but %d </pre>", o, c)
	}
	page, err := goquery.NewDocumentFromReader(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if page.Find("script").Length() != 0 {
		t.Error("the page has a script element")
	}
	s := page.Find(`section[id="testdata/html/outcomes.md-L10"] pre.expected`).Text()
	if s != "<script>alert(1)</script>\n</pre>" {
		t.Errorf("output shown as %q", s)
	}
	if !strings.Contains(page.Find(`article[id="testdata/html/plain.rst"] .prose-text`).Text(), "A reST article <script>") {
		t.Error("reST prose not shown as text")
	}
	// An HTML article's prose is its text, without its tags or its head.
	var prose []string
	page.Find(`article[id="testdata/html/page.html"] .prose-text`).Each(func(_ int, p *goquery.Selection) { prose = append(prose, p.Text()) })
	if got, want := strings.Join(prose, "|"), "An HTML article <script>\n\nIts prose is shown as text.|The end."; got != want {
		t.Errorf("HTML prose %q, want %q", got, want)
	}
	if n := page.Find(`article[id="testdata/html/page.html"] section.step`).Length(); n != 2 {
		t.Errorf("%d steps of the HTML article, want 2", n)
	}
}

// TestHTMLReporter checks the reporter: documents in Plan order, whatever
// order they end in, and one page however often Close is called.
func TestHTMLReporter(t *testing.T) {
	var buf bytes.Buffer
	h := NewHTMLReporter(&buf)
	h.Begin([]string{"b.md", "a.md"})
	for _, p := range []string{"a.md", "b.md"} {
		h.StartDoc(p)
		h.EndDoc(&runner.DocResult{Path: p, Err: errors.New(p + ": broken")})
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Count(out, "<html") != 1 {
		t.Fatal("not one page")
	}
	if a, b := strings.Index(out, `<article id="a.md">`), strings.Index(out, `<article id="b.md">`); a < 0 || b < 0 || b > a {
		t.Errorf("articles not in plan order (a at %d, b at %d)", a, b)
	}
}

// FuzzHTMLReport: whatever the article and the output hold, the page has
// no element or attribute that could run code.
func FuzzHTMLReport(f *testing.F) {
	f.Add("# T <script>x</script>\n\n```console\n$ echo '</pre>'\n</pre>\n```\n", "<script>alert(1)</script>\n</pre>")
	f.Add("[a](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n```console\n$ x\n```\n", "\x1b[31m<b onclick=x>\n")
	f.Add("<div onmouseover=\"x\">\n\n```console\n$ echo\n```\n\n</div>\n", "&lt;&#x3c;")
	f.Add("<p onclick=x>a<script>b</script></p><pre>$ echo '</pre>'\n&lt;/pre&gt;</pre><style>x</style>", "</pre>")
	f.Fuzz(func(t *testing.T, article, output string) {
		for _, path := range []string{"a.md", "a.rst", "a.html"} {
			fuzzHTMLPage(t, path, article, output)
		}
	})
}

func fuzzHTMLPage(t *testing.T, path, article, output string) {
	doc, err := parser.Parse(path, []byte(article), parser.Config{})
	if err != nil {
		return
	}
	res := &runner.DocResult{Path: path, Doc: doc}
	for i, s := range doc.Steps() {
		r := &runner.StepResult{Step: s, Outcome: []runner.Outcome{runner.Passed, runner.Failed, runner.Errored, runner.Skipped, runner.NotRun}[i%5],
			Actual: output, Merged: output, Reason: output}
		if r.Outcome == runner.Failed {
			r.Diff = runner.UnifiedDiff(runner.NormLines(s.Expected), runner.NormLines(output), nil)
		}
		res.Steps = append(res.Steps, r)
	}
	var buf bytes.Buffer
	if err := writeHTML(&buf, []*runner.DocResult{res}); err != nil {
		t.Fatal(err)
	}
	page, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n := page.Find("script, iframe, object, embed, style:not(head style), form, base, meta[http-equiv]").Length(); n > 0 {
		t.Errorf("%d active elements in the page:\n%s", n, buf.String())
	}
	page.Find("*").Each(func(_ int, e *goquery.Selection) {
		for _, a := range e.Nodes[0].Attr {
			v := strings.ToLower(strings.TrimSpace(a.Val))
			if strings.HasPrefix(a.Key, "on") || ((a.Key == "href" || a.Key == "src") && (strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:text"))) {
				t.Errorf("attribute %s=%q on <%s>", a.Key, a.Val, e.Nodes[0].Data)
			}
		}
	})
}
