package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	"golang.org/x/net/html"

	"github.com/wordish-go/wordish/parser"
	"github.com/wordish-go/wordish/runner"
)

// The HTML report (`wordish run --html FILE`): one self-contained page, no
// script, no external asset, readable offline from disk. It starts with
// the totals, one line per document and a link to every failed or errored
// step; then each article as its reader sees it: Markdown prose rendered
// by goldmark (raw HTML in the article omitted, as goldmark does by
// default), the prose of other formats as plain text, and in place of
// each shell session its steps, each with its verdict (passed, failed,
// errored, skipped, not run), its duration, the output it showed, and for
// a failure the diff and the expected and actual outputs, for an error
// the reason and the output. Every step has the anchor FILE-LLINE
// ("docs/tour.md-L42"), so a CI log can link straight to it. Everything
// that comes from an article or a command's output is escaped by
// html/template.

//go:embed html.tmpl
var htmlTemplate string

// htmlTmpl is parsed on first use: at init it cost every wordish
// process (and every session's reaper) 0.14 ms, the most of our own
// packages' initialisation.
var htmlTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Parse(htmlTemplate))
})

// HTMLReporter collects results and writes the HTML page to w on Close.
// Documents come in the order of Begin, else in the order they started.
// Safe for concurrent use.
type HTMLReporter struct {
	collector
	w io.Writer
}

// NewHTMLReporter returns a reporter that writes an HTML page to w on
// Close.
func NewHTMLReporter(w io.Writer) *HTMLReporter {
	return &HTMLReporter{collector: newCollector(), w: w}
}

// Close writes the page; documents planned but never ended (an interrupt
// before they started) are left out. A second Close does nothing.
func (h *HTMLReporter) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.close() {
		return nil
	}
	var all []*runner.DocResult
	for _, p := range h.order {
		all = append(all, h.docs[p]...)
	}
	return writeHTML(h.w, all)
}

