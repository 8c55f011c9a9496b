package parser

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// htmlPre is the text of one <pre> element, line by line, with the HTML
// source line each line starts on.
type htmlPre struct {
	lines []string
	nums  []int
	fresh bool // the current (last) line has no character yet
	// directive is the OPTIONS of a "<!-- wordish: OPTIONS -->" comment
	// that comes before the <pre> with no text or other <pre> between,
	// at source line directiveLine (0: none).
	directive     string
	directiveLine int
	// spanBefore is what a style sheet inside the pre puts before every
	// span ("span:before { content: "$ " }"), "" if nothing.
	spanBefore string
}

// add appends text that is all on source line line: its newlines are
// the ones HTML reads where the source has none (a lone "\r", "&#10;").
func (b *htmlPre) add(s string, line int) {
	for {
		if b.fresh {
			b.nums[len(b.nums)-1] = line
			b.fresh = s == ""
		}
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			b.lines[len(b.lines)-1] += s
			return
		}
		b.lines[len(b.lines)-1] += s[:i]
		b.newline(line)
		s = s[i+1:]
	}
}

// addRaw appends the text of a text token from its source bytes, which
// start on line line, so that each line of the text knows its source
// line: entities decoded, "\r\n" and a lone "\r" read as a newline, as
// HTML does.
func (b *htmlPre) addRaw(raw []byte, line int) {
	s := string(raw)
	for {
		i := strings.IndexByte(s, '\n')
		seg := s
		if i >= 0 {
			seg = strings.TrimSuffix(s[:i], "\r")
		}
		if strings.ContainsAny(seg, "&\r") {
			seg = html.UnescapeString(strings.ReplaceAll(seg, "\r", "\n"))
		}
		b.add(seg, line)
		if i < 0 {
			return
		}
		s = s[i+1:]
		line++
		b.newline(line)
	}
}

func (b *htmlPre) newline(line int) {
	b.lines = append(b.lines, "")
	b.nums = append(b.nums, line)
	b.fresh = true
}

// htmlReader reads every <pre>. goquery gives each one's language from
// its own classes and its ancestors'; x/net/html's tokenizer, which
// goquery builds on, walks the same elements in the same order and knows
// where in the source each line of text comes from, which the parsed tree
// forgets.
type htmlReader struct{}

func (htmlReader) read(p *parse) error {
	body := p.doc.Source[bomLen(p.doc.Source):]
	gq, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return p.errorf(0, "%v", err)
	}
	var langs []string
	gq.Find("pre").Each(func(_ int, s *goquery.Selection) {
		langs = append(langs, htmlLang(s))
	})

	pres := htmlPres(body)
	if len(langs) != len(pres) {
		// The tree and the token stream disagree (markup the tree builder
		// drops, like a <pre> inside <frameset>): the languages cannot be
		// matched to the blocks, so take none and read every block as a
		// script, where "#" starts comments.
		langs = nil
	}
	for i, pre := range pres {
		lang := "sh"
		if langs != nil {
			lang = langs[i]
		}
		b := &block{lang: lang, unknownIsScript: true}
		if pre.directiveLine > 0 {
			o, err := ParseOptions(pre.directive)
			if err != nil {
				return p.errorf(pre.directiveLine, "%v", err)
			}
			b.opts = o
		}
		for k, t := range pre.lines {
			b.lines = append(b.lines, srcLine{text: t, num: pre.nums[k]})
		}
		if err := p.addBlock(b); err != nil {
			return err
		}
	}
	return nil
}

// htmlPres extracts the text of every <pre>, in document order, as a
// reader sees it: without line numbers (Sphinx "linenos", Hugo "ln",
// Zola's number cells), Asciidoctor callout markers, mdBook's hidden
// lines ("boring", shown only on request), or the style sheets
// sphinx-prompt writes inside the <pre>, and with the prompts that CSS
// puts before a span (sphinx-prompt's "span.prompt1:before").
func htmlPres(body []byte) []*htmlPre {
	w := &preWalk{z: html.NewTokenizer(bytes.NewReader(body)), before: cssBefore(body), line: 1}
	for {
		tt := w.z.Next()
		if tt == html.ErrorToken {
			return w.all
		}
		raw := w.z.Raw()
		startLine := w.line
		w.line += bytes.Count(raw, []byte{'\n'})
		conum := w.afterConum
		w.afterConum = false
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			w.startTag(tt == html.StartTagToken, conum, startLine)
		case html.EndTagToken:
			w.endTag()
		case html.CommentToken:
			if len(w.open) == 0 {
				if m := htmlDirective.FindStringSubmatch(string(w.z.Text())); m != nil {
					w.directive, w.directiveLine = m[1], startLine
				}
			}
		case html.TextToken:
			w.text(raw, startLine)
		}
	}
}

