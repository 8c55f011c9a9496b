package parser

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	gmparser "github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// mdParser finds blocks only: code blocks are all we read, and inline
// parsing (emphasis, links...) would take most of the time. It also
// forgets the text of paragraphs, which would otherwise still be cut into
// text nodes.
var mdParser = gmparser.NewParser(
	gmparser.WithBlockParsers(gmparser.DefaultBlockParsers()...),
	// Definition lists (PHP Markdown Extra, Pandoc, mkdocs): a fence in a
	// ": description" closes where the reader sees it close.
	gmparser.WithBlockParsers(
		util.Prioritized(extension.NewDefinitionListParser(), 101),
		util.Prioritized(extension.NewDefinitionDescriptionParser(), 102),
	),
	gmparser.WithParagraphTransformers(util.Prioritized(dropText{}, 0)),
)

type dropText struct{}

func (dropText) Transform(n *ast.Paragraph, _ text.Reader, _ gmparser.Context) {
	n.SetLines(text.NewSegments())
}

// blockDirective matches the text of a "<!-- wordish: OPTIONS -->" comment.
var mdDirective = regexp.MustCompile(`^\s*<!--\s*wordish:((?s).*?)-->\s*$`)

// markdownReader reads CommonMark with goldmark: fenced and indented
// code blocks, wherever lists and quotes put them.
type markdownReader struct{}

func (markdownReader) read(p *parse) error {
	src := p.doc.Source
	off := bomLen(src)
	body := src[off:]
	if n := tooDeep(body); n > 0 {
		return p.errorf(n, "lists or block quotes nested deeper than %d levels", maxNesting)
	}
	root := mdParser.Parse(text.NewReader(body))
	li := newLineCounter(body)
	var err error
	walkErr := ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		var info string
		switch c := n.(type) {
		case *ast.FencedCodeBlock:
			if c.Info != nil {
				info = string(c.Info.Segment.Value(body))
			}
		case *ast.CodeBlock:
		default:
			return ast.WalkContinue, nil
		}
		b := &block{editable: true}
		if b.opts, err = p.mdBlockOptions(n, body, li); err != nil {
			return ast.WalkStop, err
		}
		segs := n.Lines()
		b.lines = make([]srcLine, 0, segs.Len())
		for i := 0; i < segs.Len(); i++ {
			seg := segs.At(i)
			start := bytes.LastIndexByte(body[:seg.Start], '\n') + 1
			end := len(body)
			if j := bytes.IndexByte(body[seg.Start:], '\n'); j >= 0 {
				end = seg.Start + j + 1
			}
			stop := min(seg.Stop, end)
			t := strings.TrimRight(string(body[seg.Start:stop]), "\r\n")
			if seg.Padding > 0 {
				t = strings.Repeat(" ", seg.Padding) + t
			}
			b.lines = append(b.lines, srcLine{
				text:   t,
				num:    li.lineOf(seg.Start),
				start:  off + start,
				end:    off + end,
				prefix: string(body[start:seg.Start]),
			})
		}
		if _, ok := n.(*ast.CodeBlock); ok {
			if parts := indentedFences(b.lines); parts != nil {
				for _, f := range parts {
					fb := *b
					fb.lines, fb.line = f.lines, 0
					if err := p.addFenced(&fb, f.info); err != nil {
						return ast.WalkStop, err
					}
				}
				return ast.WalkSkipChildren, nil
			}
		}
		return ast.WalkSkipChildren, p.addFenced(b, info)
	})
	if walkErr != nil {
		return walkErr
	}
	return err
}

// mdBlockOptions reads a "<!-- wordish: OPTIONS -->" comment just before
// the code block.
func (p *parse) mdBlockOptions(n ast.Node, body []byte, li *lineCounter) (Options, error) {
	h, ok := n.PreviousSibling().(*ast.HTMLBlock)
	if !ok || h.Lines().Len() == 0 {
		return Options{}, nil
	}
	var t []byte
	for i := 0; i < h.Lines().Len(); i++ {
		seg := h.Lines().At(i)
		t = append(t, seg.Value(body)...)
	}
	if h.HasClosure() {
		seg := h.ClosureLine
		t = append(t, seg.Value(body)...)
	}
	m := mdDirective.FindSubmatch(t)
	if m == nil {
		return Options{}, nil
	}
	o, err := ParseOptions(string(m[1]))
	if err != nil {
		return Options{}, p.errorf(li.lineOf(h.Lines().At(0).Start), "%v", err)
	}
	return o, nil
}

// fencedPart is a fenced block found inside an indented code block.
type fencedPart struct {
	lines []srcLine
	info  string
}

// indentedFences reads an indented code block that holds fences as the
// fenced blocks it is to the reader. CommonMark makes a fence indented
// four columns past a list item's text, or inside a Python-Markdown
// admonition ("!!! note" and an indented body), part of an indented code
// block, fence lines and the prose around them included, while
// Python-Markdown (mkdocs) and Pandoc, and the authors who indent that
// way, show fenced blocks. It returns the lines between each opening
// fence and its closing one (or the end of the block); nil when no line
// of the block opens a fence, and the block is what it looks like.
func indentedFences(lines []srcLine) []fencedPart {
	var parts []fencedPart
	for k := 0; k < len(lines); k++ {
		fence, info, ok := fenceOpener(lines[k].text)
		if !ok {
			continue
		}
		end := len(lines)
		for j := k + 1; j < len(lines); j++ {
			t := strings.TrimSpace(lines[j].text)
			if strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == "" {
				end = j
				break
			}
		}
		parts = append(parts, fencedPart{lines[k+1 : end], info})
		k = end
	}
	return parts
}

// fenceOpener reads a line that opens a fence: three or more "`" or "~"
// (a "`" fence's info string holds no "`").
func fenceOpener(t string) (fence, info string, ok bool) {
	t = strings.TrimLeft(t, " ")
	n := 0
	for n < len(t) && t[n] == t[0] {
		n++
	}
	if n < 3 || t[0] != '`' && t[0] != '~' || t[0] == '`' && strings.Contains(t[n:], "`") {
		return "", "", false
	}
	return t[:n], t[n:], true
}

// addFenced adds a code block with the given info string.
func (p *parse) addFenced(b *block, info string) error {
	lang, directive, args := infoLang(info)
	var a promptArgs
	a.positional(args)
	if directive != "" {
		// MyST directive options (":caption: x") open the body.
		k := 0
		for ; k < len(b.lines) && rstOptionLine.MatchString(b.lines[k].text); k++ {
			name, val, _ := strings.Cut(b.lines[k].text[1:], ":")
			a.option(name, strings.TrimSpace(val))
		}
		b.lines = b.lines[k:]
	}
	switch directive {
	case "", "code-block", "code", "sourcecode":
	case "prompt":
		return p.addPromptBlock(b, a)
	default:
		return nil // a MyST directive that holds no code
	}
	b.lang = lang
	return p.addBlock(b)
}