// writeHTML writes the HTML report of docs to w.
func writeHTML(w io.Writer, docs []*runner.DocResult) error {
	page := buildPage(docs)
	var buf bytes.Buffer
	if err := htmlTmpl().Execute(&buf, page); err != nil {
		return fmt.Errorf("html report: %v", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ---- the page's data ----------------------------------------------------

type htmlPage struct {
	Totals   runner.Counts
	OK       bool
	Duration string
	Docs     []*htmlDoc
	Problems []*htmlStep // failed and errored steps, in page order
}

type htmlDoc struct {
	Path     string
	ID       string
	Href     template.URL
	Err      string
	Counts   runner.Counts
	OK       bool
	Duration string
	Parts    []htmlPart
}

// htmlPart is a piece of an article: prose (rendered Markdown or plain
// text) or the steps of one shell session.
type htmlPart struct {
	HTML  template.HTML // goldmark's rendering of Markdown prose
	Text  string        // plain-text prose
	Steps []*htmlStep
}

type htmlStep struct {
	ID       string       // anchor: FILE-LLINE
	Href     template.URL // "#" + ID, escaped as a URL fragment
	Where    string       // FILE:LINE
	Prompt   string
	Command  string
	Outcome  string
	Class    string // CSS class of the verdict
	Duration string
	Expected string
	Actual   string
	Diff     []htmlDiffLine
	Reason   string
	Output   string // errored: the transcript
	Deferred bool
	Ran      bool
}

type htmlDiffLine struct {
	Class string
	Text  string
}

func buildPage(docs []*runner.DocResult) *htmlPage {
	p := &htmlPage{}
	var total time.Duration
	for _, d := range docs {
		hd := &htmlDoc{Path: d.Path, ID: d.Path, Href: fragment(d.Path), Duration: fmtDuration(d.Duration, time.Millisecond)}
		total += d.Duration
		if d.Err != nil {
			hd.Err = d.Err.Error()
		}
		hd.Counts = d.Counts()
		hd.OK = d.Err == nil && hd.Counts.OK()
		p.Totals.Merge(hd.Counts)
		if d.Doc != nil {
			hd.Parts = docParts(d)
		}
		for _, part := range hd.Parts {
			for _, s := range part.Steps {
				if s.Outcome == string(runner.Failed) || s.Outcome == string(runner.Errored) {
					p.Problems = append(p.Problems, s)
				}
			}
		}
		p.Docs = append(p.Docs, hd)
	}
	p.OK = true
	for _, d := range p.Docs {
		p.OK = p.OK && d.OK
	}
	p.Duration = fmtDuration(total, time.Millisecond)
	return p
}

func fmtDuration(d time.Duration, round time.Duration) string {
	return d.Round(round).String()
}

// stepAnchor is the anchor of a step in the HTML report: "FILE-LLINE".
func stepAnchor(s *parser.Step) string {
	return fmt.Sprintf("%s-L%d", s.File, s.Line)
}

// fragment is "#id" as a link, with only the bytes a URL fragment cannot
// hold percent-encoded, so that "#docs/tour.md-L42" stays readable (html/
// template would encode the slashes too).
func fragment(id string) template.URL {
	var b strings.Builder
	b.WriteByte('#')
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"#%<>[\\]^`{|}'", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	// Safe as a URL: it starts with "#", so it can only point into the page.
	return template.URL(b.String())
}

func newHTMLStep(s *parser.Step, r *runner.StepResult) *htmlStep {
	hs := &htmlStep{
		ID:       stepAnchor(s),
		Href:     fragment(stepAnchor(s)),
		Where:    fmt.Sprintf("%s:%d", s.File, s.Line),
		Prompt:   s.Prompt,
		Command:  strings.TrimRight(s.Command, "\n"),
		Expected: s.Expected,
		Outcome:  string(runner.NotRun),
	}
	if hs.Prompt == "" {
		hs.Prompt = "$ "
	}
	if r == nil {
		hs.Reason = "no result (the run stopped before this step)"
	} else {
		hs.Outcome = string(r.Outcome)
		hs.Deferred = r.Deferred
		hs.Reason = r.Reason
		hs.Ran = r.Outcome == runner.Passed || r.Outcome == runner.Failed || r.Outcome == runner.Errored
		if hs.Ran {
			hs.Duration = fmtDuration(r.Duration, 100*time.Microsecond)
		}
		switch r.Outcome {
		case runner.Failed:
			hs.Actual = strings.TrimRight(r.Actual, "\n")
			hs.Diff = diffLines(r.Diff)
		case runner.Errored:
			hs.Output = strings.TrimRight(r.Merged, "\n")
			if hs.Reason == "" {
				hs.Reason = fmt.Sprintf("exit status %d", r.Status)
			}
		case runner.NotRun:
			if hs.Reason == "" {
				hs.Reason = "an earlier step errored"
			}
		}
	}
	hs.Class = strings.ReplaceAll(hs.Outcome, " ", "-")
	return hs
}

func diffLines(d string) []htmlDiffLine {
	var out []htmlDiffLine
	for _, l := range strings.Split(strings.TrimSuffix(d, "\n"), "\n") {
		c := "ctx"
		switch {
		case strings.HasPrefix(l, "---"), strings.HasPrefix(l, "+++"):
			c = "hdr"
		case strings.HasPrefix(l, "@@"):
			c = "hunk"
		case strings.HasPrefix(l, "-"):
			c = "del"
		case strings.HasPrefix(l, "+"):
			c = "add"
		case strings.HasPrefix(l, "~"):
			c = "wild"
		}
		out = append(out, htmlDiffLine{c, l})
	}
	return out
}

// span is a half-open byte range of the source.
type span struct{ start, end int }

func (a span) overlaps(b span) bool { return a.start < b.end && b.start < a.end }

// docParts cuts the document into prose and sessions, in source order.
func docParts(d *runner.DocResult) []htmlPart {
	doc := d.Doc
	byStep := map[*parser.Step]*runner.StepResult{}
	for _, r := range d.Steps {
		if r.Step != nil {
			byStep[r.Step] = r
		}
	}
	starts := lineStarts(doc.Source)
	var sessions []span
	var steps [][]*htmlStep
	for _, s := range doc.Blocks {
		if len(s.Steps) == 0 {
			continue
		}
		sp := span{lineOffset(starts, s.Steps[0].Line, len(doc.Source)), 0}
		var hs []*htmlStep
		for _, st := range s.Steps {
			// The command's lines and as many lines of output as it
			// shows: HTML pages have no OutputEnd (they are not
			// rewritten), and their output is one source line a line.
			lines := strings.Count(strings.TrimRight(st.Command, "\n"), "\n") + 1
			if st.Expected != "" {
				lines += strings.Count(st.Expected, "\n") + 1
			}
			end := lineOffset(starts, st.Line+lines, len(doc.Source))
			sp.end = max(sp.end, end, st.OutputEnd)
			hs = append(hs, newHTMLStep(st, byStep[st]))
		}
		sessions = append(sessions, sp)
		steps = append(steps, hs)
	}
	switch doc.Format {
	case parser.Markdown:
		return markdownParts(doc.Source, sessions, steps)
	case parser.HTML:
		var parts []htmlPart
		for _, p := range plainParts(doc.Source, sessions, steps) {
			if p.Steps == nil {
				if p.Text = htmlText(p.Text); p.Text == "" {
					continue
				}
			}
			parts = append(parts, p)
		}
		return parts
	}
	return plainParts(doc.Source, sessions, steps)
}

func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// lineOffset is the byte offset where 1-based line n starts (the end of
// the source past the last line).
func lineOffset(starts []int, n, size int) int {
	if n-1 < len(starts) && n >= 1 {
		return starts[n-1]
	}
	return size
}

// htmlText is the text a browser shows of a piece of an HTML page, one
// block a paragraph, roughly: the tags go, the text of head, script and
// style elements too. The pieces between sessions are not well-formed
// HTML, so this reads tokens rather than a tree.
func htmlText(src string) string {
	z := html.NewTokenizer(strings.NewReader(src))
	var b strings.Builder
	skip := 0 // inside head, script, style
	for {
		switch z.Next() {
		case html.ErrorToken:
			out := strings.TrimSpace(blankRuns.ReplaceAllString(b.String(), "\n\n"))
			return spaceRuns.ReplaceAllString(out, " ")
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			tok := z.Token()
			switch string(name) {
			case "head", "script", "style", "title":
				if tok.Type == html.StartTagToken {
					skip++
				} else if tok.Type == html.EndTagToken && skip > 0 {
					skip--
				}
			case "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "table", "tr", "br", "section", "article", "blockquote", "dd", "dt":
				b.WriteString("\n\n")
			}
		}
	}
}

var (
	blankRuns = regexp.MustCompile(`\s*\n\s*\n\s*`)
	spaceRuns = regexp.MustCompile(`[ \t]+`)
)

// plainParts shows the source between sessions as plain text.
func plainParts(src []byte, sessions []span, steps [][]*htmlStep) []htmlPart {
	var parts []htmlPart
	pos := 0
	prose := func(end int) {
		if end > pos {
			if t := strings.Trim(string(src[pos:end]), "\r\n"); strings.TrimSpace(t) != "" {
				parts = append(parts, htmlPart{Text: t})
			}
		}
	}
	for i, sp := range sessions {
		prose(sp.start)
		parts = append(parts, htmlPart{Steps: steps[i]})
		pos = max(pos, sp.end)
	}
	prose(len(src))
	return parts
}

var markdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(rawAsText{}, 100))),
)

