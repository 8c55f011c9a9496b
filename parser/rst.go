package parser

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/wordish-go/wordish/internal/tabs"
)

// rstLine is a source line with the tabs of its indentation expanded.
type rstLine struct {
	text       string // indentation's tabs expanded to 8-column stops, line ending removed
	indent     int    // leading spaces of text; -1 for a blank line
	num        int
	start, end int
}

var (
	rstCodeDirective = regexp.MustCompile(`^\.\.\s+(sourcecode|code-block|code|parsed-literal)::\s*(\S*)`)
	rstOptionLine    = regexp.MustCompile(`^:[^:\s][^:]*:`)
	rstWordish       = regexp.MustCompile(`^\.\.\s+wordish:(.*)$`)
	rstPrompt        = regexp.MustCompile(`^\.\.\s+prompt::(.*)$`)
	rstHighlight     = regexp.MustCompile(`^\.\.\s+highlight::\s*(\S*)`)
)

func rstLines(b []byte) []rstLine {
	src := string(b) // one copy; lines are substrings of it
	lines := make([]rstLine, 0, bytes.Count(b, []byte{'\n'})+1)
	i := bomLen(b)
	for num := 1; i < len(src); num++ {
		end := len(src)
		if j := strings.IndexByte(src[i:], '\n'); j >= 0 {
			end = i + j + 1
		}
		t := strings.TrimRight(src[i:end], "\r\n")
		t = expandIndent(t)
		ind := len(t) - len(strings.TrimLeft(t, " "))
		if strings.TrimSpace(t) == "" {
			ind = -1
		}
		lines = append(lines, rstLine{text: t, indent: ind, num: num, start: i, end: end})
		i = end
	}
	return lines
}

// expandIndent expands the tabs of a line's indentation to 8-column
// stops, as reST does to find its structure. The tabs after it stay: they
// are the article's text (a terminal shows them at its own stops, counted
// from the start of the line the output is on, not of the reST source).
func expandIndent(s string) string {
	n := len(s) - len(strings.TrimLeft(s, " \t"))
	if !strings.Contains(s[:n], "\t") {
		return s
	}
	return tabs.Expand(s[:n]) + s[n:]
}

// rstReader reads reStructuredText line by line: code directives,
// "::" literal blocks and sphinx-prompt's prompt directive.
type rstReader struct{}

func (rstReader) read(p *parse) error {
	lines := rstLines(p.doc.Source)
	var pending Options
	// The language of "::" literal blocks, set by ".. highlight:: LANG";
	// only a shell language changes how they read.
	literalLang := ""
	for i := 0; i < len(lines); {
		l := lines[i]
		if l.indent < 0 {
			i++
			continue
		}
		t := l.text[l.indent:]
		if !strings.HasPrefix(t, "..") {
			// Not explicit markup (the regexps are slow to say so).
		} else if m := rstWordish.FindStringSubmatch(t); m != nil {
			o, err := ParseOptions(m[1])
			if err != nil {
				return p.errorf(l.num, "%v", err)
			}
			pending = o
			i++
			continue
		} else if m := rstHighlight.FindStringSubmatch(t); m != nil {
			literalLang = ""
			if k := classify(m[1]); k == kindSession || k == kindScript {
				literalLang = m[1]
			}
			i++
			continue
		} else if m := rstPrompt.FindStringSubmatch(t); m != nil {
			var a promptArgs
			a.positional(strings.Fields(m[1]))
			j := i + 1
			for ; j < len(lines) && lines[j].indent > l.indent && rstOptionLine.MatchString(lines[j].text[lines[j].indent:]); j++ {
				name, val, _ := strings.Cut(lines[j].text[lines[j].indent+1:], ":")
				a.option(name, strings.TrimSpace(val))
			}
			end := rstBody(lines, j, l.indent)
			if b := p.rstBlockOf(lines[j:end], "", pending); b != nil {
				if err := p.addPromptBlock(b, a); err != nil {
					return err
				}
			}
			pending = Options{}
			i = end
			continue
		} else if m := rstCodeDirective.FindStringSubmatch(t); m != nil {
			j := i + 1
			// Directive options (":linenos:") run up to the first blank line.
			for j < len(lines) && lines[j].indent > l.indent && rstOptionLine.MatchString(lines[j].text[lines[j].indent:]) {
				j++
			}
			end := rstBody(lines, j, l.indent)
			if err := p.rstBlock(lines[j:end], m[2], pending); err != nil {
				return err
			}
			pending = Options{}
			i = end
			continue
		}
		if !strings.HasPrefix(t, "..") && strings.HasSuffix(t, "::") {
			// "Paragraph::" or a lone "::": a literal block follows when a
			// blank line and then more deeply indented lines do.
			j := i + 1
			if j < len(lines) && lines[j].indent < 0 {
				k := j
				for k < len(lines) && lines[k].indent < 0 {
					k++
				}
				if k < len(lines) && lines[k].indent > l.indent {
					end := rstBody(lines, j, l.indent)
					if err := p.rstBlock(lines[j:end], literalLang, pending); err != nil {
						return err
					}
					pending = Options{}
					i = end
					continue
				}
			}
		}
		i++
	}
	return nil
}

// rstBody returns the end of the indented body starting at j of a
// construct whose own line is indented by ind: the first non-blank line
// indented no deeper ends it.
func rstBody(lines []rstLine, j, ind int) int {
	for j < len(lines) && (lines[j].indent < 0 || lines[j].indent > ind) {
		j++
	}
	return j
}

func (p *parse) rstBlock(body []rstLine, lang string, opts Options) error {
	if b := p.rstBlockOf(body, lang, opts); b != nil {
		return p.addBlock(b)
	}
	return nil
}

// rstBlockOf makes a block of a directive's or literal block's body,
// nil when it is empty.
func (p *parse) rstBlockOf(body []rstLine, lang string, opts Options) *block {
	for len(body) > 0 && body[0].indent < 0 {
		body = body[1:]
	}
	for len(body) > 0 && body[len(body)-1].indent < 0 {
		body = body[:len(body)-1]
	}
	if len(body) == 0 {
		return nil
	}
	ind := -1
	for _, l := range body {
		if l.indent >= 0 && (ind < 0 || l.indent < ind) {
			ind = l.indent
		}
	}
	prefix := strings.Repeat(" ", ind)
	b := &block{lang: lang, opts: opts, editable: true, lines: make([]srcLine, len(body))}
	for k, l := range body {
		t := ""
		if l.indent >= 0 {
			t = l.text[ind:]
		}
		b.lines[k] = srcLine{text: t, num: l.num, start: l.start, end: l.end, prefix: prefix}
	}
	return b
}