// preWalk is the state of htmlPres as it walks the tokens of a page.
type preWalk struct {
	z      *html.Tokenizer
	before map[string]string // cssBefore of the page
	line   int               // source line of the next token
	all    []*htmlPre
	open   []*htmlPre // the <pre>s the token is in, innermost last
	// Inside an element whose text is not the block's: its name, and how
	// deep elements of that name nest in it.
	skipName string
	skip     int
	cell     int // <td> cells seen in the current <tr> of a <pre>
	// The token after an Asciidoctor "<i class="conum"></i>" icon: its
	// "<b>(1)</b>" fallback is hidden by the style sheet.
	afterConum bool
	// A block directive, as in Markdown: the comment survives rendering
	// (goldmark with raw HTML, hand-written pages).
	directive     string
	directiveLine int
}

func (w *preWalk) startTag(start, conum bool, startLine int) {
	name, hasAttr := w.z.TagName()
	switch {
	case string(name) == "pre" && start:
		b := &htmlPre{lines: []string{""}, nums: []int{w.line}, fresh: true,
			directive: w.directive, directiveLine: w.directiveLine}
		w.directiveLine = 0
		w.all = append(w.all, b)
		w.open = append(w.open, b)
	case len(w.open) == 0:
	case string(name) == "br":
		w.open[len(w.open)-1].newline(w.line)
	case w.skip > 0:
		if string(name) == w.skipName && start {
			w.skip++
		}
	case !start:
	case conum && string(name) == "b":
		w.skipName, w.skip = "b", 1
	case string(name) == "style" || string(name) == "script":
		w.skipName, w.skip = string(name), 1
	case string(name) == "tr":
		w.cell = 0
	case string(name) == "td":
		// Zola's line numbers: the first cell of each row.
		if w.cell++; w.cell == 1 {
			w.skipName, w.skip = "td", 1
		}
	case hasAttr:
		w.classedTag(string(name), startLine)
	case string(name) == "span" && w.open[len(w.open)-1].spanBefore != "":
		// No attributes: a span the pre's own style sheet gives a
		// prompt.
		b := w.open[len(w.open)-1]
		b.add(b.spanBefore, startLine)
	}
}

// classedTag handles an element with attributes inside a <pre>: line
// numbers and callouts to skip, spans that CSS gives a prompt.
func (w *preWalk) classedTag(name string, startLine int) {
	cls := classAttr(w.z)
	b := w.open[len(w.open)-1]
	switch {
	case name == "span" && hasClass(cls, "linenos", "lineno", "line-number", "ln", "lnt"),
		hasClass(cls, "conum", "boring"):
		w.skipName, w.skip = name, 1
	case name == "span" && len(w.before) > 0:
		for _, c := range strings.Fields(cls) {
			if t, ok := w.before[c]; ok {
				b.add(t, startLine)
				break
			}
		}
	}
	if name == "span" && b.spanBefore != "" && cls == "" {
		b.add(b.spanBefore, startLine)
	}
}

func (w *preWalk) endTag() {
	name, _ := w.z.TagName()
	switch {
	case string(name) == "pre" && len(w.open) > 0:
		w.open = w.open[:len(w.open)-1]
		w.skip = 0
	case w.skip > 0 && string(name) == w.skipName:
		if w.skip--; w.skip == 0 && w.skipName == "i" {
			w.afterConum = true // only conum icons are skipped <i>s
		}
	}
}

func (w *preWalk) text(raw []byte, startLine int) {
	if len(w.open) == 0 && strings.TrimSpace(string(w.z.Text())) != "" {
		w.directiveLine = 0 // prose between: the comment was not for a block
	}
	if len(w.open) > 0 && w.skip > 0 && w.skipName == "style" {
		// Early sphinx-prompt: "<style scoped>span:before {
		// content: "$ "; }</style>" in the pre, plain spans after.
		if m := cssSpanBefore.FindSubmatch(w.z.Text()); m != nil {
			w.open[len(w.open)-1].spanBefore = cssString(m[1])
		}
	}
	if len(w.open) == 0 || w.skip > 0 {
		return
	}
	b := w.open[len(w.open)-1]
	if len(b.lines) == 1 && b.lines[0] == "" && b.fresh {
		// HTML drops a newline right after <pre>.
		switch {
		case bytes.HasPrefix(raw, []byte("\r\n")):
			raw, startLine = raw[2:], startLine+1
		case bytes.HasPrefix(raw, []byte("\n")):
			raw, startLine = raw[1:], startLine+1
		case bytes.HasPrefix(raw, []byte("\r")):
			raw = raw[1:]
		}
	}
	b.addRaw(raw, startLine)
}