// rawAsText renders the raw HTML of a Markdown article as text: the
// article is untrusted, and its directives (<!-- wordish: skip -->) are
// worth seeing. goldmark's default would drop it ("raw HTML omitted").
// Registered with a priority value below the HTML renderer's, so it wins.
type rawAsText struct{}

func (rawAsText) RegisterFuncs(r renderer.NodeRendererFuncRegisterer) {
	r.Register(ast.KindRawHTML, func(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			segs := n.(*ast.RawHTML).Segments
			w.WriteString(`<code class="raw">`)
			for i := 0; i < segs.Len(); i++ {
				seg := segs.At(i)
				template.HTMLEscape(w, seg.Value(src))
			}
			w.WriteString(`</code>`)
		}
		return ast.WalkSkipChildren, nil
	})
	r.Register(ast.KindHTMLBlock, func(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		b := n.(*ast.HTMLBlock)
		if entering {
			w.WriteString(`<pre class="raw">`)
			for i := 0; i < b.Lines().Len(); i++ {
				seg := b.Lines().At(i)
				template.HTMLEscape(w, seg.Value(src))
			}
			return ast.WalkContinue, nil
		}
		if b.HasClosure() {
			template.HTMLEscape(w, b.ClosureLine.Value(src))
		}
		w.WriteString("</pre>\n")
		return ast.WalkContinue, nil
	})
}

// markdownParts renders the top-level blocks of a Markdown article with
// goldmark, and puts the sessions in place of the blocks that hold them.
func markdownParts(src []byte, sessions []span, steps [][]*htmlStep) []htmlPart {
	root := markdown.Parser().Parse(text.NewReader(src))
	var parts []htmlPart
	done := make([]bool, len(sessions))
	var buf bytes.Buffer
	flush := func() {
		if buf.Len() > 0 {
			parts = append(parts, htmlPart{HTML: template.HTML(buf.String())})
			buf.Reset()
		}
	}
	for n := root.FirstChild(); n != nil; n = n.NextSibling() {
		sp, ok := nodeSpan(n)
		holds := false
		if ok {
			for i, s := range sessions {
				if s.overlaps(sp) {
					holds = true
					if !done[i] {
						flush()
						parts = append(parts, htmlPart{Steps: steps[i]})
						done[i] = true
					}
				}
			}
		}
		if holds {
			continue
		}
		if err := markdown.Renderer().Render(&buf, src, n); err != nil {
			// goldmark's renderer only fails on write errors, which a
			// bytes.Buffer never has; show the source rather than nothing.
			buf.Reset()
			if ok {
				parts = append(parts, htmlPart{Text: string(src[sp.start:sp.end])})
			}
		}
	}
	flush()
	for i := range sessions { // a session goldmark placed nowhere (cannot happen)
		if !done[i] {
			parts = append(parts, htmlPart{Steps: steps[i]})
		}
	}
	return parts
}

// nodeSpan is the byte range covered by the lines of a block and its
// descendants.
func nodeSpan(n ast.Node) (span, bool) {
	sp, ok := span{}, false
	ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering || c.Type() != ast.TypeBlock {
			return ast.WalkContinue, nil
		}
		lines := c.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			if !ok {
				sp, ok = span{seg.Start, seg.Stop}, true
				continue
			}
			sp.start, sp.end = min(sp.start, seg.Start), max(sp.end, seg.Stop)
		}
		return ast.WalkContinue, nil
	})
	return sp, ok
}
