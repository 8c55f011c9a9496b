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
}

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
		line++
	}
}

func (b *htmlPre) newline(line int) {
	b.lines = append(b.lines, "")
	b.nums = append(b.nums, line)
	b.fresh = true
}

// html reads every <pre>. goquery gives each one's language from its own
// classes and its ancestors'; x/net/html's tokenizer, which goquery builds
// on, walks the same elements in the same order and knows where in the
// source each line of text comes from, which the parsed tree forgets.
func (p *parse) html() error {
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
		b := &block{lang: lang}
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

// htmlPres extracts the text of every <pre>, in document order.
func htmlPres(body []byte) []*htmlPre {
	z := html.NewTokenizer(bytes.NewReader(body))
	var all, open []*htmlPre
	line := 1
	skip := 0 // depth inside elements whose text is not the block's (line numbers)
	// A block directive, as in Markdown: the comment survives rendering
	// (goldmark with raw HTML, hand-written pages).
	var directive string
	directiveLine := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return all
		}
		raw := z.Raw()
		startLine := line
		line += bytes.Count(raw, []byte{'\n'})
		name, hasAttr := z.TagName()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			switch {
			case string(name) == "pre" && tt == html.StartTagToken:
				b := &htmlPre{lines: []string{""}, nums: []int{line}, fresh: true,
					directive: directive, directiveLine: directiveLine}
				directiveLine = 0
				all = append(all, b)
				open = append(open, b)
			case len(open) == 0:
			case string(name) == "br":
				open[len(open)-1].newline(line)
			case skip > 0:
				if string(name) == "span" && tt == html.StartTagToken {
					skip++
				}
			case string(name) == "span" && hasAttr && tt == html.StartTagToken && isLineNumber(z):
				skip = 1
			}
		case html.EndTagToken:
			switch {
			case string(name) == "pre" && len(open) > 0:
				open = open[:len(open)-1]
				skip = 0
			case string(name) == "span" && skip > 0:
				skip--
			}
		case html.CommentToken:
			if len(open) == 0 {
				if m := htmlDirective.FindStringSubmatch(string(z.Text())); m != nil {
					directive, directiveLine = m[1], startLine
				}
			}
		case html.TextToken:
			if len(open) == 0 && strings.TrimSpace(string(z.Text())) != "" {
				directiveLine = 0 // prose between: the comment was not for a block
			}
			if len(open) == 0 || skip > 0 {
				continue
			}
			b := open[len(open)-1]
			t := string(z.Text())
			if len(b.lines) == 1 && b.lines[0] == "" && b.fresh && strings.HasPrefix(t, "\n") {
				// HTML drops a newline right after <pre>.
				t = t[1:]
				startLine++
			}
			b.add(t, startLine)
		}
	}
}

// htmlDirective matches the text of a "<!-- wordish: OPTIONS -->" comment.
var htmlDirective = regexp.MustCompile(`^\s*wordish:((?s).*?)\s*$`)

// isLineNumber reports a <span class="linenos"> (Sphinx, Pygments), whose
// text is a line number and not part of the code.
func isLineNumber(z *html.Tokenizer) bool {
	for {
		k, v, more := z.TagAttr()
		if string(k) == "class" {
			for _, c := range strings.Fields(string(v)) {
				if c == "linenos" || c == "lineno" || c == "line-number" {
					return true
				}
			}
		}
		if !more {
			return false
		}
	}
}

// htmlLang finds a <pre>'s language in the classes of the pre, its <code>
// child and its ancestors: "language-X", "lang-X" (Markdown renderers,
// mdBook), "highlight-X" (Sphinx), "highlight-source-X" and
// "highlight-text-X" (GitHub).
func htmlLang(pre *goquery.Selection) string {
	if l := classLang(pre.Children().Filter("code"), codePrefixes); l != "" {
		return l
	}
	if l := classLang(pre, codePrefixes); l != "" {
		return l
	}
	for s := pre.Parent(); s.Length() > 0; s = s.Parent() {
		if l := classLang(s, divPrefixes); l != "" {
			return l
		}
	}
	if l, ok := pre.Attr("data-lang"); ok {
		return l
	}
	return ""
}

var (
	codePrefixes = []string{"language-", "lang-", "highlight-source-", "highlight-text-", "highlight-"}
	// Ancestors only count for highlighting wrappers: a "lang-en" on <body>
	// is a human language.
	divPrefixes = []string{"highlight-source-", "highlight-text-", "highlight-"}
)

func classLang(s *goquery.Selection, prefixes []string) string {
	if s.Length() == 0 {
		return ""
	}
	cls, _ := s.First().Attr("class")
	for _, c := range strings.Fields(cls) {
		for _, pfx := range prefixes {
			if l, ok := strings.CutPrefix(c, pfx); ok && l != "" {
				return l
			}
		}
	}
	return ""
}