// cssBefore finds the "span.CLASS:before { content: "TEXT" }" rules (or
// ".CLASS::before") of a page's style sheets, which apply to spans: sphinx-prompt shows its prompts that way, so that
// copying a command leaves them behind, and a reader still sees them.
func cssBefore(body []byte) map[string]string {
	if !bytes.Contains(body, []byte(":before")) {
		return nil
	}
	m := map[string]string{}
	for _, r := range cssBeforeRule.FindAllSubmatch(body, -1) {
		m[string(r[1])] = cssString(r[2])
	}
	return m
}

// cssString decodes the escapes of a CSS string's text.
func cssString(b []byte) string {
	return strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(string(b))
}

var cssSpanBefore = regexp.MustCompile(`(?:^|[\s,}>;])span::?before\s*\{\s*content:\s*"((?:[^"\\\n]|\\.)*)"`)

var cssBeforeRule = regexp.MustCompile(`(?:^|[\s,}>;])(?:span)?\.([A-Za-z0-9_-]+)::?before\s*\{\s*content:\s*"((?:[^"\\\n]|\\.)*)"`)

// htmlDirective matches the text of a "<!-- wordish: OPTIONS -->" comment.
var htmlDirective = regexp.MustCompile(`^\s*wordish:((?s).*?)\s*$`)

// classAttr returns the class attribute of the tag just read.
func classAttr(z *html.Tokenizer) string {
	for {
		k, v, more := z.TagAttr()
		if string(k) == "class" {
			return string(v)
		}
		if !more {
			return ""
		}
	}
}

func hasClass(cls string, names ...string) bool {
	for _, c := range strings.Fields(cls) {
		for _, n := range names {
			if c == n {
				return true
			}
		}
	}
	return false
}

// htmlLang finds a <pre>'s language in the classes of the pre, its <code>
// child and its ancestors: "language-X", "lang-X" (Markdown renderers,
// mdBook, Zola, Asciidoctor; on the parent or grandparent: Jekyll,
// MkDocs), "highlight-X" (Sphinx), "highlight-source-X"
// and "highlight-text-X" (GitHub), a shell language's bare name (Pandoc's
// "sourceCode console", "<pre class="console">"), and in a data-lang
// or data-language attribute (Asciidoctor with Rouge or Pygments, Zola,
// Astro). What follows a ","
// is an attribute ("language-shell,hidelines=#").
func htmlLang(pre *goquery.Selection) string {
	code := pre.Children().Filter("code")
	if l := classLang(code, codePrefixes, true); l != "" {
		return l
	}
	if l := classLang(pre, codePrefixes, true); l != "" {
		return l
	}
	up := 0
	for s := pre.Parent(); s.Length() > 0; s = s.Parent() {
		prefixes := divPrefixes
		if up++; up <= 2 {
			// The wrappers of Jekyll ("language-console
			// highlighter-rouge") and MkDocs ("language-console
			// highlight") are the pre's parent or grandparent.
			prefixes = codePrefixes
		}
		if l := classLang(s, prefixes, false); l != "" {
			return l
		}
	}
	for _, s := range []*goquery.Selection{code, pre} {
		if s.Length() == 0 {
			continue
		}
		for _, a := range []string{"data-lang", "data-language"} {
			if l, ok := s.First().Attr(a); ok && l != "" {
				return cutAttrs(l)
			}
		}
	}
	return ""
}

var (
	codePrefixes = []string{"language-", "lang-", "highlight-source-", "highlight-text-", "highlight-"}
	// Ancestors only count for highlighting wrappers: a "lang-en" on <body>
	// is a human language.
	divPrefixes = []string{"highlight-source-", "highlight-text-", "highlight-"}
)

// classLang finds a language in the classes of s's first element: behind
// one of prefixes or, when bare is set, a shell language's own name.
func classLang(s *goquery.Selection, prefixes []string, bare bool) string {
	if s.Length() == 0 {
		return ""
	}
	cls, _ := s.First().Attr("class")
	for _, c := range strings.Fields(cls) {
		for _, pfx := range prefixes {
			if l, ok := strings.CutPrefix(c, pfx); ok && l != "" {
				if l = cutAttrs(l); l != "" {
					return l
				}
			}
		}
	}
	if bare {
		for _, c := range strings.Fields(cls) {
			if k := classify(c); k == kindSession || k == kindScript {
				return c
			}
		}
	}
	return ""
}

// cutAttrs removes the attributes that follow a language after a ",".
func cutAttrs(l string) string {
	l, _, _ = strings.Cut(l, ",")
	return l
}
